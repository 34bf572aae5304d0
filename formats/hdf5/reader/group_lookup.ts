/**
 * Old-style group lookup (spec §III.A.1 v1 B-tree type 0, §III.B symbol table node): finds ONE
 * name by descending the group's B-tree by key and binary-searching one SNOD, or lists a group
 * in order. Nodes, SNODs and heaps are cached in bounded LRUs.
 *
 * @module
 */
import { BTREE_HEADER_SIZE, SYMBOL_ENTRY_SIZE } from "../constants.ts";
import { compareName, nameAt, readLocalHeap } from "./local_heap.ts";
import { Lru } from "./lru.ts";
import { type PositionedReader, signature, u64, viewOf } from "./positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";

/** A group's symbol table: its B-tree root and local heap. */
export interface SymbolTable {
  btree: number;
  heap: number;
}

/** One symbol table entry (spec §III.C); its scratch-pad cache is ignored (it can be stale). */
export interface SymbolEntry {
  name: string;
  header: number;
}

/** Cache type 2: a soft link. */
const CACHE_SOFT_LINK = 2;
/** Deeper than this is a loop. */
const MAX_DEPTH = 64;

interface GroupNode {
  level: number;
  /** Heap offsets of key 0..n. */
  keys: number[];
  children: number[];
}

interface Snod {
  nameOffsets: number[];
  entries: DataView;
}

/** Looks names up in the old-style groups of one file. */
export class GroupLookup {
  #reader: PositionedReader;
  // Per open file. 512 nodes hold every internal node of a 25k-sample shard (103); SNODs,
  // one per 8 names, are the part a random key misses.
  #nodes = new Lru<number, GroupNode>(512);
  #snods = new Lru<number, Snod>(512);
  #heaps: Lru<number, Uint8Array>;

  constructor(reader: PositionedReader, maxHeapBytes = 4 << 20) {
    this.#reader = reader;
    this.#heaps = new Lru(256, maxHeapBytes);
  }

  #fail(why: string): UnsupportedHdf5Error {
    return new UnsupportedHdf5Error(this.#reader.name, why);
  }

  #heap(address: number): Uint8Array {
    let heap = this.#heaps.get(address);
    if (!heap) {
      heap = readLocalHeap(this.#reader, address);
      this.#heaps.set(address, heap, heap.length);
    }
    return heap;
  }

  #node(address: number): GroupNode {
    let node = this.#nodes.get(address);
    if (node) return node;
    const head = viewOf(this.#reader.read(address, BTREE_HEADER_SIZE, "group B-tree node"));
    if (signature(head, 0) !== "TREE" || head.getUint8(4) !== 0) {
      throw this.#fail(`no group B-tree node at ${address}`);
    }
    const level = head.getUint8(5);
    const n = head.getUint16(6, true);
    const body = viewOf(
      this.#reader.read(address + BTREE_HEADER_SIZE, 16 * n + 8, "group B-tree node"),
    );
    const keys: number[] = [];
    const children: number[] = [];
    for (let i = 0; i < n; i++) {
      keys.push(u64(body, 16 * i));
      children.push(u64(body, 16 * i + 8));
    }
    keys.push(u64(body, 16 * n));
    node = { level, keys, children };
    this.#nodes.set(address, node);
    return node;
  }

  #snod(address: number): Snod {
    let snod = this.#snods.get(address);
    if (snod) return snod;
    const head = viewOf(this.#reader.read(address, 8, "symbol table node"));
    if (signature(head, 0) !== "SNOD" || head.getUint8(4) !== 1) {
      throw this.#fail(`no symbol table node at ${address}`);
    }
    const n = head.getUint16(6, true);
    const entries = viewOf(
      this.#reader.read(address + 8, n * SYMBOL_ENTRY_SIZE, "symbol table node"),
    );
    const nameOffsets: number[] = [];
    for (let i = 0; i < n; i++) nameOffsets.push(u64(entries, i * SYMBOL_ENTRY_SIZE));
    snod = { nameOffsets, entries };
    this.#snods.set(address, snod);
    return snod;
  }

  #entry(snod: Snod, i: number, heap: Uint8Array): SymbolEntry {
    const at = i * SYMBOL_ENTRY_SIZE;
    const e = snod.entries;
    const name = nameAt(heap, snod.nameOffsets[i]);
    const cacheType = e.getUint32(at + 16, true);
    if (cacheType === CACHE_SOFT_LINK) throw this.#fail(`${JSON.stringify(name)} is a soft link`);
    return { name, header: u64(e, at + 8) };
  }

  /** The entry named `name` (UTF-8 bytes) in the group, or undefined. */
  find(group: SymbolTable, name: Uint8Array): SymbolEntry | undefined {
    const heap = this.#heap(group.heap);
    let address = group.btree;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const node = this.#node(address);
      const n = node.children.length;
      // Child i holds the names in (key[i], key[i+1]]: the first i with name <= key[i+1].
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareName(name, heap, node.keys[mid + 1]) <= 0) hi = mid;
        else lo = mid + 1;
      }
      if (lo === n) return undefined;
      if (node.level > 0) {
        address = node.children[lo];
        continue;
      }
      const snod = this.#snod(node.children[lo]);
      let a = 0;
      let b = snod.nameOffsets.length - 1;
      while (a <= b) {
        const mid = (a + b) >> 1;
        const c = compareName(name, heap, snod.nameOffsets[mid]);
        if (c === 0) return this.#entry(snod, mid, heap);
        if (c < 0) b = mid - 1;
        else a = mid + 1;
      }
      return undefined;
    }
    throw this.#fail(`group B-tree at ${group.btree} is too deep`);
  }

  /** Every entry of the group, in HDF5's (UTF-8 byte) order. */
  list(group: SymbolTable): SymbolEntry[] {
    const heap = this.#heap(group.heap);
    const out: SymbolEntry[] = [];
    const walk = (address: number, depth: number) => {
      if (depth > MAX_DEPTH) throw this.#fail(`group B-tree at ${group.btree} is too deep`);
      const node = this.#node(address);
      for (const child of node.children) {
        if (node.level > 0) {
          walk(child, depth + 1);
          continue;
        }
        const snod = this.#snod(child);
        for (let i = 0; i < snod.nameOffsets.length; i++) out.push(this.#entry(snod, i, heap));
      }
    };
    walk(group.btree, 0);
    return out;
  }
}
