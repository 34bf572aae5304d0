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
import w2vBert from "../extractors/w2v_bert.ts";
import { createExtractor } from "../extractors/registry.ts";
import { MelSpectrogram } from "../formats/mel.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import { getPlugin } from "../plugins/registry.ts";
import { AudioSource } from "../stages/audio_source.ts";
import { FeatureStream } from "../stages/feature_stream.ts";
import { checkSamePartition, type Partition, partitionKeys } from "./partition.ts";
import {
  type CacheOrigin,
  checkTargetCache,
  type FeatureSettings,
  realPathOr,
} from "./target_check.ts";
import {
  indexedKeys,
  pack,
  type PackOptions,
  resolvePreprocessing,
  type RunReport,
} from "./pack.ts";

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
   * scripts/export_w2v_bert.py, or `"none"` (the default) to compute only the other features.
   */
  semanticModel?: string;
  /** `semantic_model.output_layer`, handed to the semantic extractor. Default 17. */
  outputLayer?: number;
  /**
   * ONNX Runtime threads of each feature worker's semantic model; default: the cores shared
   * among the workers (at least 1), so workers do not fight over cores.
   */
  intraOpThreads?: number;
  /** `cpu` (default) or `cuda` (ONNX Runtime's CUDA build; untested here). */
  executionProvider?: "cpu" | "cuda";
  /** More extractors (a user's own, by module path), run after the built-in ones. */
  extractors?: ExtractorSpec[];
  /** Take only partition `index` of `count` of the sorted keys (an array job's task). */
  partition?: Partition;
  /** Called once the files are discovered: how many, and how many still to process. */
  onDiscovered?: (total: number, todo: number) => void;
}

/** The extractors a run uses: the mel (unless `extract_mel` is off), the semantic model, extras. */
export function runExtractors(options: PreprocessOptions): ExtractorSpec[] {
  const p = resolvePreprocessing(options.preprocessing);
  const specs: ExtractorSpec[] = [];
  if (p.extract_mel) {
    // Bad mel settings throw here, before any audio is read, not once per file on the workers.
    new MelSpectrogram(p.mel_config);
    specs.push({ name: "mel", options: { ...p.mel_config } });
  }
  const model = options.semanticModel ?? NO_SEMANTIC_MODEL;
  if (model !== NO_SEMANTIC_MODEL) {
    const workers = audioWorkers(p.num_audio_workers);
    const cores = navigator.hardwareConcurrency || 2;
    specs.push({
      name: "w2v-bert",
      options: {
        model_name: model,
        output_layer: options.outputLayer ?? 17,
        intra_op_threads: options.intraOpThreads ?? Math.max(1, Math.floor(cores / workers)),
        execution_provider: options.executionProvider ?? "cpu",
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
    if (e instanceof CacheError) throw e;
    throw new CacheError(dataRoot, `${plugin.name}: ${errorMessage(e)}`, { cause: e });
  }
  if (refs.length === 0) {
    throw new CacheError(
      dataRoot,
      `no audio found: the ${plugin.name} plugin looked for ${
        plugin.description || "its audio files"
      }`,
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
export async function preprocess(options: PreprocessOptions): Promise<RunReport> {
  const plugin = typeof options.plugin === "string"
    ? await getPlugin(options.plugin)
    : options.plugin;
  const p = resolvePreprocessing(options.preprocessing);
  const extractors = runExtractors(options);
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
  // A wrong model (HF name, other layer, corrupt file) stops the run before any audio is read,
  // rather than failing every file on the workers.
  const semantic = extractors.find((e) => e.name === "w2v-bert");
  if (semantic) await (await w2vBert(semantic.options ?? {})).close?.();
  let refs = await discover(plugin, options.dataRoot);
  let partition: Record<string, unknown> | undefined;
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
  options.onDiscovered?.(refs.length, todo.length);
  const source = new AudioSource(todo, {
    prefetchSize: p.prefetch_size,
    maxRetries: p.max_retries,
    retryDelay: p.retry_delay,
    maxAudioSeconds: p.max_audio_seconds,
  }).pipeThrough(new FeatureStream({ extractors, workers: audioWorkers(p.num_audio_workers) }));
  const report = await pack(source, options.processedDir, {
    dataset: plugin.name,
    ...options,
    metadata: {
      total_files: refs.length,
      semantic_model: options.semanticModel ?? NO_SEMANTIC_MODEL,
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
      ...partition,
      ...options.metadata,
    },
  });
  report.skipped += refs.length - todo.length;
  return report;
}
