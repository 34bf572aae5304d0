/**
 * Object header version 1 (spec §IV.A.1.a) with its continuation blocks (message 0x0010):
 * the list of header messages of one object. Version 2 (`OHDR`) is unsupported.
 *
 * @module
 */
import { MESSAGE_HEADER_SIZE, MessageType, OBJECT_HEADER_PREFIX_SIZE } from "../constants.ts";
import { type PositionedReader, signature, u64, viewOf } from "../positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";

/** Bytes read at once for a header: h5py pads dataset headers to 256 + prefix. */
const FIRST_READ = 512;
/** Flags bit 1: the message is shared (stored elsewhere). */
const FLAG_SHARED = 2;
/** More continuation blocks than this is a loop, not a header. */
const MAX_BLOCKS = 64;

/** One header message: its type and a view of its data. */
export interface RawMessage {
  type: number;
  flags: number;
  data: DataView;
}

/**
 * The messages of the object header at `address` (NIL and continuation messages left out).
 * A version-2 header is unsupported; bytes that are no header, a message overrunning its
 * block, or fewer messages than the prefix counts throw FormatError naming the offset.
 */
export function readObjectHeader(reader: PositionedReader, address: number): RawMessage[] {
  const what = "object header";
  const fail = (why: string) => reader.damaged(what, address, why);
  reader.check(address, OBJECT_HEADER_PREFIX_SIZE, what);
  const first = reader.read(
    address,
    Math.max(OBJECT_HEADER_PREFIX_SIZE, Math.min(FIRST_READ, reader.limit - address)),
    what,
  );
  const prefix = viewOf(first);
  if (first[0] !== 1) {
    if (signature(prefix, 0) === "OHDR") {
      throw new UnsupportedHdf5Error(reader.name, `object header at ${address}: version 2`);
    }
    throw fail(`version ${first[0]}, expected 1`);
  }
  const count = prefix.getUint16(2, true);
  const blocks: [number, number][] = [[
    address + OBJECT_HEADER_PREFIX_SIZE,
    prefix.getUint32(8, true),
  ]];
  const out: RawMessage[] = [];
  let seen = 0;
  // Every message of every block, as HDF5 reads them (not only the first `count`).
  for (let b = 0; b < blocks.length; b++) {
    if (b > MAX_BLOCKS) throw fail(`more than ${MAX_BLOCKS} continuation blocks`);
    const [start, size] = blocks[b];
    const block = b === 0 && OBJECT_HEADER_PREFIX_SIZE + size <= first.length
      ? prefix
      : viewOf(reader.read(start, size, "object header continuation"));
    const base = block === prefix ? OBJECT_HEADER_PREFIX_SIZE : 0;
    let at = 0;
    while (at + MESSAGE_HEADER_SIZE <= size) {
      const type = block.getUint16(base + at, true);
      const msgSize = block.getUint16(base + at + 2, true);
      const flags = block.getUint8(base + at + 4);
      const data = at + MESSAGE_HEADER_SIZE;
      // Version 1 pads every message to 8 bytes; HDF5 refuses one that is not.
      if (msgSize % 8 !== 0) throw fail(`message ${seen} (type ${type}) of ${msgSize} bytes`);
      if (data + msgSize > size) {
        throw fail(`message ${seen} (type ${type}, ${msgSize} bytes) overruns its block`);
      }
      seen++;
      if (type === MessageType.CONTINUATION) {
        if (msgSize < 16) throw fail(`continuation message of ${msgSize} bytes`);
        const c = new DataView(block.buffer, block.byteOffset + base + data, msgSize);
        blocks.push([u64(c, 0), u64(c, 8)]);
      } else if (type !== MessageType.NIL) {
        if (flags & FLAG_SHARED) {
          throw new UnsupportedHdf5Error(
            reader.name,
            `object header at ${address}: message type ${type} is shared`,
          );
        }
        out.push({
          type,
          flags,
          data: new DataView(block.buffer, block.byteOffset + base + data, msgSize),
        });
      }
      at = data + msgSize;
    }
  }
  // HDF5 refuses a v1 header whose blocks hold another number of messages than it counts.
  if (seen !== count) throw fail(`${seen} messages found, the prefix counts ${count}`);
  return out;
}
