/**
 * h5shard's advanced entry (`@h5shard/h5shard/advanced`): the pieces {@linkcode "./mod.ts"}'s
 * operations are built from, for composing a pipeline yourself.
 *
 * - Streams: a source ({@linkcode NpzSource}, {@linkcode Hdf5Source}, {@linkcode RawHdf5Source},
 *   {@linkcode AudioSource} -> {@linkcode FeatureStream}, or any `ReadableStream` of samples) ->
 *   {@linkcode Float16Stream} -> {@linkcode DeflateStream} -> {@linkcode ShardSink};
 *   {@linkcode packEncoded} runs the sink's half of `pack`.
 * - Codecs: NPY, NPZ, the shard index, the HDF5 writer, float16, the zlib codec in use.
 * - Audio: WAV and compressed audio decoding, resampling, mel spectrograms, the w2v-BERT fbank
 *   and extractor, the extractor registry.
 * - Partitioned runs: partition keys and ranges, the merge plan's file name.
 *
 * Everything else (the FFT, the merge planner, raw chunk reading, PNG encoding, running moments)
 * is internal: importable by path from its module, with no promise that it stays.
 *
 * @example Compose the write pipeline by hand
 * ```ts
 * import { DeflateStream, Float16Stream, ShardSink } from "./advanced.ts";
 * import { openCache, type Sample } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const samples: Sample[] = [{
 *   key: "a",
 *   tensors: { x: { dtype: "float32", shape: [4, 2], data: new Float32Array(8).fill(0.5) } },
 * }];
 * await ReadableStream.from(samples)
 *   .pipeThrough(new Float16Stream())
 *   .pipeThrough(new DeflateStream())
 *   .pipeTo(new ShardSink(dir));
 * const cache = await openCache(dir);
 * const { x } = await cache.get("a");
 * if (x.dtype !== "float16" || x.shape.join() !== "4,2") throw new Error("stored as float16 [4, 2]");
 * cache.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export { DTYPES, type TypedArray, type TypedArrayFor } from "./formats/dtype.ts";
export { checkTensor } from "./formats/tensor.ts";
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

// The stream stages.
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
export { RawHdf5Source, type RawHdf5SourceOptions } from "./stages/raw_hdf5_source.ts";
export { type AudioClip, AudioSource, type AudioSourceOptions } from "./stages/audio_source.ts";
export { FeatureStream, type FeatureStreamOptions } from "./stages/feature_stream.ts";
export { packEncoded } from "./ops/pack.ts";

// Audio and feature extractors.
export { type DecodedAudio, decodeWav, encodeWav } from "./audio/wav.ts";
export { decodeAudio, sniffAudio } from "./audio/audio_decode.ts";
export { Resampler } from "./audio/resample.ts";
export { type MelOptions, MelSpectrogram } from "./audio/mel.ts";
export {
  SeamlessFbank,
  type SeamlessFbankOptions,
  type SeamlessFeatures,
} from "./audio/seamless_fbank.ts";
export { MEL_DEFAULTS } from "./extractors/mel.ts";
export {
  readW2vBertExport,
  w2vBert,
  type W2vBertExportInfo,
  type W2vBertOptions,
} from "./extractors/w2v_bert.ts";
export { createExtractor, extractorModule, listExtractors } from "./extractors/registry.ts";
export { getPlugin, listPlugins } from "./plugins/mod.ts";

// Partitioned runs, checks' details.
export {
  MAX_PARTITIONS,
  parsePartition,
  type Partition,
  partitionKeys,
  type PartitionRange,
  partitionRange,
} from "./ops/partition.ts";
export { MERGE_PLAN_FILE } from "./ops/merge.ts";
export { expectedNpz } from "./ops/verify.ts";
export type { CacheProblemKind, CacheWarningKind } from "./ops/cache_checks.ts";
export type { InspectDataset, InspectShard } from "./ops/inspect.ts";
export type { NonFiniteCount } from "./ops/non_finite.ts";
