/**
 * The chunk index of a chunked dataset: a v1 B-tree of type 1 (spec §III.A.1). Finds the chunks
 * a set of chunk offsets names by descending by key (never a walk of the whole tree), or lists
 * every chunk ({@linkcode ChunkIndex.list}, for copying chunks as they are); nodes are parsed
 * once and kept in a bounded LRU.
 *
 * Every node is checked before use: signature, type, at most 2K children, levels counting
 * down, keys ascending, element offset 0, each chunk inside the file and no bigger than
 * deflate could make it. Damage throws FormatError naming the file and the node's offset.
 *
 * @module
 */
import { BTREE_HEADER_SIZE, CHUNK_K, chunkKeySize } from "../constants.ts";
import { Lru } from "./lru.ts";
import { type PositionedReader, u64 } from "../positioned_reader.ts";
import { readV1BtreeNode } from "../v1_btree.ts";

/** A stored chunk: where it is, its filtered size and which filters it skipped. */
export interface ChunkRef {
  /** Offset of the chunk's first element, per axis. */
  offset: number[];
  address: number;
  size: number;
  filterMask: number;
}

interface ChunkNode {
  address: number;
  level: number;
  /** Keys 0..n: chunk offsets (element dimension dropped). */
  offsets: number[][];
  sizes: number[];
  masks: number[];
  children: number[];
}

/** Node type 1 of a v1 B-tree: chunk nodes. */
const CHUNK_NODE = 1;
/** A stored chunk may exceed its raw size by zlib's worst case plus headers. */
const MAX_GROWTH = 1.01;
const GROWTH_SLACK = 1024;

/** Lexicographic order of two chunk offsets. */
export function compareOffsets(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** What the index needs to know of the dataset whose chunks it finds. */
export interface ChunkedDataset {
  /** Root of the chunk B-tree. */
  btree: number;
  rank: number;
  /** Uncompressed bytes of one chunk: a stored chunk is never much bigger. */
  chunkBytes: number;
}

/** Chunk B-tree nodes of one file. */
export class ChunkIndex {
  #reader: PositionedReader;
  #k: number;
  #nodes: Lru<number, ChunkNode>;

  constructor(reader: PositionedReader, k = CHUNK_K, maxNodes = 128) {
    this.#reader = reader;
    this.#k = k;
    this.#nodes = new Lru(maxNodes);
  }

  #node(address: number, d: ChunkedDataset, expected: number): ChunkNode {
    let node = this.#nodes.get(address);
    const r = this.#reader;
    const what = "chunk B-tree node";
    if (!node) {
      const keySize = chunkKeySize(d.rank);
      const { level, entries: n, body } = readV1BtreeNode(
        r,
        address,
        CHUNK_NODE,
        this.#k,
        keySize,
        what,
      );
      node = { address, level, offsets: [], sizes: [], masks: [], children: [] };
      const maxStored = d.chunkBytes * MAX_GROWTH + GROWTH_SLACK;
      for (let i = 0; i <= n; i++) {
        const at = i * (keySize + 8);
        const size = body.getUint32(at, true);
        const offset: number[] = [];
        for (let j = 0; j < d.rank; j++) offset.push(u64(body, at + 8 + 8 * j));
        // The right-most key may point one element past the last chunk (h5py's do).
        if (i < n && u64(body, at + 8 + 8 * d.rank) !== 0) {
          throw r.damaged(what, address, `key ${i} has a non-zero element offset`);
        }
        if (i > 0 && compareOffsets(node.offsets[i - 1], offset) >= 0 && i < n) {
          throw r.damaged(what, address, `key ${i} ${JSON.stringify(offset)} is out of order`);
        }
        node.sizes.push(size);
        node.masks.push(body.getUint32(at + 4, true));
        node.offsets.push(offset);
        if (i < n) {
          const child = u64(body, at + keySize);
          if (level === 0) {
            if (size === 0 || size > maxStored) {
              throw r.damaged(what, address, `chunk ${i} claims ${size} stored bytes`);
            }
            r.check(child, size, `chunk ${JSON.stringify(offset)}`);
          } else {
            r.check(child, BTREE_HEADER_SIZE, `${what} at ${address} child ${i}`);
          }
          node.children.push(child);
        }
      }
      this.#nodes.set(address, node);
    }
    if (expected >= 0 && node.level !== expected) {
      throw r.damaged(what, address, `level ${node.level} where its parent expects ${expected}`);
    }
    return node;
  }

  /**
   * The stored chunks among `wanted` (chunk offsets sorted lexicographically), in that order;
   * a wanted chunk that was never written is left out.
   */
  find(d: ChunkedDataset, wanted: readonly number[][]): ChunkRef[] {
    const out: ChunkRef[] = [];
    const visit = (address: number, lo: number, hi: number, expected: number) => {
      const node = this.#node(address, d, expected);
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
          if (end > w) visit(node.children[i], w, end, node.level - 1);
          w = end;
        }
        return;
      }
      let k = 0;
      for (let w = lo; w < hi; w++) {
        while (k < n && compareOffsets(node.offsets[k], wanted[w]) < 0) k++;
        if (k === n) break;
        if (compareOffsets(node.offsets[k], wanted[w]) === 0) out.push(ref(node, k));
      }
    };
    if (wanted.length) visit(d.btree, 0, wanted.length, -1);
    return out;
  }

  /**
   * Every stored chunk of the dataset, in key order: offset, filter mask, address and stored
   * size, as a raw copy of the chunks needs them. A node reached twice throws FormatError.
   */
  list(d: ChunkedDataset): ChunkRef[] {
    const out: ChunkRef[] = [];
    const seen = new Set<number>();
    const visit = (address: number, expected: number) => {
      if (seen.has(address)) {
        throw this.#reader.damaged("chunk B-tree node", address, "reached twice (a cycle)");
      }
      seen.add(address);
      const node = this.#node(address, d, expected);
      for (let i = 0; i < node.children.length; i++) {
        if (node.level > 0) visit(node.children[i], node.level - 1);
        else out.push(ref(node, i));
      }
    };
    visit(d.btree, -1);
    return out;
  }
}

function ref(node: ChunkNode, k: number): ChunkRef {
  return {
    offset: node.offsets[k],
    address: node.children[k],
    size: node.sizes[k],
    filterMask: node.masks[k],
  };
}
