/**
 * Datatype message, type 0x0003 (spec §IV.A.2.d): little-endian IEEE floats (class 1) of 2, 4
 * or 8 bytes, little-endian integers (class 0) of 1-8 bytes, and h5py's bool (class 8, an
 * enum `{FALSE: 0, TRUE: 1}` over int8). Anything else is unsupported.
 *
 * @module
 */
import type { DType } from "../../dtype.ts";

const CLASS_FIXED = 0;
const CLASS_FLOAT = 1;
const CLASS_ENUM = 8;
/** Class bit field bit 0: big-endian; for floats bit 6 with it marks VAX order. */
const BIG_ENDIAN = 0x01;
const VAX_ORDER = 0x40;
/** Padding bits (low, high, internal): IEEE floats have none. */
const PAD_BITS = 0x0e;
/** Fixed-point bit 3: signed (two's complement). */
const SIGNED = 0x08;
/** Float bits 4-5: mantissa normalisation; 2 is "implied MSB" (IEEE). */
const NORM_MASK = 0x30;
const NORM_IMPLIED = 0x20;

/** Exponent location and size, mantissa location and size, bias: IEEE 754 per byte size. */
const IEEE: Record<number, [DType, number, number, number, number, number]> = {
  2: ["float16", 10, 5, 0, 10, 15],
  4: ["float32", 23, 8, 0, 23, 127],
  8: ["float64", 52, 11, 0, 52, 1023],
};
const INTS: Record<number, DType> = { 1: "int8", 2: "int16", 4: "int32", 8: "int64" };
const UINTS: Record<number, DType> = { 1: "uint8", 2: "uint16", 4: "uint32", 8: "uint64" };

/** Datatype message versions HDF5 1.10 knows (HDF5 2.0's version 5 is for complex numbers). */
const MAX_VERSION = 4;

/**
 * The dtype of a datatype message at `at` in `v`, or a string saying why not (big-endian data,
 * another class: h5wasm reads those). `damaged` builds the error for what no HDF5 library
 * accepts (version 0) and for numbers h5py cannot map to a numpy type (a float that is not
 * IEEE, an integer with padding bits): a cache holding them is unreadable for its consumer.
 */
export function parseDatatype(
  v: DataView,
  damaged: (why: string) => Error,
  at = 0,
): { dtype: DType } | string {
  const classVersion = v.getUint8(at);
  const cls = classVersion & 0x0f;
  const version = classVersion >> 4;
  if (version === 0 || version > MAX_VERSION) throw damaged(`datatype message version ${version}`);
  const bits0 = v.getUint8(at + 1);
  const size = v.getUint32(at + 4, true);
  if (cls === CLASS_FIXED) {
    if (bits0 & BIG_ENDIAN) return "big-endian integer";
    const offset = v.getUint16(at + 8, true);
    const precision = v.getUint16(at + 10, true);
    const dtype = ((bits0 & SIGNED) ? INTS : UINTS)[size];
    if (!dtype) return `${size}-byte integer`;
    if (offset !== 0 || precision !== 8 * size) {
      throw damaged(`${size}-byte integer with bit offset ${offset} and precision ${precision}`);
    }
    return { dtype };
  }
  if (cls === CLASS_FLOAT) {
    const ieee = IEEE[size];
    if (!ieee) return `${size}-byte float`;
    // Checked before the byte order: a VAX or non-IEEE float is no big-endian one.
    if (
      (bits0 & VAX_ORDER) || (bits0 & PAD_BITS) || (bits0 & NORM_MASK) !== NORM_IMPLIED ||
      v.getUint8(at + 2) !== 8 * size - 1 ||
      v.getUint16(at + 8, true) !== 0 || v.getUint16(at + 10, true) !== 8 * size ||
      v.getUint8(at + 12) !== ieee[1] || v.getUint8(at + 13) !== ieee[2] ||
      v.getUint8(at + 14) !== ieee[3] || v.getUint8(at + 15) !== ieee[4] ||
      v.getUint32(at + 16, true) !== ieee[5]
    ) {
      throw damaged(`${size}-byte float that is not IEEE 754`);
    }
    if (bits0 & BIG_ENDIAN) return "big-endian float";
    return { dtype: ieee[0] };
  }
  if (cls === CLASS_ENUM) return parseBoolEnum(v, at, version, size, damaged);
  return `datatype class ${cls}`;
}

/** h5py's bool: 2 members over a 1-byte signed base, FALSE = 0 and TRUE = 1. */
function parseBoolEnum(
  v: DataView,
  at: number,
  version: number,
  size: number,
  damaged: (why: string) => Error,
): { dtype: DType } | string {
  const members = v.getUint16(at + 1, true);
  const base = at + 8;
  if (
    size !== 1 || members !== 2 ||
    (parseDatatype(v, damaged, base) as { dtype?: DType }).dtype !== "int8"
  ) {
    return "enum other than h5py's bool";
  }
  // The base type is a fixed-point message: 8 bytes + 4 of properties.
  let p = base + 12;
  const names: string[] = [];
  for (let m = 0; m < members; m++) {
    let end = p;
    while (v.getUint8(end) !== 0) end++;
    names.push(String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset + p, end - p)));
    // Versions 1 and 2 pad each name (with its NUL) to a multiple of 8.
    p = version >= 3 ? end + 1 : p + Math.ceil((end - p + 1) / 8) * 8;
  }
  const values = [v.getInt8(p), v.getInt8(p + 1)];
  const ok =
    names.every((n, i) =>
      (n === "FALSE" && values[i] === 0) || (n === "TRUE" && values[i] === 1)
    ) &&
    names[0] !== names[1];
  return ok ? { dtype: "bool" } : "enum other than h5py's bool";
}
