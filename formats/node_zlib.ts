/**
 * The node:zlib codec (the fallback when libdeflate is not available): zlib streams (HDF5's
 * deflate filter) through long-lived zlib handles. `deflateSync` and
 * `inflateSync` build a stream and a zlib state per call, which costs about as much as
 * inflating a 12 KB chunk and 5-15% of deflating a 16 KB one. Reusing one handle (reset between
 * streams) saves that; every stream is still complete and independent.
 *
 * The handle-level API is node:zlib's internal one (reached through deps_builtin.ts), so each codec
 * checks itself once when created and falls back to the public functions when the handle is
 * missing or misbehaves.
 *
 * @module
 */
import {
  createDeflate,
  createInflate,
  deflateSync,
  inflateRawSync,
  inflateSync,
  zlibConstants,
} from "../deps_builtin.ts";

/**
 * A node:zlib inflater: the shape `zlib_codec.ts` hands out as its `Inflater` (whose contract it
 * states), declared here so that this module needs nothing of its chooser.
 */
export interface NodeInflater {
  inflate(input: Uint8Array, expected: number): Uint8Array;
  inflateInto(input: Uint8Array, out: Uint8Array): number;
}

/** A node:zlib deflater: the shape `zlib_codec.ts` hands out as its `Deflater`. */
export interface NodeDeflater {
  deflate(input: Uint8Array): Uint8Array;
}

/** The part of node:zlib's native handle used here. */
interface ZlibHandle {
  reset(): void;
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  onerror: (message: string, errno: number) => void;
}

/** Output room past the expected size, so a stream that is too long shows as one. */
const SLACK = 64;

/** One reusable native handle: each call resets it and runs a whole stream with Z_FINISH. */
class HandleRunner {
  #handle: ZlibHandle;
  #state: Uint32Array;
  #error: string | undefined;

  constructor(handle: ZlibHandle, state: Uint32Array) {
    this.#handle = handle;
    this.#state = state;
    handle.onerror = (message, errno) => {
      this.#error = `${message} (zlib error ${errno})`;
    };
  }

  /** Runs `input` through into `out`; returns the bytes written, or -1 when `out` was too small. */
  run(input: Uint8Array, out: Uint8Array, size: number): number {
    this.#error = undefined;
    this.#handle.reset();
    this.#handle.writeSync(zlibConstants.Z_FINISH, input, 0, input.length, out, 0, size);
    if (this.#error) throw new Error(this.#error);
    // _writeState holds [avail_out, avail_in] after the call; no room left may mean more output.
    const left = this.#state[0];
    return left === 0 ? -1 : size - left;
  }
}

function runner(engine: unknown): HandleRunner | undefined {
  const e = engine as { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const handle = e._handle;
  if (
    handle && e._writeState instanceof Uint32Array && typeof handle.reset === "function" &&
    typeof handle.writeSync === "function"
  ) {
    return new HandleRunner(handle, e._writeState);
  }
  return undefined;
}

class HandleInflater implements NodeInflater {
  #runner: HandleRunner;
  #out = new Uint8Array(1 << 16);

  constructor(runner: HandleRunner) {
    this.#runner = runner;
  }

  inflate(input: Uint8Array, expected: number): Uint8Array {
    const size = expected + SLACK;
    if (this.#out.length < size) this.#out = new Uint8Array(size);
    const n = this.#runner.run(input, this.#out, size);
    return this.#out.subarray(0, n < 0 ? size : n);
  }

  inflateInto(input: Uint8Array, out: Uint8Array): number {
    return copyInto(this.inflate(input, out.length), out);
  }
}

class PlainInflater implements NodeInflater {
  inflate(input: Uint8Array, expected: number): Uint8Array {
    const z = inflateSync(input, { chunkSize: expected + SLACK });
    return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
  }

  inflateInto(input: Uint8Array, out: Uint8Array): number {
    return copyInto(this.inflate(input, out.length), out);
  }
}

/**
 * `inflateInto` through a scratch buffer: zlib's handle reports a stream that fills its output
 * exactly as one that may hold more, so it cannot tell a right-sized stream in place.
 */
function copyInto(bytes: Uint8Array, out: Uint8Array): number {
  if (bytes.length > out.length) return -1;
  out.set(bytes);
  return bytes.length;
}

class HandleDeflater implements NodeDeflater {
  #runner: HandleRunner;
  #level: number;
  #out = new Uint8Array(1 << 16);

  constructor(runner: HandleRunner, level: number) {
    this.#runner = runner;
    this.#level = level;
  }

  deflate(input: Uint8Array): Uint8Array {
    // zlib's worst case is a little over the input (stored blocks): this bound covers it.
    const size = input.length + (input.length >> 8) + SLACK;
    if (this.#out.length < size) this.#out = new Uint8Array(size);
    const n = this.#runner.run(input, this.#out, size);
    return n < 0 ? plainDeflate(input, this.#level) : this.#out.slice(0, n);
  }
}

function plainDeflate(input: Uint8Array, level: number): Uint8Array {
  // A plain Uint8Array copy: node Buffers have their own slice() and equality semantics.
  return new Uint8Array(deflateSync(input, { level }));
}

const SAMPLE = new Uint8Array(1000).map((_, i) => (i * 7) % 13);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A node:zlib inflater: handle-based when node:zlib offers one that passes a self-test, else inflateSync. */
export function createNodeInflater(): NodeInflater {
  try {
    const r = runner(createInflate());
    if (r) {
      const inflater = new HandleInflater(r);
      const packed = plainDeflate(SAMPLE, 6);
      for (let round = 0; round < 2; round++) {
        if (!sameBytes(inflater.inflate(packed, SAMPLE.length), SAMPLE)) return new PlainInflater();
      }
      return inflater;
    }
  } catch {
    // Fall through: the public API always works.
  }
  return new PlainInflater();
}

/**
 * A node:zlib deflater at `level` (1..9) on one reused handle when node:zlib offers one whose output
 * equals deflateSync's, else deflateSync itself.
 */
export function createNodeDeflater(level: number): NodeDeflater {
  try {
    const r = runner(createDeflate({ level }));
    if (r) {
      const deflater = new HandleDeflater(r, level);
      const want = plainDeflate(SAMPLE, level);
      for (let round = 0; round < 2; round++) {
        if (!sameBytes(deflater.deflate(SAMPLE), want)) {
          return { deflate: (b) => plainDeflate(b, level) };
        }
      }
      return deflater;
    }
  } catch {
    // Fall through: the public API always works.
  }
  return { deflate: (b) => plainDeflate(b, level) };
}

/** The raw deflate stream `input` inflated to exactly `size` bytes in a buffer of its own, or an Error. */
export function nodeInflateRaw(input: Uint8Array, size: number): Uint8Array {
  if (size === 0) return new Uint8Array(0);
  // One output chunk of the expected size: no joining copy; the bound stops a longer stream.
  const z = inflateRawSync(input, {
    maxOutputLength: size,
    chunkSize: Math.min(Math.max(64, size), 1 << 28),
  });
  if (z.length !== size) throw new Error(`inflates to ${z.length} bytes, expected ${size}`);
  // A copy: node's Buffers are not detachable, and arrays decoded from this one move between
  // threads (NPZ decode workers).
  return new Uint8Array(z);
}
