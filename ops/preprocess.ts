/**
 * {@linkcode preprocess}: a WAV corpus to an HDF5 feature cache, as the original pipeline
 * builds it: the dataset plugin finds the audio, {@linkcode AudioSource} decodes it,
 * {@linkcode FeatureStream} resamples and runs the extractors on workers, and the standard
 * write pipeline stores the features. Resumable: indexed keys are not even read.
 *
 * @module
 */
import { CacheError, ConfigError, errorMessage } from "../errors.ts";
import type { ExtractorSpec } from "../extractors/registry.ts";
import { checkW2vBertExport } from "../extractors/w2v_bert.ts";
import type { Preprocessing } from "../config/schema.ts";
import { defaultBatchSize } from "../config/schema.ts";
import { type ModelSettings, modelSettings, resolvePreprocessing } from "../config/settings.ts";
import {
  type ExecutionProvider,
  type ExecutionProviderChoice,
  resolveExecutionProvider,
} from "../extractors/execution_provider.ts";
import { createExtractor } from "../extractors/registry.ts";
import { join } from "../util/path.ts";
import { ModelWorker } from "../extractors/model_thread.ts";
import { MelSpectrogram } from "../audio/mel.ts";
import { parseMelOptions } from "../extractors/mel.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import { getPlugin } from "../plugins/registry.ts";
import { AudioSource } from "../stages/audio_source.ts";
import { FeatureStream } from "../stages/feature_stream.ts";
import { corpusHint } from "./corpus_hint.ts";
import {
  checkSamePartition,
  type Partition,
  partitionKeys,
  type PartitionRange,
} from "./partition.ts";
import {
  type CacheOrigin,
  checkTargetCache,
  type FeatureSettings,
  realPathOr,
} from "./target_check.ts";
import { indexedKeys, type PackOptions, packWith, type RunReport } from "./pack.ts";

/** `semanticModel` that leaves the semantic feature out. */
export const NO_SEMANTIC_MODEL = "none";

/** Options of {@linkcode preprocess}. */
export interface PreprocessOptions extends PackOptions {
  /** The corpus, laid out as the plugin expects. */
  dataRoot: string;
  /** The HDF5 cache to create or continue. */
  processedDir: string;
  /** Dataset plugin: a registered name, a module path, or a plugin. */
  plugin: string | DatasetPlugin;
  /**
   * The semantic model (`semantic_model.model_name`): a directory made by
   * scripts/export_w2v_bert.py, or `"none"` to compute only the other features. Default: the
   * config schema's `semantic_model.model_name`, `"none"` (the CLI's default too).
   */
  semanticModel?: string;
  /**
   * `semantic_model.output_layer`: must equal the export's layer when given (else a
   * LayerMismatchError, exit 2); left out, the export's layer is used.
   */
  outputLayer?: number;
  /** ONNX Runtime threads of the semantic model (one session per run); default: all cores. */
  intraOpThreads?: number;
  /**
   * `semantic_model.execution_provider`: `auto` (default) takes WebGPU when a GPU adapter is
   * found, else the CPU; `webgpu` or `cuda` that cannot run here stop the run before any audio
   * is read (ExecutionProviderError).
   */
  executionProvider?: ExecutionProviderChoice;
  /**
   * `semantic_model.batch_size`: clips per batch of the semantic model; 0 or left out: 8 on a
   * GPU, 4 on the CPU.
   */
  batchSize?: number;
  /** Called before anything is read, with how the semantic model will run (not without one). */
  onModel?: (model: SemanticRun) => void;
  /** More extractors (a user's own, by module path), run after the built-in ones. */
  extractors?: ExtractorSpec[];
  /** Take only partition `index` of `count` of the sorted keys (an array job's task). */
  partition?: Partition;
  /**
   * Called once the files are discovered: how many (of this partition, when one is given),
   * how many still to process, and the partition's range of the corpus's sorted keys.
   */
  onDiscovered?: (total: number, todo: number, partition?: PartitionRange) => void;
  /** Called as files are decoded, with the seconds of audio decoded so far by this run. */
  onAudio?: (seconds: number) => void;
}

/** What {@linkcode preprocess} did: the write pipeline's report and the audio it read. */
export interface PreprocessReport extends RunReport {
  /** Seconds of audio decoded by this run (files already indexed are not read). */
  audioSeconds: number;
}

/** How a run's semantic model runs, as {@linkcode PreprocessOptions.onModel} reports it. */
export interface SemanticRun {
  /** The export directory. */
  model: string;
  /** The hidden_states index it outputs. */
  layer: number;
  /** The execution provider chosen. */
  executionProvider: ExecutionProvider;
  /** Why that provider (asked for, adapter found, no adapter and why). */
  reason: string;
  /** Clips per batch. */
  batchSize: number;
}

/**
 * The extractors a run uses: the mel (unless `extract_mel` is off), the semantic model, extras.
 * `p` and `model` are the run's settings, resolved once by {@linkcode preprocess}.
 */
export function runExtractors(
  options: PreprocessOptions,
  p: Readonly<Preprocessing> = resolvePreprocessing(options.preprocessing),
  model: ModelSettings = modelSettings(options),
): ExtractorSpec[] {
  const specs: ExtractorSpec[] = [];
  if (p.extract_mel) {
    // Bad mel settings throw here, before any audio is read, not once per file on the workers.
    new MelSpectrogram(parseMelOptions(p.mel_config));
    specs.push({ name: "mel", options: { ...p.mel_config } });
  }
  if (model.modelDir !== NO_SEMANTIC_MODEL) {
    // On the workers only the front end (fbank): the model itself runs once, in preprocess().
    specs.push({
      name: "w2v-bert",
      options: {
        model_name: model.modelDir,
        ...(model.outputLayer === undefined ? {} : { output_layer: model.outputLayer }),
        frontend_only: true,
      },
    });
  }
  specs.push(...options.extractors ?? []);
  if (specs.length === 0) {
    throw new ConfigError(
      "preprocessing.extract_mel",
      false,
      `true when the semantic model is "none" and no other extractor is given (nothing to compute)`,
    );
  }
  return specs;
}

/**
 * What decides the features `extractors` store (runtime settings such as threads and the
 * execution provider left out): recorded per cache and compared when a run resumes it.
 */
export function featureSettings(extractors: readonly ExtractorSpec[]): FeatureSettings {
  const mel = extractors.find((e) => e.name === "mel");
  const semantic = extractors.find((e) => e.name === "w2v-bert");
  const model = semantic?.options?.model_name;
  const others = extractors.filter((e) => e !== mel && e !== semantic && e.options !== undefined);
  return {
    semantic_model: typeof model === "string" ? realPathOr(model) : NO_SEMANTIC_MODEL,
    ...(semantic ? { output_layer: semantic.options?.output_layer as number } : {}),
    ...(mel ? { mel_config: { ...mel.options } } : {}),
    extractors: extractors.map((e) => e.name),
    ...(others.length
      ? { extractor_options: Object.fromEntries(others.map((e) => [e.name, e.options])) }
      : {}),
  };
}

/** Feature workers for `num_audio_workers`: no more than the machine has cores. */
export function audioWorkers(numAudioWorkers: number): number {
  return Math.max(1, Math.min(numAudioWorkers, navigator.hardwareConcurrency || 2));
}

async function discover(plugin: DatasetPlugin, dataRoot: string): Promise<SampleRef[]> {
  const info = await Deno.stat(dataRoot).catch((e) => {
    throw new CacheError(dataRoot, `cannot read the data root: ${errorMessage(e)}`, { cause: e });
  });
  if (!info.isDirectory) throw new CacheError(dataRoot, "the data root is not a directory");
  const refs: SampleRef[] = [];
  try {
    for await (const ref of plugin.discover(dataRoot)) refs.push(ref);
  } catch (e) {
    // A wrong folder (wavs/ itself, a cache) is said with what to give instead.
    const hint = corpusHint(dataRoot, plugin);
    if (hint?.startsWith("this ")) throw new CacheError(dataRoot, hint, { cause: e });
    if (e instanceof CacheError && !hint) throw e;
    const message = e instanceof CacheError
      ? errorMessage(e)
      : `${plugin.name}: ${errorMessage(e)}`;
    throw new CacheError(dataRoot, hint ? `${message}; ${hint}` : message, { cause: e });
  }
  if (refs.length === 0) {
    const hint = corpusHint(dataRoot, plugin);
    throw new CacheError(
      dataRoot,
      `no audio found: the ${plugin.name} plugin looked for ${
        plugin.description || "its audio files"
      }${hint?.startsWith("this ") ? `; ${hint}` : ""}`,
    );
  }
  return refs;
}

/**
 * Preprocesses the corpus under `dataRoot` into `processedDir` and reports what happened.
 * Files that fail (after `max_retries` retries) go to `error_log.json`; the rest are stored.
 *
 * @example
 * ```ts ignore
 * import { preprocess } from "./preprocess.ts";
 *
 * const report = await preprocess({
 *   dataRoot: "data/LJSpeech-1.1",
 *   processedDir: "data/processed_maskgct/ljspeech",
 *   plugin: "ljspeech",
 *   preprocessing: { num_audio_workers: 2 },
 * });
 * console.log(report.written, report.failed);
 * ```
 */
export async function preprocess(options: PreprocessOptions): Promise<PreprocessReport> {
  const plugin = typeof options.plugin === "string"
    ? await getPlugin(options.plugin)
    : options.plugin;
  // Settings are resolved here, once, and handed down.
  const p = resolvePreprocessing(options.preprocessing);
  let model = modelSettings(options);
  const modelDir = model.modelDir;
  // The export decides the layer; a wrong model (HF name, other layer, no ONNX file) and an
  // execution provider that cannot run here stop the run before any audio is read. The check
  // reads the export's JSON and the ONNX file's first bytes; no session is opened yet.
  let semanticRun: SemanticRun | undefined;
  let paddingValue = 1;
  let hiddenSize = 0;
  if (modelDir !== NO_SEMANTIC_MODEL) {
    const info = await checkW2vBertExport(modelDir, model.outputLayer);
    const { provider, reason } = await resolveExecutionProvider(model.executionProvider);
    const batchSize = model.batchSize || defaultBatchSize(provider);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ConfigError("semantic_model.batch_size", options.batchSize, "an integer >= 0");
    }
    semanticRun = {
      model: modelDir,
      layer: info.layer,
      executionProvider: provider,
      reason,
      batchSize,
    };
    ({ paddingValue, hidden_size: hiddenSize } = info);
    model = { ...model, outputLayer: info.layer };
    options.onModel?.(semanticRun);
  }
  const extractors = runExtractors(options, p, model);
  const settings = featureSettings(extractors);
  const origin: CacheOrigin = {
    command: "preprocess",
    dataset: plugin.name,
    source: realPathOr(options.dataRoot),
  };
  // A cache of another corpus, or made with other feature settings, is refused before anything
  // is read or written.
  checkTargetCache(options.processedDir, {
    origin,
    featureSettings: settings,
    overwrite: p.overwrite_existing,
    onWarning: options.onWarning,
  });
  let refs = await discover(plugin, options.dataRoot);
  let partition: { partition: PartitionRange } | undefined;
  if (options.partition) {
    const part = partitionKeys(refs.map((r) => r.key), options.partition, p.samples_per_hdf5);
    checkSamePartition(options.processedDir, part.range);
    refs = refs.slice(part.range.start, part.range.end);
    partition = { partition: part.range };
  }
  const done = p.overwrite_existing ? new Set<string>() : indexedKeys(options.processedDir);
  const todo = refs.filter((ref) => !done.has(ref.key));
  // Settings and modules that cannot work stop the run here, not once per file on the workers.
  for (const spec of options.extractors ?? []) await (await createExtractor(spec)).close?.();
  options.onDiscovered?.(refs.length, todo.length, partition?.partition);
  let audioSeconds = 0;
  // One session for the whole run, on a worker of its own, fed by the workers' front ends.
  const worker = semanticRun && todo.length > 0
    ? await ModelWorker.open(join(modelDir, "model.onnx"), {
      provider: semanticRun.executionProvider,
      intraOpThreads: model.intraOpThreads,
      hiddenSize,
      paddingValue,
    })
    : undefined;
  const source = new AudioSource(todo, {
    prefetchSize: p.prefetch_size,
    maxRetries: p.max_retries,
    retryDelay: p.retry_delay,
    maxAudioSeconds: p.max_audio_seconds,
  }).pipeThrough(
    new TransformStream({
      transform(item, controller) {
        // Audio hours and audio seconds per second are what a person measures a run by.
        if ("audio" in item) {
          audioSeconds += item.audio.length / item.sampleRate;
          options.onAudio?.(audioSeconds);
        }
        controller.enqueue(item);
      },
    }),
  ).pipeThrough(
    new FeatureStream({
      extractors,
      workers: audioWorkers(p.num_audio_workers),
      model: worker,
      batchSize: semanticRun?.batchSize,
    }),
  );
  const report = await packWith(source, options.processedDir, p, {
    dataset: plugin.name,
    ...options,
    metadata: {
      total_files: refs.length,
      semantic_model: modelDir,
      extract_mel: p.extract_mel,
      pipeline_config: {
        num_audio_workers: p.num_audio_workers,
        num_save_workers: p.num_save_workers,
        prefetch_size: p.prefetch_size,
      },
      mel_config: p.mel_config,
      extractors: extractors.map((e) => e.name),
      data_root: options.dataRoot,
      origin,
      feature_settings: settings,
      ...(semanticRun
        ? {
          output_layer: semanticRun.layer,
          execution_provider: semanticRun.executionProvider,
          batch_size: semanticRun.batchSize,
        }
        : {}),
      ...partition,
      ...options.metadata,
    },
  }).finally(() => worker?.close());
  report.skipped += refs.length - todo.length;
  return { ...report, audioSeconds };
}
