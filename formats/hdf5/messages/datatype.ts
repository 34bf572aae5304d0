/**
 * Datatype message, type 0x0003, version 1 (spec §IV.A.2.d; HDF5_PROFILE.md §5.3): IEEE floats
 * (class 1), integers (class 0), numpy bool as h5py writes it (enum, class 8, over int8 with
 * FALSE=0, TRUE=1) and fixed-length strings (class 3) for attributes.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MESSAGE_FLAG_CONSTANT, MessageType } from "../constants.ts";
import { type DType, DTYPES } from "../../dtype.ts";
import type { HeaderMessage } from "../object_header.ts";

const CLASS_FIXED = 0;
const CLASS_FLOAT = 1;
const CLASS_STRING = 3;
const CLASS_ENUM = 8;
const VERSION = 1;

// Float bit layouts: sign position, exponent location/size, mantissa size, bias.
const FLOATS: Record<number, [number, number, number, number, number]> = {
  2: [15, 10, 5, 10, 15],
  4: [31, 23, 8, 23, 127],
  8: [63, 52, 11, 52, 1023],
};

function header(w: ByteWriter, cls: number, bits: number, size: number): void {
  w.u8((VERSION << 4) | cls) // class and version
    .u8(bits & 0xff) // class bit field, bits 0-7
    .u8((bits >> 8) & 0xff) // bits 8-15
    .u8((bits >> 16) & 0xff) // bits 16-23
    .u32(size); // size in bytes
}

function fixedPoint(size: number, signed: boolean): Uint8Array {
  const w = new ByteWriter(12);
  header(w, CLASS_FIXED, signed ? 0x08 : 0, size); // bit 0 LE, bit 3 two's complement
  w.u16(0) // bit offset
    .u16(8 * size); // bit precision
  return w.bytes;
}

function floatingPoint(size: number): Uint8Array {
  const [sign, expLoc, expSize, mantSize, bias] = FLOATS[size];
  const w = new ByteWriter(20);
  // bit 0 LE, bits 4-5 mantissa normalisation 2 (implied MSB), bits 8-15 sign position.
  header(w, CLASS_FLOAT, 0x20 | (sign << 8), size);
  w.u16(0) // bit offset
    .u16(8 * size) // bit precision
    .u8(expLoc) // exponent location
    .u8(expSize) // exponent size
    .u8(0) // mantissa location
    .u8(mantSize) // mantissa size
    .u32(bias); // exponent bias
  return w.bytes;
}

const ENUM_NAMES = ["FALSE", "TRUE"];

function boolEnum(): Uint8Array {
  const base = fixedPoint(1, true);
  const names = ENUM_NAMES.map((n) => Math.ceil((n.length + 1) / 8) * 8);
  const w = new ByteWriter(8 + base.length + names[0] + names[1] + 2);
  header(w, CLASS_ENUM, ENUM_NAMES.length, 1); // bits 0-15: number of members
  w.raw(base); // base type
  ENUM_NAMES.forEach((n, i) => w.raw(new TextEncoder().encode(n)).skip(names[i] - n.length));
  w.u8(0).u8(1); // member values, one base-type element each
  return w.bytes;
}

/** Encodes the datatype of `dtype` (unpadded message data). */
export function encodeDatatype(dtype: DType): Uint8Array {
  const info = DTYPES[dtype];
  switch (info.kind) {
    case "float":
      return floatingPoint(info.size);
    case "int":
      return fixedPoint(info.size, true);
    case "uint":
      return fixedPoint(info.size, false);
    case "bool":
      return boolEnum();
  }
}

/** Encodes a fixed-length, null-padded UTF-8 string type of `length` bytes. */
export function encodeStringType(length: number): Uint8Array {
  const w = new ByteWriter(8);
  header(w, CLASS_STRING, 0x01 | (1 << 4), length); // padding 1 = null pad, charset 1 = UTF-8
  return w.bytes;
}

/** The datatype header message for `dtype` (constant, as h5py flags it). */
export function datatypeMessage(dtype: DType): HeaderMessage {
  return { type: MessageType.DATATYPE, flags: MESSAGE_FLAG_CONSTANT, data: encodeDatatype(dtype) };
}
