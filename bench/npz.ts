/**
 * A minimal NPZ reader for the h5wasm anchor: zip central directory (with zip64 extras, which
 * numpy writes), stored or deflated members, NPY v1-v3 little-endian C-order arrays. The anchor
 * stays independent of h5shard's own codecs on purpose.
 */
import { inflateRawSync } from "../deps.ts";

export interface NpyArray {
  /** numpy descr, e.g. `<f4`. */
  descr: string;
  shape: number[];
  /** The raw element bytes, 8-byte aligned (a copy when the member was not). */
  bytes: Uint8Array;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

/** Reads every member of an NPZ file as `{ name (without .npy): array }`. */
export function readNpz(file: string, buf: Uint8Array): Record<string, NpyArray> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = buf.length - 22;
  while (eocd >= 0 && view.getUint32(eocd, true) !== EOCD) eocd--;
  if (eocd < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out: Record<string, NpyArray> = {};
  for (let i = 0; i < count; i++) {
    if (view.getUint32(p, true) !== CENTRAL) throw new Error(`${file}: bad central directory`);
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra (id 1) holds, in order, only the fields saturated in the record.
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen;) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = () => Number(view.getBigUint64((q += 8) - 8, true));
        if (size === U32_MAX) size = next();
        if (compressed === U32_MAX) compressed = next();
        if (local === U32_MAX) local = next();
      }
      e += 4 + len;
    }
    if (view.getUint32(local, true) !== LOCAL) throw new Error(`${file}: bad local header`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = buf.subarray(start, start + compressed);
    let member: Uint8Array;
    if (method === 0) member = raw;
    else if (method === 8) member = new Uint8Array(inflateRawSync(raw));
    else throw new Error(`${file}: ${name}: zip method ${method} is not stored or deflate`);
    if (member.length !== size) {
      throw new Error(`${file}: ${name}: size ${member.length} != ${size}`);
    }
    out[name.replace(/\.npy$/, "")] = parseNpy(`${file}:${name}`, member);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function parseNpy(what: string, b: Uint8Array): NpyArray {
  if (b[0] !== 0x93 || new TextDecoder().decode(b.subarray(1, 6)) !== "NUMPY") {
    throw new Error(`${what}: not an NPY array`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const v1 = b[6] === 1;
  const headerLen = v1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = (v1 ? 10 : 12) + headerLen;
  const header = new TextDecoder().decode(b.subarray(v1 ? 10 : 12, dataStart));
  const descr = header.match(/'descr':\s*'([^']+)'/)?.[1];
  const shapeText = header.match(/'shape':\s*\(([^)]*)\)/)?.[1];
  if (!descr || shapeText === undefined || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${what}: unsupported NPY header ${JSON.stringify(header)}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  let bytes = b.subarray(dataStart);
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  return { descr, shape, bytes };
}
