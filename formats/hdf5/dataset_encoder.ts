/**
 * A dataset's metadata (HDF5_PROFILE.md §5): the checks a {@linkcode DatasetSpec} must pass,
 * and, once its data is on disk, the chunk B-tree and object header placed after it.
 *
 * @module
 */
import { DTYPES, elementCount } from "../dtype.ts";
import { encodeChunkBtree } from "./chunk_btree.ts";
import { UNDEF } from "./constants.ts";
import type { DatasetSpec } from "./dataset_spec.ts";
import { attributeMessage } from "./messages/attribute.ts";
import { chunkedLayoutMessage, contiguousLayoutMessage } from "./messages/data_layout.ts";
import { dataspaceMessage } from "./messages/dataspace.ts";
import { datatypeMessage } from "./messages/datatype.ts";
import { fillValueMessage } from "./messages/fill_value.ts";
import { filterPipelineMessage, filterSpecsProblem } from "./messages/filter_pipeline.ts";
import { encodeObjectHeader, type HeaderMessage } from "./object_header.ts";

const MAX_U32 = 0xffffffff;

function fail(what: string, detail: string): never {
  throw new RangeError(`dataset ${JSON.stringify(what)}: ${detail}`);
}

/** Throws a RangeError naming `what` (the dataset path) when `spec` cannot be stored as given. */
export function validateDatasetSpec(what: string, spec: DatasetSpec): void {
  if (!Object.hasOwn(DTYPES, spec.dtype)) {
    fail(what, `unsupported dtype ${JSON.stringify(spec.dtype)}`);
  }
  const size = DTYPES[spec.dtype].size;
  const { shape, layout } = spec;
  for (const [k, v] of Object.entries(spec.attributes ?? {})) attributeMessage(k, v);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    fail(what, `shape ${JSON.stringify(shape)}: expected non-negative integers`);
  }
  if (shape.length > 32) fail(what, `rank ${shape.length} exceeds HDF5's 32`);
  if (layout.kind === "contiguous") {
    const want = elementCount(shape) * size;
    if (layout.bytes.length !== want) {
      fail(
        what,
        `contiguous data is ${layout.bytes.length} bytes; shape ${
          JSON.stringify(shape)
        } of ${spec.dtype} needs ${want}`,
      );
    }
    return;
  }
  const { chunkShape, filters, chunks } = layout;
  if (shape.length === 0) fail(what, "a scalar cannot be chunked; use the contiguous layout");
  if (
    chunkShape.length !== shape.length || chunkShape.some((d) => !Number.isSafeInteger(d) || d < 1)
  ) {
    fail(what, `chunkShape ${JSON.stringify(chunkShape)}: expected ${shape.length} integers >= 1`);
  }
  // Axis 0 is unlimited; HDF5 refuses a chunk larger than a fixed, non-empty axis.
  for (let i = 1; i < shape.length; i++) {
    if (shape[i] > 0 && chunkShape[i] > shape[i]) {
      fail(
        what,
        `chunkShape ${JSON.stringify(chunkShape)} exceeds shape ${
          JSON.stringify(shape)
        } on axis ${i}`,
      );
    }
  }
  if (elementCount(chunkShape) * size > MAX_U32) {
    fail(what, `chunk ${JSON.stringify(chunkShape)} of ${spec.dtype} is over 4 GiB`);
  }
  let want = 1;
  for (let i = 0; i < shape.length; i++) want *= Math.ceil(shape[i] / chunkShape[i]);
  if (chunks.length !== want) {
    fail(
      what,
      `${chunks.length} chunks given; shape ${JSON.stringify(shape)} in chunks ${
        JSON.stringify(chunkShape)
      } needs ${want}`,
    );
  }
  // Without deflate a chunk keeps its size: every one, edge chunks too, must be full-size.
  const full = filters.some((f) => f.id === "deflate") ? 0 : elementCount(chunkShape) * size;
  chunks.forEach((c, i) => {
    if (c.length === 0 || c.length > MAX_U32 || (full > 0 && c.length !== full)) {
      fail(
        what,
        `chunk ${i} is ${c.length} bytes` + (full > 0 ? `; a full chunk is ${full} bytes` : ""),
      );
    }
  });
  const problem = filterSpecsProblem(filters);
  if (problem) fail(what, problem);
}

function commonMessages(spec: DatasetSpec, chunked: boolean): HeaderMessage[] {
  const maxDims = chunked ? spec.shape.map((d, i) => (i === 0 ? UNDEF : d)) : spec.shape;
  return [
    dataspaceMessage(spec.shape, maxDims),
    datatypeMessage(spec.dtype),
    fillValueMessage(chunked),
  ];
}

function attributeMessages(spec: DatasetSpec): HeaderMessage[] {
  return Object.entries(spec.attributes ?? {}).map(([k, v]) => attributeMessage(k, v));
}

/** Object header of a contiguous dataset whose bytes are at `address` (UNDEF when empty). */
export function encodeContiguousHeader(spec: DatasetSpec, address: number): Uint8Array {
  if (spec.layout.kind !== "contiguous") throw new TypeError("expected a contiguous layout");
  return encodeObjectHeader([
    ...commonMessages(spec, false),
    contiguousLayoutMessage(address, spec.layout.bytes.length),
    ...attributeMessages(spec),
  ]);
}

/** A chunked dataset's chunk B-tree and object header, laid out from `base`. */
export interface EncodedChunkedMetadata {
  /** The B-tree nodes then the object header. */
  bytes: Uint8Array;
  /** Address of the object header. */
  header: number;
}

/**
 * Chunk B-tree (when there are chunks) followed by the object header, placed at `base`;
 * `addresses` are where the chunks were written, in order.
 */
export function encodeChunkedMetadata(
  spec: DatasetSpec,
  addresses: readonly number[],
  base: number,
): EncodedChunkedMetadata {
  const layout = spec.layout;
  if (layout.kind !== "chunked") throw new TypeError("expected a chunked layout");
  const size = DTYPES[spec.dtype].size;
  const tree = addresses.length > 0
    ? encodeChunkBtree({
      shape: spec.shape,
      chunkShape: layout.chunkShape,
      addresses,
      sizes: layout.chunks.map((c) => c.length),
    }, base)
    : undefined;
  const messages = commonMessages(spec, true);
  if (layout.filters.length > 0) messages.push(filterPipelineMessage(layout.filters, size));
  messages.push(chunkedLayoutMessage(tree ? tree.root : UNDEF, layout.chunkShape, size));
  messages.push(...attributeMessages(spec));
  const header = encodeObjectHeader(messages);
  const treeBytes = tree ? tree.bytes.length : 0;
  const bytes = new Uint8Array(treeBytes + header.length);
  if (tree) bytes.set(tree.bytes);
  bytes.set(header, treeBytes);
  return { bytes, header: base + treeBytes };
}
