/**
 * Positioned reads from an open file (seek + read), bounded by the file's end-of-file address,
 * plus little-endian field helpers shared by the structure parsers.
 *
 * @module
 */
import { FormatError } from "../../errors.ts";
import { UNDEF } from "./constants.ts";

/**
 * A u64 address or length at `at`; UNDEF for all ones. Values past 2^53 lose precision but stay
 * past any file's end, where the bounds checks refuse them.
 */
export function u64(v: DataView, at: number): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (lo === 0xffffffff && hi === 0xffffffff) return UNDEF;
  return hi * 0x100000000 + lo;
}

/** The 4 ASCII bytes at `at` (a structure signature such as `TREE`). */
export function signature(v: DataView, at: number): string {
  return String.fromCharCode(
    v.getUint8(at),
    v.getUint8(at + 1),
    v.getUint8(at + 2),
    v.getUint8(at + 3),
  );
}

/** A DataView over all of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads byte ranges of one file; `name` labels errors. */
export class PositionedReader {
  /** The file's path, for messages. */
  readonly name: string;
  /** Reads must end at or before this address (the superblock's EOF, or the file size). */
  limit: number;
  #file: Deno.FsFile;
  #position = -1;

  constructor(file: Deno.FsFile, name: string, limit: number) {
    this.#file = file;
    this.name = name;
    this.limit = limit;
  }

  /** A FormatError naming this file, the damaged structure and its offset. */
  damaged(what: string, offset: number, why: string): FormatError {
    return new FormatError(this.name, `${what} at offset ${offset}: ${why}`, { offset });
  }

  /** True when `length` bytes at `address` lie inside the file ({@linkcode check} without the error). */
  inside(address: number, length: number): boolean {
    return address !== UNDEF && Number.isSafeInteger(address) && address >= 0 &&
      Number.isSafeInteger(length) && length >= 0 && address + length <= this.limit;
  }

  /**
   * Throws FormatError unless `length` bytes at `address` lie inside the file: every size read
   * from the file passes here before anything of that size is allocated.
   */
  check(address: number, length: number, what: string): void {
    if (!this.inside(address, length)) {
      throw this.damaged(
        what,
        address,
        `${length} bytes there lie outside the file (end of file ${this.limit})`,
      );
    }
  }

  /** `length` fresh bytes at `address`; `what` names the structure in errors. */
  read(address: number, length: number, what: string): Uint8Array {
    this.check(address, length, what);
    return this.readInto(address, new Uint8Array(length), what);
  }

  /** Fills `into` from `address` and returns it. */
  readInto(address: number, into: Uint8Array, what: string): Uint8Array {
    const length = into.length;
    this.check(address, length, what);
    if (this.#position !== address) this.#file.seekSync(address, Deno.SeekMode.Start);
    let done = 0;
    try {
      while (done < length) {
        const n = this.#file.readSync(into.subarray(done));
        if (n === null || n === 0) {
          throw this.damaged(what, address, `the file ends at ${address + done}`);
        }
        done += n;
      }
    } catch (e) {
      this.#position = -1;
      throw e;
    }
    this.#position = address + length;
    return into;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
