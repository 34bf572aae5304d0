/**
 * h5shard: pack ML features into sharded HDF5 caches (`features_00001.h5`, ... plus
 * `hdf5_index.json`) that Python training code reads with h5py, and read them back.
 *
 * A pipeline is Web Streams: a source (NpzSource, Hdf5Source, or your own ReadableStream of
 * samples) -> Float16Stream -> DeflateStream -> ShardSink. {@linkcode pack} wires the default
 * one from a configuration; {@linkcode migrate} runs it on a legacy NPZ cache;
 * {@linkcode openCache} reads a cache back by key, with frame slices.
 *
 * @example Pack samples from your own code
 * ```ts ignore
 * import { pack } from "./mod.ts";
 * const samples = ReadableStream.from([{
 *   key: "LJ001-0001",
 *   tensors: { hidden_states: { dtype: "float32", shape: [2, 3], data: new Float32Array(6) } },
 * }]);
 * const report = await pack(samples, "out/cache", { preprocessing: { samples_per_hdf5: 1000 } });
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./config.ts";
export * from "./formats/dtype.ts";
export { checkTensor, type Tensor } from "./formats/tensor.ts";
export * from "./formats/chunks.ts";
export * from "./formats/float16.ts";
export * from "./formats/shard_index.ts";
export { decodeNpy, encodeNpy } from "./formats/npy.ts";
export { decodeNpz, encodeNpz, type EncodeNpzOptions } from "./formats/npz.ts";
export type * from "./formats/hdf5/dataset_spec.ts";
export { Hdf5FileWriter } from "./formats/hdf5/file_writer.ts";
export * from "./stages/record.ts";
export { Float16Stream, type Float16StreamOptions } from "./stages/float16_stream.ts";
export {
  DEFAULT_DEFLATE_LEVEL,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DeflateStream,
  type DeflateStreamOptions,
} from "./stages/deflate_stream.ts";
export * from "./stages/shard_sink.ts";
export { DirLock, LOCK_FILE } from "./stages/dir_lock.ts";
export { NpzSource, type NpzSourceOptions } from "./stages/npz_source.ts";
export { Hdf5Source, type Hdf5SourceOptions } from "./stages/hdf5_source.ts";
export * from "./plugins/mod.ts";
export * from "./ops/pack.ts";
export * from "./ops/migrate.ts";
export * from "./ops/cache_reader.ts";
export * from "./ops/verify.ts";
export * from "./ops/inspect.ts";
export {
  type H5Child,
  type H5DatasetInfo,
  H5File,
  type H5ObjectKind,
  type H5ReadOptions,
} from "./formats/h5wasm/h5_file.ts";
export * from "./ops/example_cache.ts";

// Looking at a cache: statistics, plots, listings.
export { countNonFinite, Moments, type MomentsState, type MomentSummary } from "./ops/moments.ts";
export { computeStats, type StatsOptions, type StatsReport } from "./ops/stats.ts";
export { type PlotOptions, type PlotResult, plotSample } from "./ops/plot.ts";
export { type HeatmapLayout, type HeatmapOptions, renderHeatmap } from "./plot/heatmap.ts";
export { encodePng, type RgbPixels } from "./formats/png.ts";
export { listCache, type ListEntry, type ListOptions } from "./ops/ls.ts";
