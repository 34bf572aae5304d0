/**
 * Object header version 1 (spec §IV.A.1.a): a 16-byte prefix, then messages each padded to 8.
 *
 * @module
 */
import { ByteWriter } from "./byte_writer.ts";
import { MESSAGE_HEADER_SIZE, OBJECT_HEADER_PREFIX_SIZE, pad8 } from "./constants.ts";

/** One header message: its type id, flags and unpadded data. */
export interface HeaderMessage {
  /** Message type id (see `MessageType` in constants.ts). */
  type: number;
  /** Message flags (bit 0: constant). */
  flags: number;
  /** Message data, unpadded. */
  data: Uint8Array;
}

/** Bytes of a v1 object header holding `messages`. */
export function objectHeaderSize(messages: readonly HeaderMessage[]): number {
  let size = OBJECT_HEADER_PREFIX_SIZE;
  for (const m of messages) size += MESSAGE_HEADER_SIZE + pad8(m.data.length);
  return size;
}

/** Encodes a v1 object header, exact-size (no spare NIL space). */
export function encodeObjectHeader(messages: readonly HeaderMessage[]): Uint8Array {
  const size = objectHeaderSize(messages);
  const w = new ByteWriter(size);
  w.u8(1) // version
    .u8(0) // reserved
    .u16(messages.length) // total number of header messages
    .u32(1) // object reference count
    .u32(size - OBJECT_HEADER_PREFIX_SIZE) // object header size
    .u32(0); // padding to align the first message
  for (const m of messages) {
    const padded = pad8(m.data.length);
    if (padded > 0xffff) {
      throw new RangeError(`header message of type ${m.type} is ${padded} bytes (max 65535)`);
    }
    w.u16(m.type).u16(padded).u8(m.flags).skip(3).raw(m.data).skip(padded - m.data.length);
  }
  return w.bytes;
}
