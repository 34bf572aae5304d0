/**
 * The chunk index: a v1 B-tree of type 1 (spec §III.A.1; HDF5_PROFILE.md §5.8).
 *
 * @module
 */
import type { ByteWriter } from "./byte_writer.ts";
import { CHUNK_K, chunkBtreeNodeSize, chunkKeySize } from "./constants.ts";
import { type EncodedBtree, encodeV1Btree } from "./v1_btree.ts";

/** Where each chunk went: file address and filtered size, in row-major chunk order. */
export interface ChunkIndexInput {
  /** Dataset dims. */
  shape: readonly number[];
  /** Chunk dims, in elements. */
  chunkShape: readonly number[];
  /** File address of each chunk. */
  addresses: readonly number[];
  /** Filtered byte count of each chunk. */
  sizes: readonly number[];
}

/**
 * Encodes the chunk B-tree placed at `base`. Key j is chunk j's (size, mask 0, offset in
 * elements, 0); the closing key of the last node lies one chunk past the last chunk in every
 * axis (using the last chunk's own offset there hides that chunk: it reads as zeros).
 */
export function encodeChunkBtree(input: ChunkIndexInput, base: number): EncodedBtree {
  const { shape, chunkShape, addresses, sizes } = input;
  const rank = shape.length;
  const grid = shape.map((d, i) => Math.ceil(d / chunkShape[i]));
  const count = addresses.length;
  const writeKey = (w: ByteWriter, j: number) => {
    if (j === count) {
      w.u32(0).u32(0);
      for (let i = 0; i < rank; i++) w.u64(grid[i] * chunkShape[i]);
      w.u64(0);
      return;
    }
    w.u32(sizes[j]).u32(0); // chunk size after filtering, filter mask
    let rest = j;
    const at = w.offset;
    for (let i = rank - 1; i >= 0; i--) {
      w.seek(at + 8 * i).u64((rest % grid[i]) * chunkShape[i]);
      rest = Math.floor(rest / grid[i]);
    }
    w.seek(at + 8 * rank).u64(0); // element-size dimension
  };
  return encodeV1Btree({
    type: 1,
    nodeSize: chunkBtreeNodeSize(rank),
    fanout: 2 * CHUNK_K,
    keySize: chunkKeySize(rank),
    count,
    base,
    childAddress: (i) => addresses[i],
    writeKey,
  });
}
