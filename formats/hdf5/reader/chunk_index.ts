/**
 * The chunk index of a chunked dataset: a v1 B-tree of type 1 (spec §III.A.1). Finds the chunks
 * a set of chunk offsets names by descending by key (never a walk of the whole tree); nodes
 * are parsed once and kept in a bounded LRU.
 *
 * @module
 */
import { BTREE_HEADER_SIZE, chunkKeySize } from "../constants.ts";
import { Lru } from "./lru.ts";
import { type PositionedReader, signature, u64, viewOf } from "./positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";

/** A stored chunk: where it is, its filtered size and which filters it skipped. */
export interface ChunkRef {
  /** Offset of the chunk's first element, per axis. */
  offset: number[];
  address: number;
  size: number;
  filterMask: number;
}

interface ChunkNode {
  level: number;
  /** Keys 0..n: chunk offsets (element dimension dropped). */
  offsets: number[][];
  sizes: number[];
  masks: number[];
  children: number[];
}

/** Deeper than this is a loop. */
const MAX_DEPTH = 64;

/** Lexicographic order of two chunk offsets. */
export function compareOffsets(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Chunk B-tree nodes of one file. */
export class ChunkIndex {
  #reader: PositionedReader;
  #nodes: Lru<number, ChunkNode>;

  constructor(reader: PositionedReader, maxNodes = 128) {
    this.#reader = reader;
    this.#nodes = new Lru(maxNodes);
  }

  #node(address: number, rank: number): ChunkNode {
    let node = this.#nodes.get(address);
    if (node) return node;
    const name = this.#reader.name;
    const head = viewOf(this.#reader.read(address, BTREE_HEADER_SIZE, "chunk B-tree node"));
    if (signature(head, 0) !== "TREE" || head.getUint8(4) !== 1) {
      throw new UnsupportedHdf5Error(name, `no chunk B-tree node at ${address}`);
    }
    const level = head.getUint8(5);
    const n = head.getUint16(6, true);
    const keySize = chunkKeySize(rank);
    const body = viewOf(
      this.#reader.read(
        address + BTREE_HEADER_SIZE,
        n * (keySize + 8) + keySize,
        "chunk B-tree node",
      ),
    );
    node = { level, offsets: [], sizes: [], masks: [], children: [] };
    for (let i = 0; i <= n; i++) {
      const at = i * (keySize + 8);
      node.sizes.push(body.getUint32(at, true));
      node.masks.push(body.getUint32(at + 4, true));
      const offset: number[] = [];
      for (let d = 0; d < rank; d++) offset.push(u64(body, at + 8 + 8 * d));
      node.offsets.push(offset);
      if (i < n) node.children.push(u64(body, at + keySize));
    }
    this.#nodes.set(address, node);
    return node;
  }

  /**
   * The stored chunks among `wanted` (chunk offsets sorted lexicographically), in that order;
   * a wanted chunk that was never written is left out (it reads as the fill value).
   */
  find(root: number, rank: number, wanted: readonly number[][]): ChunkRef[] {
    const out: ChunkRef[] = [];
    const visit = (address: number, lo: number, hi: number, depth: number) => {
      if (depth > MAX_DEPTH) {
        throw new UnsupportedHdf5Error(this.#reader.name, `chunk B-tree at ${root} is too deep`);
      }
      const node = this.#node(address, rank);
      const n = node.children.length;
      if (n === 0) return;
      if (node.level > 0) {
        // Child i holds [key[i], key[i+1]); anything before key[0] or past key[n] goes to
        // the outer children, where the leaves' exact match settles it.
        let w = lo;
        for (let i = 0; i < n && w < hi; i++) {
          let end = w;
          if (i === n - 1) end = hi;
          else while (end < hi && compareOffsets(wanted[end], node.offsets[i + 1]) < 0) end++;
          if (end > w) visit(node.children[i], w, end, depth + 1);
          w = end;
        }
        return;
      }
      let k = 0;
      for (let w = lo; w < hi; w++) {
        while (k < n && compareOffsets(node.offsets[k], wanted[w]) < 0) k++;
        if (k === n) break;
        if (compareOffsets(node.offsets[k], wanted[w]) === 0) {
          out.push({
            offset: node.offsets[k],
            address: node.children[k],
            size: node.sizes[k],
            filterMask: node.masks[k],
          });
        }
      }
    };
    if (wanted.length) visit(root, 0, wanted.length, 0);
    return out;
  }
}
