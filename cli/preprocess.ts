/**
 * `h5shard preprocess`: a WAV corpus to an HDF5 feature cache.
 *
 * @module
 */
import { AUTO_BATCH_SIZE, WRITE_KEYS } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import {
  EXECUTION_PROVIDERS,
  type ExecutionProviderChoice,
} from "../extractors/execution_provider.ts";
import type { PreprocessingKey } from "../config.ts";
import { emptyPartitionNote } from "../ops/partition.ts";
import { NO_SEMANTIC_MODEL, preprocess } from "../ops/preprocess.ts";
import { type Command, datasetOption, effectiveConfig, UsageError } from "./command.ts";
import { partitionOption, partitionValue } from "./partition_option.ts";
import { printRunReport } from "./migrate.ts";
import { ProgressBar } from "./progress.ts";
import { watchInterrupts } from "./interrupt.ts";

/** A module path as the user meant it: relative to the working directory the CLI was given. */
function resolve(cwd: string, path: string): string {
  return path.startsWith("/") || path.startsWith("file:") ? path : `${cwd}/${path}`;
}

/**
 * `0.42 h of audio (1512 s), 123.4 audio s per s`: how much audio, and how fast against the
 * wall clock (`ms` milliseconds).
 */
export function audioRate(seconds: number, ms: number, short = false): string {
  const perSecond = (seconds / Math.max(ms / 1000, 1e-9)).toFixed(1);
  const hours = (seconds / 3600).toFixed(2);
  return short
    ? `${hours} h audio, ${perSecond} audio s/s`
    : `${hours} h of audio (${seconds.toFixed(1)} s), ${perSecond} audio s per s`;
}

/** The keys the audio front end reads, besides the write pipeline's. */
const AUDIO_KEYS = [
  "extract_mel",
  "mel_config.sample_rate",
  "mel_config.hop_size",
  "mel_config.win_size",
  "mel_config.n_fft",
  "mel_config.n_mel",
  "mel_config.fmin",
  "mel_config.fmax",
  "num_audio_workers",
  "prefetch_size",
  "max_retries",
  "retry_delay",
  "max_failures",
  "max_audio_seconds",
] as const satisfies readonly PreprocessingKey[];

export const preprocessCommand: Command = {
  name: "preprocess",
  summary: "Compute features (w2v-BERT hidden states, mels) of a WAV corpus into an HDF5 cache",
  args: "[data_root] [processed_dir]",
  description:
    "Finds the corpus's WAV files with the dataset plugin (LJSpeech: <data_root>/wavs/*.wav;\n" +
    "LibriTTS: <data_root>/<split>/<speaker>/<chapter>/*.wav), decodes them (PCM 8-32 bit,\n" +
    "float, any channel count -> their mean), resamples to 16 kHz as torchaudio does, computes\n" +
    "mel_spectrogram (1, T, n_mel) as the original pipeline (mel_config), and writes the shards\n" +
    "and hdf5_index.json into <processed_dir>. Without the two directories, they come from\n" +
    "datasets.<dataset>.data_root and .processed_dir of the config. A processed_dir with an\n" +
    "index is resumed: files already indexed are not read again. A file that fails is retried\n" +
    "max_retries times, then listed in error_log.json and error_files.txt; the rest are stored.\n" +
    "Exit status 1 when more files failed than --max-failures allows (a count, or a percentage\n" +
    "like 1%; default 0).\n" +
    "hidden_states (T, hidden) come from the w2v-BERT export directory named by\n" +
    "--semantic-model or semantic_model.model_name (made once by scripts/export_w2v_bert.py,\n" +
    "run by ONNX Runtime; needs --allow-ffi). --semantic-model DIR alone takes the layer the\n" +
    "export was made at; --output-layer (or semantic_model.output_layer, with the model of the\n" +
    "config) must equal it (else exit 2). The model runs once per run, in batches of similar\n" +
    "lengths, on a GPU through ONNX Runtime's WebGPU provider when one is found (needs the GPU\n" +
    "driver's Vulkan support and libvulkan1, no CUDA), else on the CPU; the first line says\n" +
    "which. --execution-provider webgpu|cuda that cannot run here exits 1 before anything is\n" +
    `read. --semantic-model ${NO_SEMANTIC_MODEL} leaves them out.`,
  options: {
    dataset: datasetOption(
      "dataset plugin: ljspeech, libritts, or a module path like ./my_plugin.ts (required)",
    ),
    extractor: {
      type: "string",
      value: "FILE[,FILE]",
      help: "your own extractor modules (default export: options => Extractor), run after the mel",
    },
    partition: partitionOption(),
    "semantic-model": {
      type: "string",
      value: "DIR",
      help:
        `w2v-BERT export directory (default: semantic_model.model_name); "${NO_SEMANTIC_MODEL}" ` +
        "leaves hidden_states out",
    },
    "output-layer": {
      type: "string",
      value: "N",
      help: "hidden layer to keep (default: the export's); must equal the export's",
      check: (text) => /^\d+$/.test(text) ? undefined : "a whole number",
    },
    "intra-op-threads": {
      type: "string",
      value: "N",
      help: "ONNX Runtime threads of the semantic model (default: all cores)",
      check: (text) => /^\d+$/.test(text) && +text > 0 ? undefined : "a whole number >= 1",
    },
    "execution-provider": {
      type: "string",
      value: EXECUTION_PROVIDERS.join("|"),
      help: "where the semantic model runs (default: semantic_model.execution_provider, auto: " +
        "WebGPU when a GPU adapter is found, else cpu; cuda needs onnxruntime-node's CUDA build)",
      check: (text) =>
        (EXECUTION_PROVIDERS as readonly string[]).includes(text)
          ? undefined
          : EXECUTION_PROVIDERS.join(", "),
    },
    "batch-size": {
      type: "string",
      value: "N",
      help: "clips per semantic model batch (default: semantic_model.batch_size; 0: " +
        `${AUTO_BATCH_SIZE.gpu} on a GPU, ${AUTO_BATCH_SIZE.cpu} on the CPU)`,
      check: (text) => /^\d+$/.test(text) ? undefined : "a whole number (0: auto)",
    },
  },
  config: [...WRITE_KEYS, ...AUDIO_KEYS],
  minArgs: 0,
  maxArgs: 2,
  examples: [
    "h5shard preprocess data/LJSpeech-1.1 data/processed_maskgct/ljspeech --dataset ljspeech",
    "h5shard preprocess --dataset libritts --config preprocess_config.json",
    "h5shard preprocess LJSpeech-1.1 out --dataset ljspeech --semantic-model w2v_bert_l17",
    "h5shard preprocess corpus out --dataset ./my_plugin.ts --num-audio-workers 2 --extract-mel true",
    "h5shard preprocess data/LJSpeech-1.1 out --dataset ljspeech --extractor ./pitch.ts",
    "h5shard preprocess corpus parts/part_$SLURM_ARRAY_TASK_ID --dataset libritts --partition $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
  ],
  async run(ctx) {
    const dataset = ctx.values.dataset;
    if (typeof dataset !== "string") {
      throw new UsageError("--dataset is required (ljspeech, libritts or ./plugin.ts)");
    }
    if (ctx.args.length === 1) {
      throw new UsageError("give both <data_root> and <processed_dir>, or neither");
    }
    const config = await effectiveConfig(ctx);
    let [dataRoot, processedDir] = ctx.args;
    if (ctx.args.length === 0) {
      const paths = config.datasets[dataset];
      if (!paths) {
        throw new UsageError(
          `no <data_root> <processed_dir> given and the config has no datasets.${dataset}`,
        );
      }
      ({ data_root: dataRoot, processed_dir: processedDir } = paths);
    }
    const flag = (name: string) => {
      const v = ctx.values[name];
      return typeof v === "string" ? v : undefined;
    };
    const semanticModel = flag("semantic-model") ?? config.semantic_model.model_name;
    // --semantic-model DIR alone: the export decides the layer; the config's layer goes with
    // the config's model.
    const layer = flag("output-layer") ??
      (flag("semantic-model") === undefined
        ? String(config.semantic_model.output_layer)
        : undefined);
    const batchSize = flag("batch-size");
    const threads = flag("intra-op-threads");
    let bar: ProgressBar | undefined;
    let audioSeconds = 0;
    const interrupts = watchInterrupts();
    const started = performance.now();
    const report = await preprocess({
      signal: interrupts.signal,
      dataRoot,
      processedDir,
      plugin: dataset,
      partition: partitionValue(ctx),
      semanticModel,
      extractors: typeof ctx.values.extractor === "string"
        ? ctx.values.extractor.split(",").map((name) => ({ name: resolve(ctx.cwd, name) }))
        : [],
      outputLayer: layer === undefined ? undefined : Number(layer),
      intraOpThreads: threads === undefined ? undefined : Number(threads),
      executionProvider: (flag("execution-provider") as ExecutionProviderChoice | undefined) ??
        config.semantic_model.execution_provider,
      batchSize: batchSize === undefined ? config.semantic_model.batch_size : Number(batchSize),
      onModel: (m) =>
        ctx.err(
          `semantic model ${m.model} (hidden_states[${m.layer}]) on ${m.executionProvider} ` +
            `(${m.reason}), batches of ${m.batchSize}`,
        ),
      preprocessing: config.preprocessing,
      onDiscovered: (total, todo, range) => {
        const empty = range &&
          emptyPartitionNote(range, config.preprocessing.samples_per_hdf5, "files");
        if (empty) ctx.err(empty);
        ctx.err(`${dataRoot}: ${total} audio files, ${todo} to process`);
        bar = new ProgressBar("preprocess", todo, { ...ctx.progress, unit: "files" });
      },
      onAudio: (seconds) => {
        audioSeconds = seconds;
      },
      onProgress: (s) =>
        bar?.update(
          s.written + s.failed,
          [
            audioRate(audioSeconds, performance.now() - started, true),
            s.failed ? `${s.failed} failed` : "",
          ].filter(Boolean).join(", "),
        ),
      onWarning: (m) => ctx.err(`warning: ${m}`),
    }).catch((e) => {
      // No export yet: say how to compute the mel spectrograms alone meanwhile.
      if (
        e instanceof ConfigError && e.path === "semantic_model.model_name" &&
        flag("semantic-model") === undefined
      ) {
        e.message += `; for mel spectrograms only, give --semantic-model ${NO_SEMANTIC_MODEL}`;
      }
      throw e;
    }).finally(() => interrupts.dispose());
    bar?.finish();
    if (report.audioSeconds > 0) {
      ctx.out(`audio: ${audioRate(report.audioSeconds, report.seconds * 1000)}`);
    }
    return printRunReport(
      ctx,
      report,
      processedDir,
      config.preprocessing.max_failures,
      interrupts.status(),
    );
  },
};
