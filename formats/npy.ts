/**
 * The NPY format (numpy's `.npy`): a magic string, a version, a header that is a Python dict
 * literal (`descr`, `fortran_order`, `shape`), then the raw elements.
 * See numpy's `numpy/lib/format.py` and NEP 1.
 *
 * @module
 */
import { type DType, DTYPES, elementCount, type TypedArray, viewAs } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";
import { checkTensor } from "./tensor.ts";
import { FormatError } from "../errors.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREFIX_V1 = 10; // magic, major, minor, u16 header length
const PREFIX_V2 = 12; // magic, major, minor, u32 header length
const ALIGN = 64; // numpy's ARRAY_ALIGN
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy pads the header so the shape can grow in place
const V1_MAX_HEADER = 0xffff;
const EXCERPT = 120; // header characters quoted in an error

// The descr we write for each dtype (what numpy writes for the same array).
const DESCR: Record<DType, string> = {
  float16: "<f2",
  float32: "<f4",
  float64: "<f8",
  int8: "|i1",
  int16: "<i2",
  int32: "<i4",
  int64: "<i8",
  uint8: "|u1",
  uint16: "<u2",
  uint32: "<u4",
  uint64: "<u8",
  bool: "|b1",
};

const BY_CODE: Record<string, DType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  b1: "bool",
};

const KIND_NAMES: Record<string, string> = {
  O: "Python objects",
  S: "byte strings",
  a: "byte strings",
  U: "unicode strings",
  V: "raw void records",
  c: "complex numbers",
  M: "datetimes",
  m: "timedeltas",
};

const SUPPORTED = "<f2 <f4 <f8, i1 i2 i4 i8, u1 u2 u4 u8, |b1 (either byte order)";

/**
 * Decodes an NPY file into a C-order, little-endian {@linkcode Tensor}. Big-endian elements are
 * swapped and Fortran-order arrays reordered (shape kept). In the common case (little-endian,
 * C order, aligned) the tensor's data is a view of `bytes`, so it shares their memory; data
 * that must be copied to align it goes into `alloc(size)` when given (memory the caller reuses).
 *
 * Anything else is a {@linkcode FormatError} naming `file` (and `array`, the array's name when
 * the NPY sits inside an NPZ): object, string, complex or structured dtypes, or a truncated or
 * garbled file.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy({ dtype: "int16", shape: [2, 3], data: new Int16Array(6).fill(7) });
 * if (bytes.length !== 128 + 12) throw new Error("64-byte aligned header expected");
 * const t = decodeNpy(bytes, "x.npy");
 * if (t.shape[1] !== 3 || t.data[5] !== 7) throw new Error("round trip");
 * ```
 */
export function decodeNpy(
  bytes: Uint8Array,
  file: string,
  array?: string,
  alloc?: (size: number) => Uint8Array,
): Tensor {
  const where = array === undefined ? "" : `array ${JSON.stringify(array)}: `;
  const fail = (reason: string) => new FormatError(file, where + reason);
  if (bytes.length < PREFIX_V1) {
    throw fail(`truncated: ${bytes.length} bytes is shorter than an NPY preamble`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw fail("not an NPY file (no \\x93NUMPY magic)");
  }
  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = PREFIX_V1;
  } else if (major === 2 || major === 3) {
    if (bytes.length < PREFIX_V2) throw fail("truncated NPY preamble");
    headerLen = view.getUint32(8, true);
    start = PREFIX_V2;
  } else {
    throw fail(`unsupported NPY version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  if (start + headerLen > bytes.length) {
    throw fail(
      `truncated: the header claims ${headerLen} bytes, only ${bytes.length - start} follow`,
    );
  }
  const headerBytes = bytes.subarray(start, start + headerLen);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);
  const header = parseHeader(text, fail);
  const dtype = parseDescr(header.descr, fail);
  const shape = header.shape;
  const size = DTYPES[dtype].size;
  const count = elementCount(shape);
  const dataStart = start + headerLen;
  const nbytes = count * size;
  if (dataStart + nbytes > bytes.length) {
    throw fail(
      `truncated: shape (${shape.join(", ")}) of ${dtype} needs ${nbytes} data bytes, ` +
        `only ${bytes.length - dataStart} follow the header`,
    );
  }
  let raw = bytes.subarray(dataStart, dataStart + nbytes);
  if (header.descr[0] === ">" && size > 1) raw = byteSwapped(raw, size);
  if (header.fortranOrder) raw = fortranToC(raw, shape, size);
  let data: TypedArray = viewAs(dtype, raw, alloc);
  if (dtype === "bool") data = normalizeBool(data as Uint8Array);
  return { dtype, shape, data };
}

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type Fail = (reason: string) => FormatError;
type PyValue = string | number | boolean | null | PyValue[];

// Parses the header's Python dict literal: strings, ints (old Python 2 `3L` too), True, False,
// None, tuples and lists. Anything else is a garbled header.
function parseHeader(text: string, fail: Fail): Header {
  let i = 0;
  const garbled = (what: string) =>
    fail(`garbled NPY header (${what} at character ${i}): ${excerpt(text)}`);
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw garbled("unterminated string");
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]";
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) break;
        items.push(value());
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== close) throw garbled(`expected , or ${close}`);
      }
      i++;
      return items;
    }
    const m = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i, i + 32));
    if (!m) throw garbled("unexpected token");
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === "True" ? true : m[2] === "False" ? false : null;
  };
  ws();
  if (text[i] !== "{") throw garbled("expected {");
  i++;
  const dict: Record<string, PyValue> = {};
  for (;;) {
    ws();
    if (text[i] === "}") break;
    const key = value();
    if (typeof key !== "string") throw garbled("expected a string key");
    ws();
    if (text[i] !== ":") throw garbled("expected :");
    i++;
    dict[key] = value();
    ws();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw garbled("expected , or }");
  }
  const { descr, fortran_order: fortranOrder, shape } = dict;
  if (Array.isArray(descr)) {
    throw fail(`structured dtype ${JSON.stringify(descr)} is not supported (${SUPPORTED})`);
  }
  if (typeof descr !== "string") throw fail(`NPY header has no descr string: ${excerpt(text)}`);
  if (typeof fortranOrder !== "boolean") {
    throw fail(`NPY header has no boolean fortran_order: ${excerpt(text)}`);
  }
  if (
    !Array.isArray(shape) ||
    !shape.every((d): d is number => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw fail(`NPY header has no valid shape tuple: ${excerpt(text)}`);
  }
  return { descr, fortranOrder, shape };
}

// The header as quoted in a message: a garbled one may be kilobytes of noise.
function excerpt(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > EXCERPT ? t.slice(0, EXCERPT) + "..." : t);
}

function parseDescr(descr: string, fail: Fail): DType {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = m ? BY_CODE[m[2] + m[3]] : undefined;
  if (m && dtype && !(m[1] === "|" && DTYPES[dtype].size > 1)) return dtype;
  const kind = /^[<>|=]?([a-zA-Z])/.exec(descr)?.[1] ?? "";
  const what = KIND_NAMES[kind] ? ` (${KIND_NAMES[kind]})` : "";
  throw fail(`unsupported dtype ${JSON.stringify(descr)}${what}; supported: ${SUPPORTED}`);
}

function byteSwapped(raw: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = raw[i + size - 1 - j];
  }
  return out;
}

type Unit = Uint8Array | Uint16Array | Uint32Array;

// Reorders column-major elements into row-major. Elements move as 1, 2 or 4-byte units (an
// 8-byte element as two 4-byte units) so no float passes through a JS number.
function fortranToC(raw: Uint8Array, shape: number[], size: number): Uint8Array {
  // With at most one axis longer than 1 (or no elements) both orders are the same bytes.
  if (shape.filter((d) => d > 1).length < 2 || raw.length === 0) return raw;
  const unitSize = Math.min(size, 4);
  const k = size / unitSize;
  const src = raw.byteOffset % unitSize === 0 ? raw : raw.slice();
  const out = new Uint8Array(raw.length);
  const units = (b: Uint8Array): Unit =>
    unitSize === 1
      ? b
      : unitSize === 2
      ? new Uint16Array(b.buffer, b.byteOffset, b.length / 2)
      : new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
  const from = units(src);
  const to = units(out);
  const n = shape.length;
  const strides = new Array<number>(n); // in elements, column-major
  let s = 1;
  for (let d = 0; d < n; d++) {
    strides[d] = s;
    s *= shape[d];
  }
  const last = shape[n - 1];
  const lastStride = strides[n - 1] * k;
  const index = new Array<number>(n - 1).fill(0);
  let dst = 0;
  let base = 0; // source offset (in units) of the current row
  const rows = elementCount(shape) / last;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, p = base; j < last; j++, p += lastStride) {
      for (let u = 0; u < k; u++) to[dst++] = from[p + u];
    }
    for (let d = n - 2; d >= 0; d--) {
      base += strides[d] * k;
      if (++index[d] < shape[d]) break;
      base -= strides[d] * k * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

function normalizeBool(data: Uint8Array): Uint8Array {
  if (data.every((b) => b <= 1)) return data;
  return data.map((b) => (b ? 1 : 0));
}

function npyParts(tensor: Tensor): [Uint8Array, Uint8Array] {
  checkTensor(tensor, "encodeNpy");
  const shape = tensor.shape;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${DESCR[tensor.dtype]}', 'fortran_order': False, 'shape': ${tuple}, }`;
  if (shape.length > 0) dict += " ".repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  let prefix = PREFIX_V1;
  let padded = dict.length + 1; // the closing newline
  padded += (ALIGN - (prefix + padded) % ALIGN) % ALIGN;
  if (padded > V1_MAX_HEADER) {
    prefix = PREFIX_V2;
    padded = dict.length + 1;
    padded += (ALIGN - (prefix + padded) % ALIGN) % ALIGN;
  }
  const header = new Uint8Array(prefix + padded).fill(0x20);
  header.set(MAGIC);
  header[6] = prefix === PREFIX_V1 ? 1 : 2;
  header[7] = 0;
  const view = new DataView(header.buffer);
  if (prefix === PREFIX_V1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  for (let i = 0; i < dict.length; i++) header[prefix + i] = dict.charCodeAt(i);
  header[header.length - 1] = 0x0a;
  const data = tensor.data;
  return [header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

/**
 * Encodes a tensor as an NPY file the way `numpy.save` does: version 1.0 (2.0 when the header
 * outgrows 64 KiB), C order, little-endian descr, header padded with spaces to a multiple of
 * 64 bytes and ended by a newline.
 *
 * See {@linkcode decodeNpy} for an example.
 */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const [header, data] = npyParts(tensor);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}
