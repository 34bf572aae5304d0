/**
 * Data layout message, type 0x0008 (spec §IV.A.2.i), version 3: contiguous (class 1) or
 * chunked with a v1 B-tree index (class 2). Compact, versions 1/2 and version 4 are unsupported.
 *
 * @module
 */
import { u64 } from "../positioned_reader.ts";

const CLASS_CONTIGUOUS = 1;
const CLASS_CHUNKED = 2;

/** Where a dataset's elements are. */
export type Layout =
  | { kind: "contiguous"; address: number; size: number }
  /** `chunkShape` excludes the trailing element-size dimension. */
  | { kind: "chunked"; btree: number; chunkShape: number[]; elementSize: number };

/** HDF5 refuses chunks of 4 GiB or more. */
const MAX_CHUNK_BYTES = 2 ** 32 - 1;

/**
 * Parses a layout message, or returns a string saying why not. A chunked layout must agree
 * with the dataset's `rank` and `elementSize` and have chunk dims of at least 1 (HDF5 refuses
 * others); `damaged` builds the error when it does not.
 */
export function parseLayout(
  v: DataView,
  rank: number,
  elementSize: number,
  damaged: (why: string) => Error,
): Layout | string {
  const version = v.getUint8(0);
  if (version !== 3) return `layout message version ${version} (native reader: 3)`;
  const cls = v.getUint8(1);
  if (cls === CLASS_CONTIGUOUS) {
    return { kind: "contiguous", address: u64(v, 2), size: u64(v, 10) };
  }
  if (cls === CLASS_CHUNKED) {
    const dimensionality = v.getUint8(2);
    if (dimensionality !== rank + 1) {
      throw damaged(`chunked layout of ${dimensionality - 1} dims for a rank-${rank} dataspace`);
    }
    const btree = u64(v, 3);
    const dims: number[] = [];
    for (let i = 0; i < dimensionality; i++) dims.push(v.getUint32(11 + 4 * i, true));
    const chunkElementSize = dims.pop()!;
    if (dims.some((d) => d === 0)) throw damaged(`chunk dims ${JSON.stringify(dims)} hold a 0`);
    if (chunkElementSize !== elementSize) {
      throw damaged(
        `chunk element size ${chunkElementSize}, but the datatype's size is ${elementSize}`,
      );
    }
    if (dims.reduce((a, d) => a * d, elementSize) > MAX_CHUNK_BYTES) {
      throw damaged(`chunk dims ${JSON.stringify(dims)} make a chunk of 4 GiB or more`);
    }
    return { kind: "chunked", btree, chunkShape: dims, elementSize };
  }
  return `layout class ${cls} (native reader: contiguous or chunked)`;
}
