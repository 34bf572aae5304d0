/**
 * Local heap (spec §III.D; HDF5_PROFILE.md §4.2): a group's names, `""` at offset 0, each name
 * NUL-terminated and padded to 8; the data segment follows the 32-byte header.
 *
 * @module
 */
import { ByteWriter } from "./byte_writer.ts";
import { HEAP_FREE_NULL, LOCAL_HEAP_HEADER_SIZE } from "./constants.ts";

/** A heap's bytes and where each name landed. */
export interface EncodedHeap {
  /** Header and data segment. */
  bytes: Uint8Array;
  /** Offset of name i in the data segment. */
  offsets: number[];
}

/** Size of the data segment for names of these UTF-8 byte lengths. */
export function heapDataSize(nameLengths: readonly number[]): number {
  let size = 8; // "" at offset 0: the left-most group B-tree key
  for (const n of nameLengths) size += Math.ceil((n + 1) / 8) * 8;
  return size;
}

/** Encodes the heap placed at `address` holding `names` (UTF-8 bytes). */
export function encodeLocalHeap(names: readonly Uint8Array[], address: number): EncodedHeap {
  const dataSize = heapDataSize(names.map((n) => n.length));
  const w = new ByteWriter(LOCAL_HEAP_HEADER_SIZE + dataSize);
  w.raw([0x48, 0x45, 0x41, 0x50]) // "HEAP"
    .u8(0) // version
    .skip(3) // reserved
    .u64(dataSize) // data segment size
    .u64(HEAP_FREE_NULL) // offset to head of free list: none
    .u64(address + LOCAL_HEAP_HEADER_SIZE); // address of data segment
  const offsets = new Array<number>(names.length);
  let at = 8;
  for (let i = 0; i < names.length; i++) {
    offsets[i] = at;
    w.seek(LOCAL_HEAP_HEADER_SIZE + at).raw(names[i]);
    at += Math.ceil((names[i].length + 1) / 8) * 8;
  }
  return { bytes: w.bytes, offsets };
}
