/**
 * Filter pipeline message, type 0x000B, version 1 (spec §IV.A.2.l; HDF5_PROFILE.md §5.6):
 * shuffle (id 2) and deflate (id 1), in the order applied when writing.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { FilterId, MESSAGE_FLAG_CONSTANT, MessageType } from "../constants.ts";
import type { FilterSpec } from "../dataset_spec.ts";
import type { HeaderMessage } from "../object_header.ts";

const FILTER_OPTIONAL = 1;
// Name (8 bytes with NUL) and one client value (padded to 8): 8 + 8 + 8.
const DESCRIPTION_SIZE = 24;

/** The pipeline message; shuffle's client datum is the element size, deflate's the level. */
export function filterPipelineMessage(
  filters: readonly FilterSpec[],
  elementSize: number,
): HeaderMessage {
  const w = new ByteWriter(8 + DESCRIPTION_SIZE * filters.length);
  w.u8(1) // version
    .u8(filters.length) // number of filters
    .skip(6); // reserved
  for (const f of filters) {
    const id = f.id === "deflate" ? FilterId.DEFLATE : FilterId.SHUFFLE;
    const name = f.id === "deflate" ? "deflate" : "shuffle";
    w.u16(id) // filter identification value
      .u16(8) // name length incl. NUL, padded to 8
      .u16(FILTER_OPTIONAL) // flags
      .u16(1) // number of client data values
      .raw(new TextEncoder().encode(name))
      .skip(8 - name.length)
      .u32(f.id === "deflate" ? f.level : elementSize) // client data
      .skip(4); // padding after an odd number of values
  }
  return { type: MessageType.FILTER_PIPELINE, flags: MESSAGE_FLAG_CONSTANT, data: w.bytes };
}
