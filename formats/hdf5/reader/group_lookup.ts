/**
 * Old-style group lookup (spec §III.A.1 v1 B-tree type 0, §III.B symbol table node): finds ONE
 * name by descending the group's B-tree by key and binary-searching one SNOD, or lists a group
 * in order. Nodes, SNODs and heaps are cached in bounded LRUs.
 *
 * The descent is HDF5's own (H5B_find with the group comparator, then the SNOD search): a name
 * is found here exactly when the HDF5 library finds it, so a damaged key hides a sample from
 * both. Every node is checked against the file's end and the superblock's K before it is used,
 * and every name offset against its heap; damage throws FormatError naming file and offset.
 *
 * @module
 */
import { SYMBOL_ENTRY_SIZE } from "../constants.ts";
import { checkName, compareName, nameAt, readLocalHeap } from "./local_heap.ts";
import { Lru } from "./lru.ts";
import type { SymbolTable } from "../messages/symbol_table_message.ts";
import { type PositionedReader, signature, u64, viewOf } from "../positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";
import { readV1BtreeNode } from "../v1_btree.ts";

/** One link found in a group (spec §III.C); its scratch-pad cache is ignored (it can be stale). */
export interface GroupLink {
  name: string;
  header: number;
}

/** Group and chunk B-tree limits from the superblock. */
export interface BtreeLimits {
  groupLeafK: number;
  groupInternalK: number;
}

/** Cache type 2: a soft link. Higher values are not defined. */
const CACHE_SOFT_LINK = 2;
/** Node type 0 of a v1 B-tree: group nodes. */
const GROUP_NODE = 0;
/** A group node's key: a name's offset in the group's local heap. */
const GROUP_KEY_SIZE = 8;
/** SNOD version. */
const SNOD_VERSION = 1;

interface GroupBtreeNode {
  address: number;
  level: number;
  /** Heap offsets of key 0..n. */
  keys: number[];
  children: number[];
}

interface Snod {
  address: number;
  nameOffsets: number[];
  entries: DataView;
}

/** Looks names up in the old-style groups of one file. */
export class GroupLookup {
  #reader: PositionedReader;
  #limits: BtreeLimits;
  // Per open file. 512 nodes hold every internal node of a 25k-sample shard (103); SNODs,
  // one per 8 names, are the part a random key misses.
  #nodes = new Lru<number, GroupBtreeNode>(512);
  #snods = new Lru<number, Snod>(512);
  #heaps: Lru<number, Uint8Array>;
  /** A node comes in one read into this (see `readV1BtreeNode`). */
  #scratch = { bytes: new Uint8Array(1024) };

  constructor(reader: PositionedReader, limits: BtreeLimits, maxHeapBytes = 4 << 20) {
    this.#reader = reader;
    this.#limits = limits;
    this.#heaps = new Lru(256, maxHeapBytes);
  }

  #heap(address: number): Uint8Array {
    let heap = this.#heaps.get(address);
    if (!heap) {
      heap = readLocalHeap(this.#reader, address);
      this.#heaps.set(address, heap, heap.length);
    }
    return heap;
  }

  /** The group node at `address`, whose parent expects it at level `expected` (-1: the root). */
  #node(address: number, heap: Uint8Array, heapAddress: number, expected: number): GroupBtreeNode {
    const what = "group B-tree node";
    const r = this.#reader;
    let node = this.#nodes.get(address);
    if (!node) {
      const { level, entries: n, body } = readV1BtreeNode(
        r,
        address,
        GROUP_NODE,
        this.#limits.groupInternalK,
        GROUP_KEY_SIZE,
        what,
        this.#scratch,
      );
      const keys: number[] = [];
      const children: number[] = [];
      for (let i = 0; i <= n; i++) {
        const key = u64(body, 16 * i);
        checkName(r, heap, heapAddress, key, `${what} at ${address} key ${i}`);
        keys.push(key);
        if (i < n) {
          const child = u64(body, 16 * i + 8);
          if (!r.inside(child, 1)) r.check(child, 1, `${what} at ${address} child ${i}`);
          children.push(child);
        }
      }
      node = { address, level, keys, children };
      this.#nodes.set(address, node);
    }
    if (expected >= 0 && node.level !== expected) {
      throw r.damaged(what, address, `level ${node.level} where its parent expects ${expected}`);
    }
    return node;
  }

  #snod(address: number, heap: Uint8Array, heapAddress: number): Snod {
    let snod = this.#snods.get(address);
    if (snod) return snod;
    const what = "symbol table node";
    const r = this.#reader;
    r.check(address, 8 + 2 * this.#limits.groupLeafK * SYMBOL_ENTRY_SIZE, what);
    const head = viewOf(r.read(address, 8, what));
    if (signature(head, 0) !== "SNOD") throw r.damaged(what, address, "no SNOD signature");
    if (head.getUint8(4) !== SNOD_VERSION) {
      throw r.damaged(what, address, `version ${head.getUint8(4)}, expected 1`);
    }
    const n = head.getUint16(6, true);
    if (n > 2 * this.#limits.groupLeafK) {
      throw r.damaged(what, address, `${n} entries, more than 2K = ${2 * this.#limits.groupLeafK}`);
    }
    const entries = viewOf(r.read(address + 8, n * SYMBOL_ENTRY_SIZE, what));
    const nameOffsets: number[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * SYMBOL_ENTRY_SIZE;
      const offset = u64(entries, at);
      checkName(r, heap, heapAddress, offset, `${what} at ${address} entry ${i}`);
      const cacheType = entries.getUint32(at + 16, true);
      if (cacheType > CACHE_SOFT_LINK) {
        throw r.damaged(what, address + 8 + at, `entry ${i} has cache type ${cacheType}`);
      }
      nameOffsets.push(offset);
    }
    snod = { address, nameOffsets, entries };
    this.#snods.set(address, snod);
    return snod;
  }

  #link(snod: Snod, i: number, heap: Uint8Array): GroupLink {
    const at = i * SYMBOL_ENTRY_SIZE;
    const e = snod.entries;
    const name = nameAt(heap, snod.nameOffsets[i]);
    const cacheType = e.getUint32(at + 16, true);
    if (cacheType === CACHE_SOFT_LINK) {
      throw new UnsupportedHdf5Error(this.#reader.name, `${JSON.stringify(name)} is a soft link`);
    }
    const header = u64(e, at + 8);
    if (!this.#reader.inside(header, 1)) {
      this.#reader.check(header, 1, `object header of ${JSON.stringify(name)}`);
    }
    return { name, header };
  }

  /** The link named `name` (UTF-8 bytes) in the group, or undefined. */
  find(group: SymbolTable, name: Uint8Array): GroupLink | undefined {
    const heap = this.#heap(group.heap);
    let address = group.btree;
    let expected = -1;
    for (;;) {
      const node = this.#node(address, heap, group.heap, expected);
      // H5B_find: binary search for the child whose keys bracket the name, (left, right].
      let lo = 0;
      let hi = node.children.length;
      let idx = 0;
      let cmp = 1;
      while (lo < hi && cmp !== 0) {
        idx = (lo + hi) >> 1;
        if (compareName(name, heap, node.keys[idx]) <= 0) cmp = -1;
        else if (compareName(name, heap, node.keys[idx + 1]) > 0) cmp = 1;
        else cmp = 0;
        if (cmp < 0) hi = idx;
        else lo = idx + 1;
      }
      if (cmp !== 0) return undefined;
      if (node.level > 0) {
        address = node.children[idx];
        expected = node.level - 1;
        continue;
      }
      // H5G__node_found: the same binary search over the SNOD's sorted names.
      const snod = this.#snod(node.children[idx], heap, group.heap);
      let a = 0;
      let b = snod.nameOffsets.length;
      let i = 0;
      let c = 1;
      while (a < b && c !== 0) {
        i = (a + b) >> 1;
        c = compareName(name, heap, snod.nameOffsets[i]);
        if (c < 0) b = i;
        else a = i + 1;
      }
      return c === 0 ? this.#link(snod, i, heap) : undefined;
    }
  }

  /**
   * Every link of the group, in HDF5's (UTF-8 byte) order. Checks what HDF5's lookups rely on:
   * levels count down, each name lies between its node's keys, and names ascend; a node seen
   * twice is a cycle. Any of these broken throws FormatError.
   */
  list(group: SymbolTable): GroupLink[] {
    const heap = this.#heap(group.heap);
    const out: GroupLink[] = [];
    const seen = new Set<number>();
    const enc = new TextEncoder();
    let previous: Uint8Array | undefined;
    const walk = (address: number, expected: number) => {
      if (seen.has(address)) {
        throw this.#reader.damaged("group B-tree node", address, "reached twice (a cycle)");
      }
      seen.add(address);
      const node = this.#node(address, heap, group.heap, expected);
      for (let i = 0; i < node.children.length; i++) {
        const child = node.children[i];
        if (node.level > 0) {
          walk(child, node.level - 1);
          continue;
        }
        if (seen.has(child)) {
          throw this.#reader.damaged("symbol table node", child, "reached twice (a cycle)");
        }
        seen.add(child);
        const snod = this.#snod(child, heap, group.heap);
        for (let j = 0; j < snod.nameOffsets.length; j++) {
          const link = this.#link(snod, j, heap);
          const bytes = enc.encode(link.name);
          const inRange = compareName(bytes, heap, node.keys[i]) > 0 &&
            compareName(bytes, heap, node.keys[i + 1]) <= 0;
          const ascending = !previous || compareBytes(previous, bytes) < 0;
          if (!inRange || !ascending) {
            throw this.#reader.damaged(
              "symbol table node",
              child,
              `name ${JSON.stringify(link.name)} is ${
                inRange ? "out of order" : "outside its B-tree keys"
              }, so HDF5 cannot find it`,
            );
          }
          previous = bytes;
          out.push(link);
        }
      }
    };
    walk(group.btree, -1);
    return out;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
