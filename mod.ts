/**
 * h5shard: pack ML features into sharded HDF5 caches (`features_00001.h5`, ... plus
 * `hdf5_index.json`) that Python training code reads with h5py, and read them back.
 *
 * - Write: {@linkcode pack} runs the default pipeline from `preprocess_config.json` settings;
 *   {@linkcode preprocess} runs it on a speech corpus; {@linkcode migrate} on a legacy NPZ cache;
 *   {@linkcode reshard} and {@linkcode reindex} on another cache; {@linkcode merge} joins the
 *   caches of a partitioned run.
 * - Read: {@linkcode openCache} (by key, with frame slices), {@linkcode verifyCache} (judges a
 *   cache as h5py will read it), {@linkcode inspectCache}, {@linkcode computeStats},
 *   {@linkcode listCache}, {@linkcode plotSample}.
 * - Extend: {@linkcode definePlugin} (a dataset layout) and {@linkcode defineExtractor} (a
 *   feature), registered by name with {@linkcode registerPlugin} and {@linkcode registerExtractor}.
 * - Errors are {@linkcode H5ShardError}s with a `code`; {@linkcode isH5ShardError} narrows.
 *
 * The pipeline's Web Streams (sources, `Float16Stream`, `DeflateStream`, `ShardSink`) to compose
 * yourself, the codecs (NPY, NPZ, the shard index, the HDF5 writer), the audio front end (WAV,
 * resampling, mel, fbank) and partitioned runs are `advanced.ts` (`@h5shard/h5shard/advanced`).
 *
 * @example Pack samples from your own code and read them back
 * ```ts
 * import { openCache, pack, type Sample } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const samples: Sample[] = [{
 *   key: "LJ001-0001",
 *   tensors: { hidden_states: { dtype: "float32", shape: [20, 3], data: new Float32Array(60) } },
 * }];
 * const report = await pack(ReadableStream.from(samples), dir, {
 *   preprocessing: { samples_per_hdf5: 1000 },
 * });
 * const cache = await openCache(dir);
 * const { hidden_states } = await cache.get("LJ001-0001", { frames: [0, 5] });
 * console.log(report.written, hidden_states.dtype, hidden_states.shape); // 1 float16 [5, 3]
 * cache.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Preprocess a WAV corpus (LJSpeech layout) into a cache of mel spectrograms
 * ```ts
 * import { preprocess } from "./mod.ts";
 * import { encodeWav } from "./advanced.ts";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/wavs`);
 * const tone = Float32Array.from({ length: 22050 }, (_, i) => 0.5 * Math.sin(i / 8));
 * await Deno.writeFile(`${root}/wavs/LJ001-0001.wav`, encodeWav(tone, 22050));
 * const report = await preprocess({
 *   dataRoot: root,
 *   processedDir: `${root}/cache`,
 *   plugin: "ljspeech",
 *   preprocessing: { num_audio_workers: 1, num_save_workers: 1 },
 * });
 * if (report.written !== 1 || report.failed !== 0) throw new Error("one sample stored");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
export {
  CacheError,
  ConfigError,
  errorMessage,
  type ErrorOfCode,
  FormatError,
  type FormatErrorOptions,
  H5ShardError,
  type H5ShardErrorCode,
  isH5ShardError,
  KeyError,
  LockError,
  SampleError,
} from "./errors.ts";
export {
  type Config,
  type DatasetPaths,
  defaultConfig,
  loadConfig,
  type MelConfig,
  parseConfig,
  type Preprocessing,
  type SemanticModel,
} from "./config.ts";
export type { DType } from "./formats/dtype.ts";
export type { Tensor } from "./formats/tensor.ts";
export { isFailure, type Sample, type SampleFailure } from "./stages/record.ts";

// The pipeline.
export { pack, type PackOptions, type RunReport } from "./ops/pack.ts";
export { NO_SEMANTIC_MODEL, preprocess, type PreprocessOptions } from "./ops/preprocess.ts";
export { migrate, type MigrateOptions } from "./ops/migrate.ts";
export { reshard, type ReshardOptions, type ReshardReport } from "./ops/reshard.ts";
export { reindex, type ReindexOptions, type ReindexReport } from "./ops/reindex.ts";
export { merge, type MergeOptions, type MergeReport } from "./ops/merge.ts";

// The reader, and looking at a cache.
export {
  type CacheReader,
  type GetOptions,
  openCache,
  type OpenCacheOptions,
} from "./ops/cache_reader.ts";
export type { FrameRange } from "./formats/read_sample.ts";
export {
  verifyCache,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
} from "./ops/verify.ts";
export { inspectCache, type InspectOptions, type InspectReport } from "./ops/inspect.ts";
export { computeStats, type StatsOptions, type StatsReport } from "./ops/stats.ts";
export { listCache, type ListEntry, type ListOptions } from "./ops/ls.ts";
export { type PlotOptions, type PlotResult, plotSample } from "./ops/plot.ts";

// The plugin and extractor contracts.
export {
  type DatasetPlugin,
  definePlugin,
  type PluginDefinition,
  registerPlugin,
  type SampleRef,
} from "./plugins/mod.ts";
export type { Extractor, ExtractorFactory, ExtractorInput } from "./extractors/extractor.ts";
export { defineExtractor } from "./extractors/define_extractor.ts";
export { type ExtractorSpec, registerExtractor } from "./extractors/registry.ts";
