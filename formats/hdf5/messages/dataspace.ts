/**
 * Dataspace message, type 0x0001, version 1 (spec §IV.A.2.b; HDF5_PROFILE.md §5.2).
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MessageType } from "../constants.ts";
import type { HeaderMessage } from "../object_header.ts";

/**
 * Encodes a simple dataspace. `maxDims` entries may be {@linkcode UNDEF} (unlimited); a scalar
 * is rank 0 with no dims.
 */
export function encodeDataspace(
  dims: readonly number[],
  maxDims: readonly number[] = dims,
): Uint8Array {
  const rank = dims.length;
  const w = new ByteWriter(8 + 16 * rank);
  w.u8(1) // version
    .u8(rank) // dimensionality
    .u8(rank > 0 ? 1 : 0) // flags: bit 0 = max dims present
    .skip(5); // reserved
  for (const d of dims) w.u64(d);
  if (rank > 0) { for (const d of maxDims) w.u64(d); }
  return w.bytes;
}

/** The dataspace header message. */
export function dataspaceMessage(
  dims: readonly number[],
  maxDims: readonly number[] = dims,
): HeaderMessage {
  return { type: MessageType.DATASPACE, flags: 0, data: encodeDataspace(dims, maxDims) };
}
