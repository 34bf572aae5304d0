/**
 * Reading zip archives (the container under NPZ): members listed from the central directory,
 * stored ones returned as views, deflated ones inflated (libdeflate or node:zlib, see
 * `zlib_codec.ts`) straight to their recorded size, every CRC checked, zip64 records
 * understood, and every bound checked so a truncated or corrupt archive is a
 * {@linkcode FormatError} that says where.
 *
 * Our own rather than fflate's `unzipSync`: that copies stored members, skips the CRC check,
 * reads past the end of a truncated file without saying where ("invalid zip data"), and assumes
 * all three zip64 fields are present; native inflate is also about twice as fast.
 *
 * @module
 */
import { crc32 } from "../deps_builtin.ts";
import { errorMessage, FormatError } from "../errors.ts";
import { inflateRaw } from "./zlib_codec.ts";
import {
  CENTRAL_SIZE,
  DEFLATED,
  EOCD64_SIZE,
  EOCD_SIZE,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  LOCAL_SIZE,
  LOCATOR_SIZE,
  MAX_COMMENT,
  SIG_CENTRAL,
  SIG_EOCD,
  SIG_EOCD64,
  SIG_EOCD64_LOCATOR,
  SIG_LOCAL,
  STORED,
  U32_MAX,
  ZIP64_EXTRA,
} from "./zip_records.ts";

const MIN_SLACK = 64; // a tiny member may be a few bytes more than ratio * size
const MAX_DEFLATE_RATIO = 1032; // deflate's best case

/** One member of an archive, located by its central directory record. */
export interface ZipEntry {
  /** Member name (UTF-8 when flagged, else code page 437, as Python decodes it). */
  name: string;
  /** {@linkcode STORED} or {@linkcode DEFLATED}. */
  method: number;
  /** General purpose bit flags. */
  flags: number;
  /** CRC-32 of the uncompressed bytes. */
  crc32: number;
  /** Bytes the member occupies in the archive. */
  compressedSize: number;
  /** Bytes once inflated. */
  size: number;
  /** Offset of the member's local header. */
  headerOffset: number;
}

// Code page 437, bytes 0x80-0xff: what Python's zipfile decodes names without the UTF-8 flag as.
const CP437_HIGH = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
  "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeName(raw: Uint8Array, flags: number, file: string): string {
  if (flags & FLAG_UTF8) {
    try {
      return utf8.decode(raw);
    } catch {
      throw new FormatError(file, "a member name flagged UTF-8 is not valid UTF-8");
    }
  }
  let s = "";
  for (const b of raw) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

class Reader {
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Throws unless `[at, at + n)` lies inside the file; `what` says what we were reading. */
  need(at: number, n: number, what: string): void {
    if (at < 0 || at + n > this.bytes.length) {
      throw new FormatError(
        this.file,
        `truncated: ${what} at offset ${at} needs ${n} bytes, the file has ${this.bytes.length}`,
      );
    }
  }
  u16(at: number): number {
    return this.#view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.#view.getUint32(at, true);
  }
  u64(at: number, what: string): number {
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError(this.file, `${what} ${v} is too large`);
    }
    return Number(v);
  }
}

function findEocd(r: Reader): number {
  const len = r.bytes.length;
  if (len < EOCD_SIZE) {
    throw new FormatError(r.file, `${len} bytes is too short for a zip archive (truncated?)`);
  }
  const stop = Math.max(0, len - EOCD_SIZE - MAX_COMMENT);
  for (let at = len - EOCD_SIZE; at >= stop; at--) {
    // The comment length must reach the end exactly: a stray signature inside data does not.
    if (r.u32(at) === SIG_EOCD && at + EOCD_SIZE + r.u16(at + 20) === len) return at;
  }
  throw new FormatError(
    r.file,
    "no zip end-of-central-directory record: the file is truncated or not a zip archive",
  );
}

/** Lists the members of a zip archive from its central directory. */
export function listZip(bytes: Uint8Array, file: string): ZipEntry[] {
  const r = new Reader(bytes, file);
  const eocd = findEocd(r);
  let count = r.u16(eocd + 10);
  let cdSize = r.u32(eocd + 12);
  let cdOffset = r.u32(eocd + 16);
  let cdEnd = eocd;
  const loc = eocd - LOCATOR_SIZE;
  if (loc >= 0 && r.u32(loc) === SIG_EOCD64_LOCATOR) {
    const rec = r.u64(loc + 8, "zip64 end record offset");
    r.need(rec, EOCD64_SIZE, "zip64 end-of-central-directory record");
    if (r.u32(rec) !== SIG_EOCD64) {
      throw new FormatError(file, `no zip64 end-of-central-directory record at offset ${rec}`);
    }
    count = r.u64(rec + 32, "member count");
    cdSize = r.u64(rec + 40, "central directory size");
    cdOffset = r.u64(rec + 48, "central directory offset");
    cdEnd = rec;
  }
  if (cdOffset + cdSize > cdEnd) {
    throw new FormatError(
      file,
      `central directory (offset ${cdOffset}, ${cdSize} bytes) overruns its end record at ${cdEnd}`,
    );
  }
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    r.need(at, CENTRAL_SIZE, `central directory record ${i}`);
    if (r.u32(at) !== SIG_CENTRAL) {
      throw new FormatError(file, `bad central directory record ${i} at offset ${at}`);
    }
    const flags = r.u16(at + 8);
    const nameLen = r.u16(at + 28);
    const extraLen = r.u16(at + 30);
    const commentLen = r.u16(at + 32);
    r.need(at + CENTRAL_SIZE, nameLen + extraLen + commentLen, `central directory record ${i}`);
    const nameAt = at + CENTRAL_SIZE;
    const entry: ZipEntry = {
      name: decodeName(bytes.subarray(nameAt, nameAt + nameLen), flags, file),
      method: r.u16(at + 10),
      flags,
      crc32: r.u32(at + 16),
      compressedSize: r.u32(at + 20),
      size: r.u32(at + 24),
      headerOffset: r.u32(at + 42),
    };
    readZip64Extra(r, nameAt + nameLen, extraLen, entry);
    entries.push(entry);
    at = nameAt + nameLen + extraLen + commentLen;
  }
  return entries;
}

// APPNOTE 4.5.3: the zip64 extra holds only the fields whose 32-bit slot is 0xffffffff, in order.
function readZip64Extra(r: Reader, at: number, len: number, entry: ZipEntry): void {
  const end = at + len;
  while (at + 4 <= end) {
    const id = r.u16(at);
    const size = r.u16(at + 2);
    if (id === ZIP64_EXTRA) {
      let p = at + 4;
      const take = (what: string): number => {
        if (p + 8 > at + 4 + size) {
          throw new FormatError(r.file, `member ${JSON.stringify(entry.name)}: short zip64 extra`);
        }
        const v = r.u64(p, what);
        p += 8;
        return v;
      };
      if (entry.size === U32_MAX) entry.size = take("size");
      if (entry.compressedSize === U32_MAX) entry.compressedSize = take("compressed size");
      if (entry.headerOffset === U32_MAX) entry.headerOffset = take("header offset");
      return;
    }
    at += 4 + size;
  }
}

/**
 * The uncompressed bytes of a member. A stored member is a view into `bytes` (no copy); a
 * deflated one is inflated, into `into(size)` when given (memory the caller reuses). The CRC-32 is checked either way (cheap: GB/s), so a flipped byte
 * is a {@linkcode FormatError}, not silent garbage.
 */
export function readZipEntry(
  bytes: Uint8Array,
  entry: ZipEntry,
  file: string,
  into?: (size: number) => Uint8Array,
): Uint8Array {
  const r = new Reader(bytes, file);
  const what = `member ${JSON.stringify(entry.name)}`;
  const fail = (reason: string, cause?: unknown) =>
    new FormatError(file, `${what}: ${reason}`, cause === undefined ? undefined : { cause });
  if (entry.flags & FLAG_ENCRYPTED) throw fail("is encrypted");
  const at = entry.headerOffset;
  r.need(at, LOCAL_SIZE, `${what} local header`);
  if (r.u32(at) !== SIG_LOCAL) throw fail(`no local header at offset ${at}`);
  const start = at + LOCAL_SIZE + r.u16(at + 26) + r.u16(at + 28);
  r.need(start, entry.compressedSize, `${what} data`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === STORED) {
    if (entry.compressedSize !== entry.size) {
      throw fail(`stored, but sizes differ (${entry.compressedSize} vs ${entry.size})`);
    }
    data = raw;
  } else if (entry.method === DEFLATED) {
    // Deflate expands at most ~1032:1; a larger recorded size is corruption, not a buffer to
    // allocate.
    if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + MIN_SLACK) {
      throw fail(
        `recorded size ${entry.size} is impossible for ${entry.compressedSize} deflated bytes`,
      );
    }
    try {
      // Exactly the recorded size: a stream that holds more or less is an error, not a guess.
      data = inflateRaw(raw, entry.size, undefined, into?.(entry.size));
    } catch (e) {
      throw fail(`corrupt deflate data (${errorMessage(e)})`, e);
    }
  } else {
    throw fail(`unsupported compression method ${entry.method} (expected 0 stored or 8 deflated)`);
  }
  const crc = crc32(data) >>> 0;
  if (crc !== entry.crc32) {
    throw fail(`CRC-32 mismatch (computed ${hex(crc)}, recorded ${hex(entry.crc32)}): corrupt`);
  }
  return data;
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}
