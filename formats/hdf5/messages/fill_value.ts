/**
 * Fill value message, type 0x0005, version 2 (spec §IV.A.2.f; HDF5_PROFILE.md §5.4): the
 * library default (zeros), which h5py and HDF5 always record.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MESSAGE_FLAG_CONSTANT, MessageType } from "../constants.ts";
import type { HeaderMessage } from "../object_header.ts";

/** Space allocation time: late for contiguous, incremental for chunked storage. */
export function fillValueMessage(chunked: boolean): HeaderMessage {
  const w = new ByteWriter(8);
  w.u8(2) // version
    .u8(chunked ? 3 : 2) // space allocation time
    .u8(2) // fill value write time: "if set"
    .u8(1) // fill value defined
    .u32(0); // size 0: the default fill value
  return { type: MessageType.FILL_VALUE, flags: MESSAGE_FLAG_CONSTANT, data: w.bytes };
}
