/**
 * Sizes, signatures and type ids of the HDF5 "earliest" profile we write (HDF5_PROFILE.md §11).
 * Every offset or length the encoder uses is derived from the values here.
 *
 * @module
 */

/** Undefined address (all ones); also the "unlimited" max dimension. Encoded by {@linkcode ByteWriter.u64}. */
export const UNDEF: number = -1;

/** Size of Offsets and Size of Lengths in the superblock. */
export const OFFSET_SIZE = 8;

/** Superblock version 0 including the root symbol table entry. */
export const SUPERBLOCK_SIZE = 96;

/** `\211HDF\r\n\032\n`. */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Group leaf node K: an SNOD holds 2K entries. */
export const GROUP_LEAF_K = 4;
/** Group internal node K: a group B-tree node holds 2K children. */
export const GROUP_INTERNAL_K = 16;
/** Chunk B-tree K (implied by superblock v0): 2K children per node. */
export const CHUNK_K = 32;

/** Symbol table entry. */
export const SYMBOL_ENTRY_SIZE = 40;
/** SNOD: 8-byte header then 2·leafK entries, always written full-size. */
export const SNOD_SIZE: number = 8 + 2 * GROUP_LEAF_K * SYMBOL_ENTRY_SIZE;
/** Local heap header; its data segment follows it. */
export const LOCAL_HEAP_HEADER_SIZE = 32;
/** Heap free-list "none" (H5HL_FREE_NULL); UNDEF there breaks every lookup. */
export const HEAP_FREE_NULL = 1;

/** v1 B-tree node header: signature, type, level, entries used, two siblings. */
export const BTREE_HEADER_SIZE = 24;
/** Group B-tree node, always full-size: 2K children and 2K+1 keys of 8 bytes. */
export const GROUP_BTREE_NODE_SIZE: number = BTREE_HEADER_SIZE + 2 * GROUP_INTERNAL_K * 8 +
  (2 * GROUP_INTERNAL_K + 1) * 8;

/** Chunk B-tree key: size (4), filter mask (4), rank+1 offsets of 8. */
export function chunkKeySize(rank: number): number {
  return 8 + 8 * (rank + 1);
}

/** Chunk B-tree node, always full-size: 2K children and 2K+1 keys. */
export function chunkBtreeNodeSize(rank: number): number {
  return BTREE_HEADER_SIZE + 2 * CHUNK_K * 8 + (2 * CHUNK_K + 1) * chunkKeySize(rank);
}

/** Object header v1 prefix (version, count, refcount, size, padding). */
export const OBJECT_HEADER_PREFIX_SIZE = 16;
/** Header message envelope: type, size, flags, reserved. */
export const MESSAGE_HEADER_SIZE = 8;

/** Header message type ids (spec §IV.A.2). */
export const MessageType = {
  NIL: 0x0000,
  DATASPACE: 0x0001,
  LINK_INFO: 0x0002,
  DATATYPE: 0x0003,
  FILL_VALUE: 0x0005,
  LINK: 0x0006,
  LAYOUT: 0x0008,
  FILTER_PIPELINE: 0x000b,
  ATTRIBUTE: 0x000c,
  CONTINUATION: 0x0010,
  SYMBOL_TABLE: 0x0011,
  MODIFICATION_TIME: 0x0012,
} as const;

/** Header message flag bit 0: the message is constant. */
export const MESSAGE_FLAG_CONSTANT = 1;

/** Rounds `n` up to a multiple of 8. */
export function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
