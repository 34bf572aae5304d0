/**
 * Freeing a buffer now instead of at the next garbage collection. Buffers that arrive from
 * another thread are memory outside the JavaScript heap that does not hurry the collector, so
 * on a thread that allocates little (the one writing shards, a worker between tasks) they
 * piled up: a migrate's peak RSS grew with its length. Detaching (`transfer(0)`) lets the
 * engine free the memory at once.
 *
 * @module
 */

/**
 * Detaches `buffer` (freeing its memory) unless it is shared, already detached, not
 * detachable, or listed in `keep`. Every view of it reads as empty afterwards: call it only on buffers nothing uses.
 *
 * @example
 * ```ts
 * const data = new Float32Array(4);
 * releaseBuffer(data.buffer);
 * if (data.length !== 0) throw new Error("detached");
 * ```
 */
export function releaseBuffer(buffer: ArrayBufferLike, keep?: ReadonlySet<ArrayBufferLike>): void {
  if (!(buffer instanceof ArrayBuffer) || buffer.detached || keep?.has(buffer)) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable (node's Buffers, WebAssembly memory): the collector frees it later.
  }
}
