/**
 * Superblock version 0 with the root group's symbol table entry (spec §II.A; HDF5_PROFILE.md §3).
 *
 * @module
 */
import { ByteWriter } from "./byte_writer.ts";
import {
  GROUP_INTERNAL_K,
  GROUP_LEAF_K,
  HDF5_SIGNATURE,
  OFFSET_SIZE,
  SUPERBLOCK_SIZE,
  UNDEF,
} from "./constants.ts";
import { type SymbolEntry, writeSymbolEntry } from "./symbol_table_node.ts";

/** Where the root group lives and how long the file is. */
export interface SuperblockInput {
  /** End of File Address: must equal the file length. */
  eof: number;
  /** Root group object header. */
  rootHeader: number;
  /** Root group B-tree. */
  rootBtree: number;
  /** Root group local heap. */
  rootHeap: number;
}

/** Encodes the 96-byte superblock. */
export function encodeSuperblock(s: SuperblockInput): Uint8Array {
  const w = new ByteWriter(SUPERBLOCK_SIZE);
  w.raw(HDF5_SIGNATURE)
    .u8(0) // superblock version
    .u8(0) // free-space storage version
    .u8(0) // root group symbol table entry version
    .u8(0) // reserved
    .u8(0) // shared header message format version
    .u8(OFFSET_SIZE) // size of offsets
    .u8(OFFSET_SIZE) // size of lengths
    .u8(0) // reserved
    .u16(GROUP_LEAF_K)
    .u16(GROUP_INTERNAL_K)
    .u32(0) // file consistency flags
    .u64(0) // base address
    .u64(UNDEF) // address of free-space info
    .u64(s.eof) // end of file address
    .u64(UNDEF); // driver information block address
  const root: SymbolEntry = {
    nameOffset: 0,
    header: s.rootHeader,
    group: { btree: s.rootBtree, heap: s.rootHeap },
  };
  writeSymbolEntry(w, root);
  return w.bytes;
}
