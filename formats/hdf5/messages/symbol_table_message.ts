/**
 * Symbol table message, type 0x0011 (spec §IV.A.2.r): marks an old-style group and points at
 * its B-tree and local heap. Written and read here.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MessageType } from "../constants.ts";
import type { HeaderMessage } from "../object_header.ts";
import { u64 } from "../positioned_reader.ts";

/** A group's symbol table: its B-tree root and local heap. */
export interface SymbolTable {
  btree: number;
  heap: number;
}

/** The group's symbol table message. */
export function symbolTableMessage(btreeAddress: number, heapAddress: number): HeaderMessage {
  const w = new ByteWriter(16);
  w.u64(btreeAddress).u64(heapAddress);
  return { type: MessageType.SYMBOL_TABLE, flags: 0, data: w.bytes };
}

/**
 * The symbol table a message's body points at; a body shorter than 16 bytes throws RangeError
 * (callers report it as a message cut short).
 */
export function parseSymbolTableMessage(data: DataView): SymbolTable {
  return { btree: u64(data, 0), heap: u64(data, 8) };
}
