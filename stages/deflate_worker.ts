/**
 * The work of {@linkcode DeflateStream} on one run of chunks: cut, optionally shuffle, deflate.
 * Loaded as a Web Worker it serves {@linkcode ChunkTask}s; imported, it is a pure function that
 * the stream also uses on the main thread (`workers: 0`).
 *
 * @module
 */
import { deflateSync } from "../deps.ts";
import { shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { serveTasks } from "./worker_pool.ts";

/** A run of chunks to encode: C-order element bytes of a (part of a) tensor. */
export interface ChunkTask {
  /** Element bytes of the part of the tensor these chunks cover. */
  bytes: Uint8Array;
  /** Shape of that part (whole chunks along the time axis, the last may be partial). */
  shape: number[];
  chunkShape: number[];
  elementSize: number;
  shuffle: boolean;
  /** zlib level; 0 stores chunks unfiltered (apart from shuffle). */
  level: number;
}

/**
 * Cuts `task.bytes` into full-size chunks, shuffles and deflates each (zlib stream, as HDF5's
 * filter 1 stores it). Every returned chunk owns its whole buffer, so it can be transferred.
 *
 * @example
 * ```ts
 * const task: ChunkTask = {
 *   bytes: new Uint8Array(8), shape: [4], chunkShape: [3], elementSize: 2, shuffle: false, level: 0,
 * };
 * const chunks = encodeChunks(task);
 * if (chunks.length !== 2 || chunks[1].length !== 6) throw new Error("two full-size chunks");
 * ```
 */
export function encodeChunks(task: ChunkTask): Uint8Array[] {
  const { bytes, shape, chunkShape, elementSize, shuffle, level } = task;
  const out: Uint8Array[] = [];
  for (const raw of splitChunks(bytes, shape, chunkShape, elementSize)) {
    const filtered = shuffle ? shuffleBytes(raw, elementSize) : raw;
    out.push(level > 0 ? owned(deflateSync(filtered, { level })) : filtered);
  }
  return out;
}

// zlib may hand back a view into a larger (or pooled) buffer: copy those.
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? new Uint8Array(bytes.buffer)
    : new Uint8Array(bytes);
}

if ("WorkerGlobalScope" in globalThis) {
  serveTasks<ChunkTask, Uint8Array[]>((task) => {
    const chunks = encodeChunks(task);
    return { value: chunks, transfer: chunks.map((c) => c.buffer as ArrayBuffer) };
  });
}
