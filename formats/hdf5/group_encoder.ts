/**
 * An old-style group's metadata in one piece (HDF5_PROFILE.md §4): local heap, SNODs, group
 * B-tree (type 0) and the object header with its symbol table message, laid out back to back.
 *
 * @module
 */
import type { ByteWriter } from "./byte_writer.ts";
import { GROUP_BTREE_NODE_SIZE, GROUP_INTERNAL_K, SNOD_SIZE } from "./constants.ts";
import { encodeLocalHeap } from "./local_heap.ts";
import { symbolTableMessage } from "./messages/symbol_table_message.ts";
import { encodeObjectHeader, type HeaderMessage } from "./object_header.ts";
import { encodeSymbolNodes, SNOD_CAPACITY, type SymbolEntry } from "./symbol_table_node.ts";
import { encodeV1Btree } from "./v1_btree.ts";

/** One child of a group, named by its UTF-8 bytes. */
export interface GroupChild {
  /** UTF-8 bytes of the link name. */
  name: Uint8Array;
  /** The child's object header. */
  header: number;
  /** For a subgroup: its B-tree and heap (cached in the parent's entry). */
  group?: { btree: number; heap: number };
}

/** A group's encoded metadata and the addresses its parent needs. */
export interface EncodedGroup {
  /** Heap, SNODs, B-tree nodes and object header, back to back. */
  bytes: Uint8Array;
  /** Address of the object header. */
  header: number;
  /** Address of the B-tree root. */
  btree: number;
  /** Address of the local heap (its header). */
  heap: number;
}

/** Byte-wise comparison of UTF-8 names, as HDF5's `strcmp` (not JS's UTF-16 order). */
export function compareNames(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Encodes a group placed at `base` (a multiple of 8). `children` must be sorted with
 * {@linkcode compareNames}; `messages` are extra header messages (attributes).
 */
export function encodeGroup(
  children: readonly GroupChild[],
  messages: readonly HeaderMessage[],
  base: number,
): EncodedGroup {
  const heap = encodeLocalHeap(children.map((c) => c.name), base);
  const entries: SymbolEntry[] = children.map((c, i) => ({
    nameOffset: heap.offsets[i],
    header: c.header,
    group: c.group,
  }));
  const snods = encodeSymbolNodes(entries);
  const snodBase = base + heap.bytes.length;
  const btreeBase = snodBase + snods.length;
  const snodCount = snods.length / SNOD_SIZE;
  // Key j bounds SNOD j from the left: "" first, then the last name of the SNOD before it.
  const lastName = (j: number) => heap.offsets[Math.min(j * SNOD_CAPACITY, children.length) - 1];
  const btree = encodeV1Btree({
    type: 0,
    nodeSize: GROUP_BTREE_NODE_SIZE,
    fanout: 2 * GROUP_INTERNAL_K,
    keySize: 8,
    count: snodCount,
    base: btreeBase,
    childAddress: (i) => snodBase + i * SNOD_SIZE,
    writeKey: (w: ByteWriter, j: number) => void w.u64(j === 0 ? 0 : lastName(j)),
  });
  const headerAddress = btreeBase + btree.bytes.length;
  const header = encodeObjectHeader([symbolTableMessage(btree.root, base), ...messages]);
  const bytes = new Uint8Array(headerAddress - base + header.length);
  bytes.set(heap.bytes, 0);
  bytes.set(snods, snodBase - base);
  bytes.set(btree.bytes, btreeBase - base);
  bytes.set(header, headerAddress - base);
  return { bytes, header: headerAddress, btree: btree.root, heap: base };
}
