/**
 * Dataspace message, type 0x0001 (spec §IV.A.2.b), versions 1 and 2: the current dims.
 *
 * @module
 */
import { UNDEF } from "../constants.ts";
import { u64 } from "../positioned_reader.ts";

/** Version 1 flag bit 1: a permutation index is present (never implemented by HDF5). */
const FLAG_PERMUTATION = 2;
/** Version 2 dataspace type 2: null (no elements, h5py's `Empty`). */
const TYPE_NULL = 2;

/** HDF5's H5S_MAX_RANK. */
export const MAX_RANK = 32;

/**
 * The dims of a dataspace message, slowest first, or a string naming what is unsupported.
 * `damaged` builds the error for bytes no HDF5 library accepts (a rank past 32, an extent past
 * 2^53).
 */
export function parseDataspace(v: DataView, damaged: (why: string) => Error): number[] | string {
  const version = v.getUint8(0);
  const rank = v.getUint8(1);
  if (rank > MAX_RANK) throw damaged(`dataspace rank ${rank}, more than ${MAX_RANK}`);
  const flags = v.getUint8(2);
  let at: number;
  if (version === 1) {
    if (flags & FLAG_PERMUTATION) return "dataspace with a permutation index";
    at = 8;
  } else if (version === 2) {
    if (v.getUint8(3) === TYPE_NULL) return "null dataspace";
    at = 4;
  } else {
    return `dataspace message version ${version}`;
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = u64(v, at + 8 * i);
    if (d === UNDEF) return "undefined current dimension";
    if (!Number.isSafeInteger(d)) throw damaged(`dataspace dimension ${i} is ${d}, past 2^53`);
    dims.push(d);
  }
  return dims;
}
