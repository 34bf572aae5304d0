/**
 * A little-endian byte builder over a preallocated buffer: the one place that lays out
 * integers for the encoder.
 *
 * @module
 */
import { UNDEF } from "./constants.ts";

/** Writes little-endian integers and raw bytes at a moving offset into a fixed buffer. */
export class ByteWriter {
  /** The buffer being filled (zero-initialised, so skipped bytes stay 0). */
  readonly bytes: Uint8Array;
  #view: DataView;
  #offset = 0;

  /** A writer over `size` fresh zero bytes, or over an existing buffer. */
  constructor(sizeOrBuffer: number | Uint8Array) {
    this.bytes = typeof sizeOrBuffer === "number" ? new Uint8Array(sizeOrBuffer) : sizeOrBuffer;
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Current write position. */
  get offset(): number {
    return this.#offset;
  }

  /** Moves the write position. */
  seek(offset: number): this {
    this.#offset = offset;
    return this;
  }

  /** Skips `n` bytes (left as they are, normally zero). */
  skip(n: number): this {
    this.#offset += n;
    return this;
  }

  /** Skips to the next multiple of 8. */
  align8(): this {
    this.#offset = Math.ceil(this.#offset / 8) * 8;
    return this;
  }

  /** One byte. */
  u8(v: number): this {
    this.#view.setUint8(this.#offset, v);
    this.#offset += 1;
    return this;
  }

  /** Two bytes, little-endian. */
  u16(v: number): this {
    this.#view.setUint16(this.#offset, v, true);
    this.#offset += 2;
    return this;
  }

  /** Four bytes, little-endian. */
  u32(v: number): this {
    this.#view.setUint32(this.#offset, v, true);
    this.#offset += 4;
    return this;
  }

  /** An address or length below 2^53, written as two u32 halves; {@linkcode UNDEF} -> all ones. */
  u64(v: number): this {
    if (v === UNDEF) {
      this.#view.setUint32(this.#offset, 0xffffffff, true);
      this.#view.setUint32(this.#offset + 4, 0xffffffff, true);
    } else {
      this.#view.setUint32(this.#offset, v % 0x100000000, true);
      this.#view.setUint32(this.#offset + 4, Math.floor(v / 0x100000000), true);
    }
    this.#offset += 8;
    return this;
  }

  /** Copies raw bytes. */
  raw(data: ArrayLike<number>): this {
    this.bytes.set(data, this.#offset);
    this.#offset += data.length;
    return this;
  }
}
