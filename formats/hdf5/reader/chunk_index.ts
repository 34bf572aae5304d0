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

/**
 * A parsed node, compact: one Float64Array holds, per key i (0..n), the chunk offset (rank
 * numbers), stored size and filter mask, then child i's address (unused after key n). Few
 * objects per node keeps a cache of many nodes cheap for the garbage collector.
 */
interface ChunkNode {
  /** What it was parsed and checked for: a node shared by two datasets is parsed for each. */
  rank: number;
  chunkBytes: number;
  level: number;
  /** Children. */
  n: number;
  table: Float64Array;
}

/** Bytes of parsed nodes one file keeps (least recently used dropped first). */
const NODE_CACHE_BYTES = 1 << 20;

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
  #scratch = { bytes: new Uint8Array(4096) };

  constructor(reader: PositionedReader, k = CHUNK_K, maxBytes = NODE_CACHE_BYTES) {
    this.#reader = reader;
    this.#k = k;
    this.#nodes = new Lru(Infinity, maxBytes);
  }

  #node(address: number, d: ChunkedDataset, expected: number): ChunkNode {
    let node = this.#nodes.get(address);
    const r = this.#reader;
    const what = "chunk B-tree node";
    if (!node || node.rank !== d.rank || node.chunkBytes !== d.chunkBytes) {
      const rank = d.rank;
      const keySize = chunkKeySize(rank);
      const { level, entries: n, body } = readV1BtreeNode(
        r,
        address,
        CHUNK_NODE,
        this.#k,
        keySize,
        what,
        this.#scratch,
      );
      const stride = rank + 3;
      const table = new Float64Array((n + 1) * stride);
      const maxStored = d.chunkBytes * MAX_GROWTH + GROWTH_SLACK;
      for (let i = 0; i <= n; i++) {
        const at = i * (keySize + 8);
        const t = i * stride;
        const size = body.getUint32(at, true);
        for (let j = 0; j < rank; j++) table[t + j] = u64(body, at + 8 + 8 * j);
        // The right-most key may point one element past the last chunk (h5py's do).
        if (i < n && u64(body, at + 8 + 8 * rank) !== 0) {
          throw r.damaged(what, address, `key ${i} has a non-zero element offset`);
        }
        if (i > 0 && i < n && compareKeys(table, t - stride, t, rank) >= 0) {
          throw r.damaged(
            what,
            address,
            `key ${i} ${JSON.stringify(Array.from(table.subarray(t, t + rank)))} is out of order`,
          );
        }
        table[t + rank] = size;
        table[t + rank + 1] = body.getUint32(at + 4, true);
        if (i < n) {
          const child = u64(body, at + keySize);
          if (level === 0) {
            if (size === 0 || size > maxStored) {
              throw r.damaged(what, address, `chunk ${i} claims ${size} stored bytes`);
            }
            // The message is built only for a chunk outside the file (this runs per chunk).
            if (!r.inside(child, size)) {
              r.check(
                child,
                size,
                `chunk ${JSON.stringify(Array.from(table.subarray(t, t + rank)))}`,
              );
            }
          } else if (!r.inside(child, BTREE_HEADER_SIZE)) {
            r.check(child, BTREE_HEADER_SIZE, `${what} at ${address} child ${i}`);
          }
          table[t + rank + 2] = child;
        }
      }
      node = { rank, chunkBytes: d.chunkBytes, level, n, table };
      this.#nodes.set(address, node, table.byteLength + NODE_OVERHEAD_BYTES);
    }
    if (expected >= 0 && node.level !== expected) {
      throw r.damaged(what, address, `level ${node.level} where its parent expects ${expected}`);
    }
    return node;
  }

  /**
   * The stored chunks among `wanted` (chunk offsets sorted lexicographically), in that order;
   * a wanted chunk that was never written is left out. A found chunk's `offset` is the
   * `wanted` entry itself.
   */
  find(d: ChunkedDataset, wanted: readonly number[][]): ChunkRef[] {
    const out: ChunkRef[] = [];
    const rank = d.rank;
    const stride = rank + 3;
    const visit = (address: number, lo: number, hi: number, expected: number) => {
      const node = this.#node(address, d, expected);
      const { n, table } = node;
      if (n === 0) return;
      if (node.level > 0) {
        // Child i holds [key[i], key[i+1]); anything before key[0] or past key[n] goes to
        // the outer children, where the leaves' exact match settles it.
        let w = lo;
        for (let i = 0; i < n && w < hi; i++) {
          let end = w;
          if (i === n - 1) end = hi;
          else {
            while (end < hi && compareToKey(wanted[end], table, (i + 1) * stride) < 0) end++;
          }
          if (end > w) visit(childOf(node, i, rank), w, end, node.level - 1);
          w = end;
        }
        return;
      }
      let k = 0;
      for (let w = lo; w < hi; w++) {
        while (k < n && compareToKey(wanted[w], table, k * stride) > 0) k++;
        if (k === n) break;
        if (compareToKey(wanted[w], table, k * stride) === 0) {
          out.push(ref(node, k, rank, wanted[w]));
        }
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
    const rank = d.rank;
    const visit = (address: number, expected: number) => {
      if (seen.has(address)) {
        throw this.#reader.damaged("chunk B-tree node", address, "reached twice (a cycle)");
      }
      seen.add(address);
      const node = this.#node(address, d, expected);
      for (let i = 0; i < node.n; i++) {
        if (node.level > 0) visit(childOf(node, i, rank), node.level - 1);
        else out.push(ref(node, i, rank));
      }
    };
    visit(d.btree, -1);
    return out;
  }
}

/** What a cached node costs beyond its table (the object, the map entry). */
const NODE_OVERHEAD_BYTES = 128;

/** Lexicographic order of `offset` against the key at `at` of a node's table. */
function compareToKey(offset: readonly number[], table: Float64Array, at: number): number {
  for (let i = 0; i < offset.length; i++) {
    if (offset[i] !== table[at + i]) return offset[i] - table[at + i];
  }
  return 0;
}

/** Lexicographic order of the keys at `a` and `b` of one table, `rank` numbers each. */
function compareKeys(table: Float64Array, a: number, b: number, rank: number): number {
  for (let i = 0; i < rank; i++) {
    if (table[a + i] !== table[b + i]) return table[a + i] - table[b + i];
  }
  return 0;
}

/** Child `i`'s address in `node` (see {@linkcode ChunkNode}). */
function childOf(node: ChunkNode, i: number, rank: number): number {
  return node.table[i * (rank + 3) + rank + 2];
}

function ref(node: ChunkNode, k: number, rank: number, offset?: number[]): ChunkRef {
  const t = k * (rank + 3);
  return {
    offset: offset ?? Array.from(node.table.subarray(t, t + rank)),
    address: childOf(node, k, rank),
    size: node.table[t + rank],
    filterMask: node.table[t + rank + 1],
  };
}
