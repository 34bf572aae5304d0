/**
 * The zip container under NPZ: reading members (stored ones as views, deflated ones inflated
 * natively) and writing archives the way Python's `zipfile` does for numpy, with zip64 when a
 * size or offset needs it.
 *
 * Our own rather than fflate's `unzipSync`: that copies stored members, skips the CRC check,
 * reads past the end of a truncated file without saying where, and assumes all three zip64
 * fields are present; node's zlib also inflates about twice as fast (see `npz.ts`).
 *
 * Structures follow PKWARE's APPNOTE.TXT (section numbers below).
 *
 * @module
 */
import { crc32, deflateRawSync, inflateRawSync } from "../deps.ts";
import { errorMessage, FormatError } from "../errors.ts";

/** Compression method `stored` (APPNOTE 4.4.5). */
export const STORED = 0;
/** Compression method `deflated` (APPNOTE 4.4.5). */
export const DEFLATED = 8;

const SIG_LOCAL = 0x04034b50; // 4.3.7
const SIG_CENTRAL = 0x02014b50; // 4.3.12
const SIG_EOCD = 0x06054b50; // 4.3.16
const SIG_EOCD64 = 0x06064b50; // 4.3.14
const SIG_EOCD64_LOCATOR = 0x07064b50; // 4.3.15
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const EOCD_SIZE = 22;
const EOCD64_SIZE = 56;
const LOCATOR_SIZE = 20;
const MAX_COMMENT = 0xffff;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const ZIP64_EXTRA = 0x0001; // 4.5.3
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800; // 4.4.4 bit 11
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;
const MIN_CHUNK = 64; // zlib's smallest chunkSize
const MAX_CHUNK = 1 << 28; // bigger members are inflated in pieces and joined
const MAX_DEFLATE_RATIO = 1032;

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
 * deflated one is inflated. The CRC-32 is checked either way (cheap: GB/s), so a flipped byte
 * is a {@linkcode FormatError}, not silent garbage.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
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
    if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + MIN_CHUNK) {
      throw fail(
        `recorded size ${entry.size} is impossible for ${entry.compressedSize} deflated bytes`,
      );
    }
    try {
      // One output chunk of the recorded size: no joining copy, and an aligned buffer. The
      // bound turns a corrupt stream that would inflate past that size into an error.
      data = entry.size === 0 ? new Uint8Array(0) : asBytes(
        inflateRawSync(raw, {
          maxOutputLength: entry.size,
          chunkSize: Math.min(Math.max(MIN_CHUNK, entry.size), MAX_CHUNK),
        }),
      );
    } catch (e) {
      throw fail(`corrupt deflate data (${errorMessage(e)})`, e);
    }
    if (data.length !== entry.size) {
      throw fail(`inflates to ${data.length} bytes, the directory says ${entry.size}`);
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

// A node Buffer may sit inside a larger pooled ArrayBuffer: keep its offset and length.
function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/** A member to write: its name and its bytes, given as parts that are concatenated. */
export interface ZipMember {
  name: string;
  parts: Uint8Array[];
}

/** Options for {@linkcode writeZip}. */
export interface WriteZipOptions {
  /** Deflate members (numpy `savez_compressed`) instead of storing them (`savez`). */
  compress: boolean;
  /** zlib level when compressing; default 6, Python's `zipfile` default. */
  level?: number;
  /** Write zip64 records even when no size or offset needs them (tests, and numpy's habit). */
  forceZip64?: boolean;
  /** Modification time recorded for every member; default now. */
  date?: Date;
}

interface Planned {
  name: Uint8Array;
  utf8: boolean;
  method: number;
  crc: number;
  size: number;
  data: Uint8Array[];
  compressedSize: number;
  offset: number;
  zip64: boolean;
}

const utf8Encoder = new TextEncoder();

/** Writes a zip archive holding `members`, in order. */
export function writeZip(members: ZipMember[], options: WriteZipOptions): Uint8Array {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`zip level must be an integer 0..9, got ${JSON.stringify(level)}`);
  }
  const [time, date] = dosDateTime(options.date ?? new Date());
  const force = options.forceZip64 ?? false;
  const planned: Planned[] = [];
  let offset = 0;
  for (const m of members) {
    let crc = 0;
    let size = 0;
    for (const p of m.parts) {
      crc = crc32(p, crc);
      size += p.length;
    }
    const data = options.compress ? [deflateRawSync(concat(m.parts), { level })] : m.parts;
    const compressedSize = data.reduce((n, p) => n + p.length, 0);
    const name = utf8Encoder.encode(m.name);
    const zip64 = force || size >= U32_MAX || compressedSize >= U32_MAX;
    planned.push({
      name,
      utf8: name.some((b) => b >= 0x80),
      method: options.compress ? DEFLATED : STORED,
      crc: crc >>> 0,
      size,
      data,
      compressedSize,
      offset,
      zip64,
    });
    offset += LOCAL_SIZE + name.length + (zip64 ? 20 : 0) + compressedSize;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const p of planned) {
    cdSize += CENTRAL_SIZE + p.name.length + centralExtra(p, force).length;
  }
  const end = cdOffset + cdSize;
  const needEocd64 = force || planned.length >= U16_MAX || cdOffset >= U32_MAX ||
    cdSize >= U32_MAX;
  const out = new Uint8Array(end + (needEocd64 ? EOCD64_SIZE + LOCATOR_SIZE : 0) + EOCD_SIZE);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const p of planned) {
    v.setUint32(at, SIG_LOCAL, true);
    v.setUint16(at + 4, p.zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, true);
    v.setUint16(at + 6, p.utf8 ? FLAG_UTF8 : 0, true);
    v.setUint16(at + 8, p.method, true);
    v.setUint16(at + 10, time, true);
    v.setUint16(at + 12, date, true);
    v.setUint32(at + 14, p.crc, true);
    v.setUint32(at + 18, p.zip64 ? U32_MAX : p.compressedSize, true);
    v.setUint32(at + 22, p.zip64 ? U32_MAX : p.size, true);
    v.setUint16(at + 26, p.name.length, true);
    v.setUint16(at + 28, p.zip64 ? 20 : 0, true);
    out.set(p.name, at + LOCAL_SIZE);
    at += LOCAL_SIZE + p.name.length;
    if (p.zip64) {
      v.setUint16(at, ZIP64_EXTRA, true);
      v.setUint16(at + 2, 16, true);
      v.setBigUint64(at + 4, BigInt(p.size), true);
      v.setBigUint64(at + 12, BigInt(p.compressedSize), true);
      at += 20;
    }
    for (const d of p.data) {
      out.set(d, at);
      at += d.length;
    }
  }
  for (const p of planned) {
    const extra = centralExtra(p, force);
    const big = p.zip64 || extra.length > 0;
    v.setUint32(at, SIG_CENTRAL, true);
    v.setUint16(at + 4, big ? VERSION_ZIP64 : VERSION_DEFAULT, true); // made by
    v.setUint16(at + 6, big ? VERSION_ZIP64 : VERSION_DEFAULT, true); // needed to extract
    v.setUint16(at + 8, p.utf8 ? FLAG_UTF8 : 0, true);
    v.setUint16(at + 10, p.method, true);
    v.setUint16(at + 12, time, true);
    v.setUint16(at + 14, date, true);
    v.setUint32(at + 16, p.crc, true);
    v.setUint32(at + 20, force || p.compressedSize >= U32_MAX ? U32_MAX : p.compressedSize, true);
    v.setUint32(at + 24, force || p.size >= U32_MAX ? U32_MAX : p.size, true);
    v.setUint16(at + 28, p.name.length, true);
    v.setUint16(at + 30, extra.length, true);
    v.setUint32(at + 42, force || p.offset >= U32_MAX ? U32_MAX : p.offset, true);
    out.set(p.name, at + CENTRAL_SIZE);
    out.set(extra, at + CENTRAL_SIZE + p.name.length);
    at += CENTRAL_SIZE + p.name.length + extra.length;
  }
  if (needEocd64) {
    v.setUint32(at, SIG_EOCD64, true);
    v.setBigUint64(at + 4, BigInt(EOCD64_SIZE - 12), true);
    v.setUint16(at + 12, VERSION_ZIP64, true);
    v.setUint16(at + 14, VERSION_ZIP64, true);
    v.setBigUint64(at + 24, BigInt(planned.length), true);
    v.setBigUint64(at + 32, BigInt(planned.length), true);
    v.setBigUint64(at + 40, BigInt(cdSize), true);
    v.setBigUint64(at + 48, BigInt(cdOffset), true);
    at += EOCD64_SIZE;
    v.setUint32(at, SIG_EOCD64_LOCATOR, true);
    v.setBigUint64(at + 8, BigInt(end), true);
    v.setUint32(at + 16, 1, true); // total number of disks
    at += LOCATOR_SIZE;
  }
  v.setUint32(at, SIG_EOCD, true);
  v.setUint16(at + 8, Math.min(planned.length, U16_MAX), true);
  v.setUint16(at + 10, Math.min(planned.length, U16_MAX), true);
  v.setUint32(at + 12, Math.min(cdSize, U32_MAX), true);
  v.setUint32(at + 16, Math.min(cdOffset, U32_MAX), true);
  return out;
}

// The zip64 extra of a central record: the fields whose 32-bit slot overflows (all when forced).
function centralExtra(p: Planned, force: boolean): Uint8Array {
  const fields = [
    force || p.size >= U32_MAX ? p.size : -1,
    force || p.compressedSize >= U32_MAX ? p.compressedSize : -1,
    force || p.offset >= U32_MAX ? p.offset : -1,
  ].filter((x) => x >= 0);
  if (fields.length === 0) return new Uint8Array(0);
  const out = new Uint8Array(4 + 8 * fields.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, ZIP64_EXTRA, true);
  v.setUint16(2, 8 * fields.length, true);
  fields.forEach((f, i) => v.setBigUint64(4 + 8 * i, BigInt(f), true));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// MS-DOS time and date (APPNOTE 4.4.6), local time as zipfile records it; 1980 is the floor.
function dosDateTime(d: Date): [number, number] {
  const year = Math.max(1980, d.getFullYear());
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return [time, date];
}
