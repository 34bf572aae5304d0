/**
 * h5shard: pack ML features into sharded HDF5 caches (`features_00001.h5`, ... plus
 * `hdf5_index.json`) that Python training code reads with h5py, and read them back.
 *
 * - Write: {@linkcode pack} runs the default pipeline from `preprocess_config.json` settings;
 *   {@linkcode migrate} runs it on a legacy NPZ cache; {@linkcode reshard} on another cache.
 *   The pipeline is Web Streams you can compose yourself: a source ({@linkcode NpzSource},
 *   {@linkcode Hdf5Source}, or any `ReadableStream` of {@linkcode Sample}s) ->
 *   {@linkcode Float16Stream} -> {@linkcode DeflateStream} -> {@linkcode ShardSink}.
 * - Read: {@linkcode openCache} (by key, with frame slices), {@linkcode verifyCache} (judges a
 *   cache as h5py will read it), {@linkcode inspectCache}.
 * - Errors are {@linkcode H5ShardError}s with a `code`; {@linkcode isH5ShardError} narrows.
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
 * import { encodeWav, preprocess } from "./mod.ts";
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
export { type DType, DTYPES, type TypedArray, type TypedArrayFor } from "./formats/dtype.ts";
export { checkTensor, type Tensor } from "./formats/tensor.ts";
export { timeAxis } from "./formats/chunks.ts";
export { FLOAT16_MAX, type Float16Overflow, toFloat16 } from "./formats/float16.ts";
export {
  INDEX_FILE,
  type IndexEntry,
  parseIndex,
  serializeIndex,
  shardFileName,
  type ShardIndex,
  shardNumber,
} from "./formats/shard_index.ts";
export { decodeNpy, encodeNpy } from "./formats/npy.ts";
export { decodeNpz, encodeNpz, type EncodeNpzOptions } from "./formats/npz.ts";
export {
  CODEC_ENV,
  type CodecKind,
  codecName,
  zlibCodec,
  type ZlibCodecInfo,
} from "./formats/zlib_codec.ts";
export type * from "./formats/hdf5/dataset_spec.ts";
export { Hdf5FileWriter } from "./formats/hdf5/file_writer.ts";
export {
  type ShardObjectKind,
  type ShardReader,
  type ShardReadOptions,
} from "./formats/shard_reader.ts";
export type { FrameRange } from "./formats/read_sample.ts";
export { isFailure, type Sample, type SampleFailure } from "./stages/record.ts";
export { Float16Stream, type Float16StreamOptions } from "./stages/float16_stream.ts";
export { DeflateStream, type DeflateStreamOptions } from "./stages/deflate_stream.ts";
export {
  type FailureEntry,
  ShardSink,
  type ShardSinkOptions,
  type SinkReport,
  type SinkStats,
} from "./stages/shard_sink.ts";
export { NpzSource, type NpzSourceOptions } from "./stages/npz_source.ts";
export { Hdf5Source, type Hdf5SourceOptions } from "./stages/hdf5_source.ts";
export {
  type DatasetPlugin,
  definePlugin,
  getPlugin,
  listPlugins,
  type PluginDefinition,
  registerPlugin,
  type SampleRef,
} from "./plugins/mod.ts";
export { pack, type PackOptions, type RunReport } from "./ops/pack.ts";
export { migrate, type MigrateOptions } from "./ops/migrate.ts";
export { reshard, type ReshardOptions, type ReshardReport } from "./ops/reshard.ts";
export { reindex, type ReindexOptions, type ReindexReport } from "./ops/reindex.ts";
export {
  type CacheReader,
  type GetOptions,
  openCache,
  type OpenCacheOptions,
} from "./ops/cache_reader.ts";
export {
  expectedNpz,
  verifyCache,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
} from "./ops/verify.ts";
export type { CacheProblemKind, CacheWarningKind } from "./ops/cache_checks.ts";
export {
  inspectCache,
  type InspectDataset,
  type InspectOptions,
  type InspectReport,
  type InspectShard,
} from "./ops/inspect.ts";
export type { NonFiniteCount } from "./ops/non_finite.ts";

// From audio: WAV decoding, resampling, mel, feature extractors, preprocess.
export { type DecodedAudio, decodeWav, encodeWav } from "./audio/wav.ts";
export { decodeAudio, sniffAudio } from "./audio/audio_decode.ts";
export { LOWPASS_FILTER_WIDTH, Resampler, ROLLOFF } from "./audio/resample.ts";
export { RealFft } from "./audio/fft.ts";
export { type MelFilter, melFilterbank, type MelOptions, MelSpectrogram } from "./audio/mel.ts";
export type { Extractor, ExtractorFactory, ExtractorInput } from "./extractors/extractor.ts";
export { defineExtractor } from "./extractors/define_extractor.ts";
export {
  createExtractor,
  extractorModule,
  type ExtractorSpec,
  listExtractors,
  registerExtractor,
} from "./extractors/registry.ts";
export { MEL_DEFAULTS } from "./extractors/mel.ts";
export {
  SeamlessFbank,
  type SeamlessFbankOptions,
  type SeamlessFeatures,
} from "./audio/seamless_fbank.ts";
export {
  readW2vBertExport,
  w2vBert,
  type W2vBertExportInfo,
  type W2vBertOptions,
} from "./extractors/w2v_bert.ts";
export { type AudioClip, AudioSource, type AudioSourceOptions } from "./stages/audio_source.ts";
export { FeatureStream, type FeatureStreamOptions } from "./stages/feature_stream.ts";
export { NO_SEMANTIC_MODEL, preprocess, type PreprocessOptions } from "./ops/preprocess.ts";

// Array jobs: partitioned runs and their merge; raw (still compressed) chunk copies.
export {
  MAX_PARTITIONS,
  parsePartition,
  type Partition,
  partitionKeys,
  type PartitionRange,
  partitionRange,
} from "./ops/partition.ts";
export { merge, MERGE_PLAN_FILE, type MergeOptions, type MergeReport } from "./ops/merge.ts";
export { type MergePlan, planMerge } from "./ops/merge_plan.ts";
export { packEncoded } from "./ops/pack.ts";
export {
  RawChunkReader,
  type RawChunkReaderOptions,
  type RawSample,
} from "./formats/hdf5/reader/raw_chunks.ts";
export { RawHdf5Source, type RawHdf5SourceOptions } from "./stages/raw_hdf5_source.ts";

// Looking at a cache: statistics, plots, listings.
export { countNonFinite, Moments, type MomentsState, type MomentSummary } from "./ops/moments.ts";
export { computeStats, type StatsOptions, type StatsReport } from "./ops/stats.ts";
export { type PlotOptions, type PlotResult, plotSample } from "./ops/plot.ts";
export { type HeatmapLayout, type HeatmapOptions, renderHeatmap } from "./plot/heatmap.ts";
export { encodePng, type RgbPixels } from "./plot/png.ts";
export { listCache, type ListEntry, type ListOptions } from "./ops/ls.ts";
