/**
 * Version 1 B-tree nodes (spec §III.A.1), written and read. Written bottom-up in one pass: all
 * leaves, then each higher level, root last. Every node has a fixed size, so node k of a level
 * sits at `levelBase + k * nodeSize` and sibling and child pointers are known before writing.
 * Read one node at a time ({@linkcode readV1BtreeNode}): the header checked, the keys and
 * children left to the tree's own reader (group names, chunk offsets).
 *
 * @module
 */
import { ByteWriter } from "./byte_writer.ts";
import { BTREE_HEADER_SIZE, UNDEF } from "./constants.ts";
import { type PositionedReader, signature, viewOf } from "./positioned_reader.ts";

/** What a tree needs to lay out its nodes. */
export interface V1BtreeOptions {
  /** Node type: 0 group, 1 chunk. */
  type: 0 | 1;
  /** Full node size (nodes are always written full-size). */
  nodeSize: number;
  /** Maximum children per node (2K). */
  fanout: number;
  /** Bytes per key. */
  keySize: number;
  /** Number of leaf-level children (SNODs or chunks). 0 gives one empty leaf. */
  count: number;
  /** File address of the first node. */
  base: number;
  /** Address of leaf-level child `i`. */
  childAddress(i: number): number;
  /**
   * Writes key `j` (0..count) at the writer's position: key j bounds leaf child j from the
   * left, key `count` closes the last child.
   */
  writeKey(w: ByteWriter, j: number): void;
}

/** The encoded nodes and the root's address. */
export interface EncodedBtree {
  /** Every node, leaves first. */
  bytes: Uint8Array;
  /** Address of the root node (the last one). */
  root: number;
}

/** Number of nodes per level, leaves first. */
export function btreeLevelCounts(count: number, fanout: number): number[] {
  const levels = [Math.max(1, Math.ceil(count / fanout))];
  while (levels[levels.length - 1] > 1) {
    levels.push(Math.ceil(levels[levels.length - 1] / fanout));
  }
  return levels;
}

/** Encodes every node of the tree into one buffer placed at `options.base`. */
export function encodeV1Btree(o: V1BtreeOptions): EncodedBtree {
  const levels = btreeLevelCounts(o.count, o.fanout);
  const total = levels.reduce((a, b) => a + b, 0);
  const w = new ByteWriter(total * o.nodeSize);
  const entry = o.keySize + 8;
  let levelBase = o.base;
  let below = o.base; // address of the first node on the level below
  let span = 1; // leaf children covered by one child of this level
  let node = 0;
  for (let level = 0; level < levels.length; level++) {
    const n = levels[level];
    const cover = span * o.fanout;
    for (let k = 0; k < n; k++, node++) {
      const start = k * cover;
      const end = Math.min(start + cover, o.count);
      const children = Math.ceil((end - start) / span);
      const at = node * o.nodeSize;
      w.seek(at);
      w.raw([0x54, 0x52, 0x45, 0x45]) // "TREE"
        .u8(o.type) // node type
        .u8(level) // node level
        .u16(children) // entries used
        .u64(k > 0 ? levelBase + (k - 1) * o.nodeSize : UNDEF) // left sibling
        .u64(k < n - 1 ? levelBase + (k + 1) * o.nodeSize : UNDEF); // right sibling
      for (let i = 0; i < children; i++) {
        const leaf = start + i * span;
        w.seek(at + BTREE_HEADER_SIZE + i * entry);
        o.writeKey(w, leaf);
        w.seek(at + BTREE_HEADER_SIZE + i * entry + o.keySize);
        w.u64(level === 0 ? o.childAddress(leaf) : below + (k * o.fanout + i) * o.nodeSize);
      }
      w.seek(at + BTREE_HEADER_SIZE + children * entry);
      o.writeKey(w, end);
    }
    below = levelBase;
    levelBase += n * o.nodeSize;
    span = cover;
  }
  return { bytes: w.bytes, root: o.base + (total - 1) * o.nodeSize };
}

/** Node types of a v1 B-tree, as the header's type byte holds them. */
const NODE_KIND = ["group", "chunks"] as const;

/** One node as read: the header's level and entry count, and its keys and children. */
export interface V1BtreeNode {
  level: number;
  /** Entries used: the node's children (it has one key more). */
  entries: number;
  /**
   * Key 0, child 0, key 1, ... child n-1, key n: key i at `i * (keySize + 8)`, child i right
   * after it.
   */
  body: DataView;
}

/** A node whose whole size is at most this is read in one go (into the caller's scratch). */
const ONE_READ_BYTES = 64 << 10;

/**
 * Reads the node at `address` of a tree of `type` (0 group, 1 chunk) whose nodes hold at most
 * 2`k` children and keys of `keySize` bytes. As HDF5 does, the node must fit whole (sized by
 * `k`) in the file; a wrong signature or type, or more than 2K entries, throws FormatError
 * naming the file, `what` and the offset. With `scratch`, a node of up to 64 KiB comes in one
 * read into `scratch.bytes` (replaced by a larger buffer when too small), and `body` views it:
 * valid until the next read into the same scratch.
 */
export function readV1BtreeNode(
  r: PositionedReader,
  address: number,
  type: 0 | 1,
  k: number,
  keySize: number,
  what: string,
  scratch?: { bytes: Uint8Array },
): V1BtreeNode {
  const full = BTREE_HEADER_SIZE + 2 * k * 8 + (2 * k + 1) * keySize;
  r.check(address, full, what);
  let whole: Uint8Array | undefined;
  if (scratch && full <= ONE_READ_BYTES) {
    if (scratch.bytes.length < full) scratch.bytes = new Uint8Array(full);
    whole = r.readInto(address, scratch.bytes.subarray(0, full), what);
  }
  const head = viewOf(whole ?? r.read(address, BTREE_HEADER_SIZE, what));
  if (signature(head, 0) !== "TREE") throw r.damaged(what, address, "no TREE signature");
  if (head.getUint8(4) !== type) {
    throw r.damaged(
      what,
      address,
      `node type ${head.getUint8(4)}, expected ${type} (${NODE_KIND[type]})`,
    );
  }
  const level = head.getUint8(5);
  const entries = head.getUint16(6, true);
  // HDF5 sizes every node for 2K children, whatever its level.
  if (entries > 2 * k) {
    throw r.damaged(what, address, `${entries} children, more than 2K = ${2 * k}`);
  }
  const bodyBytes = entries * (keySize + 8) + keySize;
  const body = whole
    ? new DataView(whole.buffer, whole.byteOffset + BTREE_HEADER_SIZE, bodyBytes)
    : viewOf(r.read(address + BTREE_HEADER_SIZE, bodyBytes, what));
  return { level, entries, body };
}
