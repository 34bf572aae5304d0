/**
 * Settings resolved once, at a command's edge, into typed objects that flow down: the full
 * `preprocessing` object ({@linkcode resolvePreprocessing}), the settings that decide a cache's
 * stored bytes ({@linkcode ChunkSettings}) and how the semantic model runs
 * ({@linkcode ModelSettings}). Every default comes from the schema.
 *
 * @module
 */
import type { ExecutionProviderChoice } from "./execution_providers.ts";
import { type Preprocessing, PREPROCESSING_DEFAULTS, SCHEMA } from "./schema.ts";

/**
 * Full preprocessing settings: `partial` over the schema's defaults (`mel_config` merged key by
 * key). A command calls it once and hands the result down.
 *
 * @example
 * ```ts
 * import { resolvePreprocessing } from "./settings.ts";
 * const p = resolvePreprocessing({ mel_config: { n_mel: 40 } as never });
 * if (p.samples_per_hdf5 !== 20000 || p.mel_config.n_fft !== 1024) throw new Error();
 * ```
 */
export function resolvePreprocessing(partial: Partial<Preprocessing> = {}): Preprocessing {
  const defaults = PREPROCESSING_DEFAULTS;
  return {
    ...defaults,
    ...partial,
    mel_config: { ...defaults.mel_config, ...partial.mel_config },
  };
}

/** How chunks are encoded (`compression_level`, `shuffle`, `chunk_bytes`). */
export interface ChunkEncoding {
  /** `preprocessing.compression_level`: deflate level, 0 = stored. */
  compressionLevel: number;
  /** `preprocessing.shuffle`: the HDF5 shuffle filter before deflate. */
  shuffle: boolean;
  /** `preprocessing.chunk_bytes`: target bytes per chunk. */
  chunkBytes: number;
}

/**
 * What decides a cache's stored bytes and layout: a run that continues a cache must bring the
 * same (the resume check compares each with what the cache recorded).
 */
export interface ChunkSettings extends ChunkEncoding {
  /** `preprocessing.samples_per_hdf5`. */
  samplesPerFile: number;
  /** `preprocessing.use_float16`. */
  useFloat16: boolean;
}

/** The chunk settings of resolved preprocessing settings. */
export function chunkSettings(p: Preprocessing): ChunkSettings {
  return {
    samplesPerFile: p.samples_per_hdf5,
    useFloat16: p.use_float16,
    compressionLevel: p.compression_level,
    shuffle: p.shuffle,
    chunkBytes: p.chunk_bytes,
  };
}

/** How the semantic model runs (`semantic_model.*` and `--intra-op-threads`). */
export interface ModelSettings {
  /** `semantic_model.model_name`: an export directory, or `"none"`. */
  modelDir: string;
  /** `semantic_model.output_layer` when asked for; left out, the export's layer. */
  outputLayer?: number;
  /** `semantic_model.execution_provider`. */
  executionProvider: ExecutionProviderChoice;
  /** `semantic_model.batch_size`: clips per batch, 0 = by provider. */
  batchSize: number;
  /** ONNX Runtime threads, 0 = all cores. */
  intraOpThreads: number;
}

/** What a caller gives of {@linkcode ModelSettings}; the rest are the schema's defaults. */
export interface ModelChoice {
  semanticModel?: string;
  outputLayer?: number;
  executionProvider?: ExecutionProviderChoice;
  batchSize?: number;
  intraOpThreads?: number;
}

/** Model settings: `choice` over the schema's defaults (the layer stays the export's if not given). */
export function modelSettings(choice: ModelChoice): ModelSettings {
  return {
    modelDir: choice.semanticModel ?? SCHEMA["semantic_model.model_name"].default,
    ...(choice.outputLayer === undefined ? {} : { outputLayer: choice.outputLayer }),
    executionProvider: choice.executionProvider ??
      SCHEMA["semantic_model.execution_provider"].default,
    batchSize: choice.batchSize ?? SCHEMA["semantic_model.batch_size"].default,
    intraOpThreads: choice.intraOpThreads ?? 0,
  };
}
