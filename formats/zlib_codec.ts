/**
 * zlib streams (HDF5's deflate filter) and raw deflate (zip members): which codec does the
 * work, chosen once per thread. libdeflate (through FFI, `libdeflate.ts`) when it loads, else
 * node:zlib (`node_zlib.ts`). Both write standard streams and read each other's; libdeflate's
 * bytes differ from zlib's at the same level, at the same size to about 0.1%.
 *
 * The environment variable `H5SHARD_CODEC` (read once, when `--allow-env` grants it) forces
 * the choice: `libdeflate` (an error if it cannot load), `node:zlib`, or `auto` (the default).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { type Libdeflate, openLibdeflate } from "./libdeflate.ts";
import { createNodeDeflater, createNodeInflater, nodeInflateRaw } from "./node_zlib.ts";

/** Decompresses one zlib stream at a time. */
export interface Inflater {
  /**
   * Inflates `input`, expecting `expected` bytes out. Returns a view of the output (valid until
   * the next call); its length differs from `expected` when the stream holds another size, so
   * callers compare it. Throws Error (e.g. "incorrect data check", "invalid zlib stream") on
   * corrupt input.
   */
  inflate(input: Uint8Array, expected: number): Uint8Array;
  /**
   * Inflates `input` straight into `out` (a reader's output buffer: no scratch, no copy).
   * Returns the bytes written, or -1 when the stream holds more than `out.length`; callers
   * compare it with the size they expect. Corrupt input throws as {@linkcode inflate} does.
   */
  inflateInto(input: Uint8Array, out: Uint8Array): number;
}

/** Compresses one buffer at a time into a complete zlib stream. */
export interface Deflater {
  /** The zlib stream of `input`, in a buffer of its own. */
  deflate(input: Uint8Array): Uint8Array;
}

/** The codecs: `libdeflate` through FFI, or node's built-in zlib. */
export type CodecKind = "libdeflate" | "node:zlib";

/** Options of the codec factories. */
export interface CodecOptions {
  /** Use this codec rather than the process's choice ({@linkcode zlibCodec}). */
  codec?: CodecKind;
}

/** The environment variable that forces a codec: `libdeflate`, `node:zlib` or `auto`. */
export const CODEC_ENV = "H5SHARD_CODEC";

/** The codec in use and why. */
export interface ZlibCodecInfo {
  codec: CodecKind;
  /** For people: `libdeflate 1.x (libdeflate.so.0)` or `node:zlib`. */
  name: string;
  /** Why libdeflate is not used, when it is not. */
  note?: string;
}

/** Output room past the expected size, so a stream that is too long shows as one. */
const SLACK = 64;

let chosen: { info: ZlibCodecInfo; lib?: Libdeflate } | undefined;
let libdeflate: Libdeflate | undefined;

function forced(): string {
  try {
    const state = Deno.permissions.querySync({ name: "env", variable: CODEC_ENV }).state;
    return state === "granted" ? (Deno.env.get(CODEC_ENV) ?? "auto") : "auto";
  } catch {
    return "auto";
  }
}

function choose(): { info: ZlibCodecInfo; lib?: Libdeflate } {
  if (chosen) return chosen;
  const want = forced();
  if (want !== "auto" && want !== "libdeflate" && want !== "node:zlib") {
    throw new ConfigError(CODEC_ENV, want, `"auto", "libdeflate" or "node:zlib"`);
  }
  if (want === "node:zlib") {
    return chosen = {
      info: { codec: "node:zlib", name: "node:zlib", note: `${CODEC_ENV}=node:zlib` },
    };
  }
  const load = openLibdeflate();
  if (load.lib) {
    libdeflate = load.lib;
    return chosen = { info: { codec: "libdeflate", name: load.lib.name }, lib: load.lib };
  }
  if (want === "libdeflate") {
    throw new ConfigError(CODEC_ENV, want, `a codec that loads (${load.message})`);
  }
  if (load.reason === "no-ffi" && !("WorkerGlobalScope" in globalThis)) {
    // Once per process (workers stay quiet): the run works, at about half the deflate speed.
    console.warn(
      `h5shard: ${load.message}; deflate and inflate use node:zlib, about 2x slower. ` +
        `Run with --allow-ffi for libdeflate, or with --allow-env and ${CODEC_ENV}=node:zlib to silence this.`,
    );
  }
  return chosen = { info: { codec: "node:zlib", name: "node:zlib", note: load.message } };
}

/**
 * The codec this thread uses, chosen on first call: libdeflate when it loads, else node:zlib
 * (with a warning on stderr when only a missing `--allow-ffi` stood in the way). An invalid
 * `H5SHARD_CODEC`, or `libdeflate` forced but not loadable, throws {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * const info: ZlibCodecInfo = zlibCodec();
 * if (!["libdeflate", "node:zlib"].includes(info.codec)) throw new Error(info.name);
 * if (codecName() !== info.name) throw new Error("one choice");
 * ```
 */
export function zlibCodec(): ZlibCodecInfo {
  return { ...choose().info };
}

/** The name of the codec in use, for `--version`, `inspect` and metadata.json. */
export function codecName(): string {
  return choose().info.name;
}

function lib(options?: CodecOptions): Libdeflate | undefined {
  const codec = options?.codec;
  if (codec === undefined) return choose().lib;
  if (codec === "node:zlib") return undefined;
  if (codec !== "libdeflate") {
    throw new RangeError(`codec must be "libdeflate" or "node:zlib", got ${JSON.stringify(codec)}`);
  }
  if (!libdeflate) {
    const load = openLibdeflate();
    if (!load.lib) throw new Error(`libdeflate requested: ${load.message}`);
    libdeflate = load.lib;
  }
  return libdeflate;
}

/**
 * A zlib inflater on the codec in use (or `options.codec`).
 *
 * @example
 * ```ts
 * const options: CodecOptions = { codec: "node:zlib" };
 * const packed = createDeflater(4, options).deflate(new Uint8Array(100).fill(7));
 * const back = createInflater().inflate(packed, 100);
 * if (back.length !== 100 || back[99] !== 7) throw new Error("round trip");
 * const into = new Uint8Array(100);
 * if (createInflater().inflateInto(packed, into) !== 100 || into[0] !== 7) throw new Error("into");
 * ```
 */
export function createInflater(options?: CodecOptions): Inflater {
  const l = lib(options);
  if (!l) return createNodeInflater();
  let out = new Uint8Array(1 << 16);
  return {
    inflate(input, expected) {
      const size = expected + SLACK;
      if (out.length < size) out = new Uint8Array(size);
      const n = l.zlibDecompressInto(input, out.subarray(0, size));
      // Too long for the room: a view of other than `expected` bytes, which callers reject.
      return out.subarray(0, n < 0 ? size : n);
    },
    inflateInto: (input, target) => l.zlibDecompressInto(input, target),
  };
}

/** A deflater at zlib `level` (1..9) on the codec in use (or `options.codec`). */
export function createDeflater(level: number, options?: CodecOptions): Deflater {
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new RangeError(`deflate level must be an integer in 1..9, got ${JSON.stringify(level)}`);
  }
  const l = lib(options);
  if (!l) return createNodeDeflater(level);
  return { deflate: (input) => l.zlibCompress(input, level) };
}

/**
 * The raw deflate stream `input` (a zip member) inflated into a new buffer of exactly `size`
 * bytes, or into `into` (of that length) when given; a stream that holds any other size, or is
 * corrupt, throws Error.
 */
export function inflateRaw(
  input: Uint8Array,
  size: number,
  options?: CodecOptions,
  into?: Uint8Array,
): Uint8Array {
  const l = lib(options);
  if (!l) {
    const bytes = nodeInflateRaw(input, size);
    if (!into) return bytes;
    into.set(bytes);
    return into.subarray(0, bytes.length);
  }
  const out = into && into.length === size ? into : new Uint8Array(size);
  const n = l.rawDecompressInto(input, out);
  if (n !== size) {
    throw new Error(`inflates to ${n < 0 ? `more than ${size}` : n} bytes, expected ${size}`);
  }
  return out;
}
