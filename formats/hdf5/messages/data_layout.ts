/**
 * Data layout message, type 0x0008, version 3 (spec §IV.A.2.i; HDF5_PROFILE.md §5.5).
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MessageType } from "../constants.ts";
import type { HeaderMessage } from "../object_header.ts";

const VERSION = 3;
const CLASS_CONTIGUOUS = 1;
const CLASS_CHUNKED = 2;

/** Contiguous storage: `size` bytes at `address` (UNDEF when empty). */
export function contiguousLayoutMessage(address: number, size: number): HeaderMessage {
  const w = new ByteWriter(18);
  w.u8(VERSION).u8(CLASS_CONTIGUOUS).u64(address).u64(size);
  return { type: MessageType.LAYOUT, flags: 0, data: w.bytes };
}

/**
 * Chunked storage indexed by the v1 B-tree at `btreeAddress` (UNDEF when no chunk exists).
 * The element size is the last of rank+1 dims: leaving it out shifts every dimension.
 */
export function chunkedLayoutMessage(
  btreeAddress: number,
  chunkShape: readonly number[],
  elementSize: number,
): HeaderMessage {
  const rank = chunkShape.length;
  const w = new ByteWriter(3 + 8 + 4 * (rank + 1));
  w.u8(VERSION)
    .u8(CLASS_CHUNKED)
    .u8(rank + 1) // dimensionality, counting the element-size dim
    .u64(btreeAddress);
  for (const d of chunkShape) w.u32(d);
  w.u32(elementSize);
  return { type: MessageType.LAYOUT, flags: 0, data: w.bytes };
}
