/**
 * Inflates zlib streams (HDF5's deflate filter) into a reusable buffer through one long-lived
 * zlib handle. `inflateSync` builds a stream and a zlib state per call, which costs as much as
 * inflating a 12 KB chunk; reusing the handle halves the time per chunk. The handle-level API
 * is node:zlib's internal one (reached through deps.ts's `createInflate`), so it is checked
 * once at load and {@linkcode inflateSync} is used when it is missing or misbehaves.
 *
 * @module
 */
import { createInflate, deflateSync, inflateSync, zlibConstants } from "../../../deps.ts";

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

/** Decompresses one zlib stream at a time. */
export interface Inflater {
  /**
   * Inflates `input`, expecting `expected` bytes out. Returns a view of the output (valid until
   * the next call); its length differs from `expected` when the stream holds another size.
   * Throws Error with zlib's message (e.g. "incorrect data check") on corrupt input.
   */
  inflate(input: Uint8Array, expected: number): Uint8Array;
}

/** Output room past the expected size, so a stream that is too long shows as one. */
const SLACK = 64;

class HandleInflater implements Inflater {
  #handle: ZlibHandle;
  #state: Uint32Array;
  #out = new Uint8Array(1 << 16);
  #error: string | undefined;

  constructor(handle: ZlibHandle, state: Uint32Array) {
    this.#handle = handle;
    this.#state = state;
    handle.onerror = (message, errno) => {
      this.#error = `${message} (zlib error ${errno})`;
    };
  }

  inflate(input: Uint8Array, expected: number): Uint8Array {
    if (this.#out.length < expected + SLACK) this.#out = new Uint8Array(expected + SLACK);
    const out = this.#out;
    const size = expected + SLACK;
    this.#error = undefined;
    this.#handle.reset();
    this.#handle.writeSync(zlibConstants.Z_FINISH, input, 0, input.length, out, 0, size);
    if (this.#error) throw new Error(this.#error);
    // _writeState holds [avail_out, avail_in] after the call.
    return out.subarray(0, size - this.#state[0]);
  }
}

class PlainInflater implements Inflater {
  inflate(input: Uint8Array, expected: number): Uint8Array {
    const z = inflateSync(input, { chunkSize: expected + SLACK });
    return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
  }
}

/** A handle-based inflater when node:zlib offers one that passes a self-test, else inflateSync. */
export function createInflater(): Inflater {
  try {
    const engine = createInflate() as unknown as {
      _handle?: ZlibHandle;
      _writeState?: Uint32Array;
    };
    const handle = engine._handle;
    const state = engine._writeState;
    if (
      handle && state instanceof Uint32Array && typeof handle.reset === "function" &&
      typeof handle.writeSync === "function"
    ) {
      const inflater = new HandleInflater(handle, state);
      const sample = new Uint8Array(1000).map((_, i) => (i * 7) % 13);
      const packed = new Uint8Array(deflateSync(sample));
      for (let round = 0; round < 2; round++) {
        const got = inflater.inflate(packed, sample.length);
        if (got.length !== sample.length || got.some((b, i) => b !== sample[i])) {
          return new PlainInflater();
        }
      }
      return inflater;
    }
  } catch {
    // Fall through: the public API always works.
  }
  return new PlainInflater();
}
