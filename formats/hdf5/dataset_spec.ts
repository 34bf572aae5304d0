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
  kind: "contiguous";
  bytes: Uint8Array;
}

/** A scalar or string attribute value. */
export type AttributeValue = number | bigint | string | boolean;

/** One dataset to write. */
export interface DatasetSpec {
  dtype: DType;
  shape: number[];
  layout: ChunkedLayout | ContiguousLayout;
  attributes?: Record<string, AttributeValue>;
}
