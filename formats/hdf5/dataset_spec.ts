/**
 * What the HDF5 writer needs to store one dataset: its type, shape, layout and (already
 * filtered) chunks. Pure data: produced by the deflate stage, consumed by the file writer.
 *
 * @module
 */
import type { DType } from "../dtype.ts";

/** A filter of the pipeline, in the order applied when writing. */
export type FilterSpec =
  | { id: "shuffle" }
  | { id: "deflate"; level: number };

/** Chunked storage: chunks already filtered, in row-major order of chunk index. */
export interface ChunkedLayout {
  /** Discriminant. */
  kind: "chunked";
  /** Chunk extent per axis, in elements (clamped to the shape, except for 0-length axes). */
  chunkShape: number[];
  /** Filters applied to every chunk, in write order (shuffle before deflate). */
  filters: FilterSpec[];
  /** One entry per chunk: its bytes after filtering (each was full-size before filtering). */
  chunks: Uint8Array[];
}

/** Contiguous storage: the raw element bytes (used for scalars). */
export interface ContiguousLayout {
  /** Discriminant. */
  kind: "contiguous";
  /** C-order element bytes, little-endian. */
  bytes: Uint8Array;
}

/**
 * A scalar or string attribute value. Stored as: integral number -> int64, other number ->
 * float64, bigint -> int64 (uint64 above its range), boolean -> numpy bool, string -> fixed-length
 * UTF-8 string (h5py reads it as `bytes`). Attribute names must be ASCII.
 */
export type AttributeValue = number | bigint | string | boolean;

/** One dataset to write. */
export interface DatasetSpec {
  /** Element type. */
  dtype: DType;
  /** Extent per axis, slowest first; `[]` for a scalar. Chunked datasets get an unlimited axis 0. */
  shape: number[];
  /** How the elements are stored. Scalars must be contiguous. */
  layout: ChunkedLayout | ContiguousLayout;
  /** Scalar attributes of the dataset. */
  attributes?: Record<string, AttributeValue>;
}
