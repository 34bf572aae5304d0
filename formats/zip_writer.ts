/**
 * Writing zip archives the way Python's `zipfile` does for numpy's `savez`: local headers,
 * data, central directory, end record; zip64 records when a size, offset or count needs them
 * (or when forced). Deflate is node's native zlib, about twice as fast as fflate's.
 *
 * @module
 */
import { crc32, deflateRawSync } from "../deps_builtin.ts";
import {
  CENTRAL_SIZE,
  DEFLATED,
  EOCD64_SIZE,
  EOCD_SIZE,
  FLAG_UTF8,
  LOCAL_SIZE,
  LOCAL_ZIP64_EXTRA_SIZE,
  LOCATOR_SIZE,
  SIG_CENTRAL,
  SIG_EOCD,
  SIG_EOCD64,
  SIG_EOCD64_LOCATOR,
  SIG_LOCAL,
  STORED,
  U16_MAX,
  U32_MAX,
  VERSION_DEFAULT,
  VERSION_ZIP64,
  ZIP64_EXTRA,
} from "./zip_records.ts";

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
    offset += LOCAL_SIZE + name.length + (zip64 ? LOCAL_ZIP64_EXTRA_SIZE : 0) + compressedSize;
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
    v.setUint16(at + 28, p.zip64 ? LOCAL_ZIP64_EXTRA_SIZE : 0, true);
    out.set(p.name, at + LOCAL_SIZE);
    at += LOCAL_SIZE + p.name.length;
    if (p.zip64) {
      v.setUint16(at, ZIP64_EXTRA, true);
      v.setUint16(at + 2, 16, true);
      v.setBigUint64(at + 4, BigInt(p.size), true);
      v.setBigUint64(at + 12, BigInt(p.compressedSize), true);
      at += LOCAL_ZIP64_EXTRA_SIZE;
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
