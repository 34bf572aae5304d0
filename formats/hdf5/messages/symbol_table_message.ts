/**
 * Symbol table message, type 0x0011 (spec §IV.A.2.r): marks an old-style group and points at
 * its B-tree and local heap.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MessageType } from "../constants.ts";
import type { HeaderMessage } from "../object_header.ts";

/** The group's symbol table message. */
export function symbolTableMessage(btreeAddress: number, heapAddress: number): HeaderMessage {
  const w = new ByteWriter(16);
  w.u64(btreeAddress).u64(heapAddress);
  return { type: MessageType.SYMBOL_TABLE, flags: 0, data: w.bytes };
}
