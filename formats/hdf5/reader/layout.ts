/**
 * Data layout message, type 0x0008 (spec §IV.A.2.i), version 3: contiguous (class 1) or
 * chunked with a v1 B-tree index (class 2). Compact, versions 1/2 and version 4 are unsupported.
 *
 * @module
 */
import { u64 } from "./positioned_reader.ts";

const CLASS_CONTIGUOUS = 1;
const CLASS_CHUNKED = 2;

/** Where a dataset's elements are. */
export type Layout =
  | { kind: "contiguous"; address: number; size: number }
  /** `chunkShape` excludes the trailing element-size dimension. */
  | { kind: "chunked"; btree: number; chunkShape: number[]; elementSize: number };

/** Parses a layout message, or returns a string saying why not. */
export function parseLayout(v: DataView): Layout | string {
  const version = v.getUint8(0);
  if (version !== 3) return `layout message version ${version} (native reader: 3)`;
  const cls = v.getUint8(1);
  if (cls === CLASS_CONTIGUOUS) {
    return { kind: "contiguous", address: u64(v, 2), size: u64(v, 10) };
  }
  if (cls === CLASS_CHUNKED) {
    const dimensionality = v.getUint8(2);
    const btree = u64(v, 3);
    const dims: number[] = [];
    for (let i = 0; i < dimensionality; i++) dims.push(v.getUint32(11 + 4 * i, true));
    const elementSize = dims.pop()!;
    return { kind: "chunked", btree, chunkShape: dims, elementSize };
  }
  return `layout class ${cls} (native reader: contiguous or chunked)`;
}
