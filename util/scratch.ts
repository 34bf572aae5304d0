/**
 * Grow-only buffers that one thread reuses from task to task ({@linkcode Scratch}). A worker
 * that allocated each file's bytes, decoded arrays and float16 copies afresh left the allocator
 * with holes of every size between them, and a migrate's memory grew with its length; reused
 * buffers stop growing once the largest sample has passed.
 *
 * @module
 */

/** Capacity grows in steps of this many bytes, so slightly larger samples do not regrow. */
const STEP = 1 << 20;

/**
 * Numbered slots of reusable memory. A view from {@linkcode take} is valid until its slot is
 * taken again, and holds whatever was there before: callers fill all of it.
 *
 * @example
 * ```ts
 * const scratch = new Scratch();
 * const a = scratch.take(0, 100);
 * a.fill(7);
 * const b = scratch.take(0, 50);
 * if (b.buffer !== a.buffer || !scratch.owns(b.buffer)) throw new Error("reused");
 * if (scratch.take(1, 10).buffer === a.buffer) throw new Error("slots are apart");
 * ```
 */
export class Scratch {
  #slots: ArrayBuffer[] = [];
  #owned = new Set<ArrayBufferLike>();

  /** `bytes` bytes of slot `slot` (a view at offset 0, so aligned for any element size). */
  take(slot: number, bytes: number): Uint8Array {
    let buffer = this.#slots[slot];
    if (!buffer || buffer.byteLength < bytes) {
      if (buffer) this.#owned.delete(buffer);
      buffer = new ArrayBuffer(Math.ceil(Math.max(bytes, 1) / STEP) * STEP);
      this.#slots[slot] = buffer;
      this.#owned.add(buffer);
    }
    return new Uint8Array(buffer, 0, bytes);
  }

  /** True when `buffer` is one of these slots (so not to be freed or moved). */
  owns(buffer: ArrayBufferLike): boolean {
    return this.#owned.has(buffer);
  }

  /** The slots' buffers, e.g. as `releaseBuffer`'s `keep`. */
  get buffers(): ReadonlySet<ArrayBufferLike> {
    return this.#owned;
  }
}
