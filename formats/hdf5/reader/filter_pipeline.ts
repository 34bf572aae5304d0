/**
 * Filter pipeline message, type 0x000B (spec §IV.A.2.l), versions 1 and 2. The native reader
 * applies deflate (id 1) and shuffle (id 2); any other filter is unsupported.
 *
 * @module
 */
import { FilterId } from "../constants.ts";

/** One filter of the pipeline, in write order. */
export interface Filter {
  id: number;
  /** The filter may be skipped for a chunk (flags bit 0); a mandatory one never is. */
  optional: boolean;
  /** Client data values (deflate: level; shuffle: element size). */
  cd: number[];
}

/** Filter flags bit 0: optional. */
const FLAG_OPTIONAL = 1;
/** Version 2 stores a name only for filter ids at or above this. */
const FIRST_NAMED_ID_V2 = 256;

/**
 * Parses a pipeline message, or returns a string saying why not (another filter: h5wasm's
 * business). `damaged` builds the error for what HDF5 refuses (a name length that is not a
 * multiple of 8 in version 1).
 */
export function parseFilterPipeline(
  v: DataView,
  damaged: (why: string) => Error,
): Filter[] | string {
  const version = v.getUint8(0);
  const n = v.getUint8(1);
  if (version !== 1 && version !== 2) return `filter pipeline version ${version}`;
  let at = version === 1 ? 8 : 2;
  const out: Filter[] = [];
  for (let f = 0; f < n; f++) {
    const id = v.getUint16(at, true);
    let nameLength = 0;
    at += 2;
    if (version === 1 || id >= FIRST_NAMED_ID_V2) {
      nameLength = v.getUint16(at, true);
      if (version === 1 && nameLength % 8 !== 0) {
        throw damaged(`filter ${id} name length ${nameLength} is not a multiple of 8`);
      }
      at += 2;
    }
    const optional = (v.getUint16(at, true) & FLAG_OPTIONAL) !== 0;
    at += 2;
    const ncd = v.getUint16(at, true);
    at += 2 + nameLength;
    const cd: number[] = [];
    for (let i = 0; i < ncd; i++) cd.push(v.getUint32(at + 4 * i, true));
    at += 4 * ncd + (version === 1 && ncd % 2 === 1 ? 4 : 0);
    if (id !== FilterId.DEFLATE && id !== FilterId.SHUFFLE) {
      return `filter ${id} (native reader: deflate and shuffle)`;
    }
    out.push({ id, optional, cd });
  }
  return out;
}
