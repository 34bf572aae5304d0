/**
 * Superblock versions 0 and 1 (spec §II.A): where the root group is and where the file ends.
 * Anything else (version 2+, a user block, 4-byte offsets, a base address) is unsupported; a
 * file without the signature, or with a K of 0, is damaged.
 *
 * @module
 */
import { FormatError } from "../../../errors.ts";
import { CHUNK_K, HDF5_SIGNATURE, OFFSET_SIZE, SUPERBLOCK_SIZE, UNDEF } from "../constants.ts";
import { PositionedReader, u64, viewOf } from "../positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";

/** HDF5 looks for its signature at 0, 512, 1024, ... (a user block before it); we look this far. */
const MAX_SIGNATURE_OFFSET = 1 << 20;

/** Version 1 inserts "Indexed Storage Internal Node K" (2) and 2 reserved bytes. */
const V1_EXTRA = 4;
/** Offset of the root symbol table entry in version 0. */
const ROOT_ENTRY_V0 = 56;

/** What a reader needs from the superblock. */
export interface Superblock {
  /** Superblock version: 0 or 1. */
  version: number;
  /** End of File Address. */
  eof: number;
  /** The root group's object header (its cached symbol table is not trusted: it can be stale). */
  rootHeader: number;
  /** Group leaf node K: an SNOD holds at most 2K entries. */
  groupLeafK: number;
  /** Group internal node K: a group B-tree node has at most 2K children. */
  groupInternalK: number;
  /** Indexed storage K: a chunk B-tree node has at most 2K children. */
  chunkK: number;
}

/** Parses the superblock from the first `SUPERBLOCK_SIZE + 4` bytes of `name`. */
export function parseSuperblock(bytes: Uint8Array, name: string): Superblock {
  const fail = (why: string) => new UnsupportedHdf5Error(name, why);
  const damaged = (why: string, offset: number) =>
    new FormatError(name, `cannot open as HDF5 (superblock: ${why})`, { offset });
  if (bytes.length < SUPERBLOCK_SIZE) {
    throw damaged(`${bytes.length} bytes is too short for HDF5`, 0);
  }
  for (let i = 0; i < HDF5_SIGNATURE.length; i++) {
    if (bytes[i] !== HDF5_SIGNATURE[i]) throw damaged("no HDF5 signature at offset 0", 0);
  }
  const v = viewOf(bytes);
  const version = bytes[8];
  if (version > 1) throw fail(`superblock version ${version} (native reader: 0 or 1)`);
  if (bytes[13] !== OFFSET_SIZE || bytes[14] !== OFFSET_SIZE) {
    throw fail(`offset/length sizes ${bytes[13]}/${bytes[14]} (native reader: 8/8)`);
  }
  const extra = version === 1 ? V1_EXTRA : 0;
  if (bytes.length < SUPERBLOCK_SIZE + extra) throw damaged("cut short", 0);
  const groupLeafK = v.getUint16(16, true);
  const groupInternalK = v.getUint16(18, true);
  const chunkK = version === 1 ? v.getUint16(24, true) : CHUNK_K;
  if (groupLeafK === 0 || groupInternalK === 0 || chunkK === 0) {
    throw damaged(
      `B-tree K of 0 (leaf ${groupLeafK}, internal ${groupInternalK}, chunk ${chunkK})`,
      16,
    );
  }
  const at = 24 + extra;
  if (u64(v, at) !== 0) throw fail(`base address ${u64(v, at)} (native reader: 0)`);
  const eof = u64(v, at + 16);
  // A superblock extension (1.8+ files keep its address here) is HDF5's business.
  if (u64(v, at + 8) !== UNDEF) throw fail(`superblock extension at ${u64(v, at + 8)}`);
  // A driver information block (a family or multi file) is HDF5's business.
  if (u64(v, at + 24) !== UNDEF) throw fail(`driver information block at ${u64(v, at + 24)}`);
  const entry = ROOT_ENTRY_V0 + extra;
  const rootHeader = u64(v, entry + 8);
  if (eof === UNDEF || rootHeader === UNDEF) throw damaged("no root group", entry);
  return { version, eof, rootHeader, groupLeafK, groupInternalK, chunkK };
}

/**
 * Whether the file at `path` has HDF5's signature where the format allows it (offset 0, 512,
 * 1024, ...): the mark of a file some HDF5 writer started, whether or not it got further.
 */
export function hasHdf5Signature(path: string): boolean {
  const file = Deno.openSync(path, { read: true });
  try {
    const reader = new PositionedReader(file, path, file.statSync().size);
    for (let at = 0; at + 8 <= reader.limit && at <= MAX_SIGNATURE_OFFSET; at = at ? at * 2 : 512) {
      const bytes = reader.read(at, HDF5_SIGNATURE.length, "signature");
      if (HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) return true;
    }
    return false;
  } finally {
    file.close();
  }
}
