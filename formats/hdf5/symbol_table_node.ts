/**
 * Symbol table entries and symbol table nodes, SNOD (spec §III.B, §III.C; HDF5_PROFILE.md §4.1,
 * §4.3).
 *
 * @module
 */
import { ByteWriter } from "./byte_writer.ts";
import { GROUP_LEAF_K, SNOD_SIZE, SYMBOL_ENTRY_SIZE } from "./constants.ts";
import type { SymbolTable } from "./messages/symbol_table_message.ts";

/** One link of a group: the name's heap offset and the child's object header. */
export interface SymbolEntry {
  /** Offset of the name in the parent's local heap data segment. */
  nameOffset: number;
  /** The child's object header. */
  header: number;
  /** For a subgroup: its B-tree and heap, cached in the scratch-pad (cache type 1). */
  group?: SymbolTable;
}

/** Writes a 40-byte symbol table entry at the writer's position. */
export function writeSymbolEntry(w: ByteWriter, e: SymbolEntry): void {
  const at = w.offset;
  w.u64(e.nameOffset) // link name offset
    .u64(e.header) // object header address
    .u32(e.group ? 1 : 0) // cache type
    .u32(0); // reserved
  if (e.group) w.u64(e.group.btree).u64(e.group.heap); // scratch-pad
  w.seek(at + SYMBOL_ENTRY_SIZE);
}

/** Entries per SNOD (2 · leaf K). */
export const SNOD_CAPACITY = 2 * GROUP_LEAF_K;

/**
 * Encodes SNODs for `entries` (already sorted by name bytes), 8 per node, each node
 * full-size: the library writes the fixed size back when it updates a node.
 */
export function encodeSymbolNodes(entries: readonly SymbolEntry[]): Uint8Array {
  const nodes = Math.ceil(entries.length / SNOD_CAPACITY);
  const w = new ByteWriter(nodes * SNOD_SIZE);
  for (let n = 0; n < nodes; n++) {
    const used = Math.min(SNOD_CAPACITY, entries.length - n * SNOD_CAPACITY);
    w.seek(n * SNOD_SIZE)
      .raw([0x53, 0x4e, 0x4f, 0x44]) // "SNOD"
      .u8(1) // version
      .u8(0) // reserved
      .u16(used); // number of symbols
    for (let i = 0; i < used; i++) writeSymbolEntry(w, entries[n * SNOD_CAPACITY + i]);
  }
  return w.bytes;
}
