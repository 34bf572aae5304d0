/**
 * The work of {@linkcode DeflateStream} on one run of chunks: cut, optionally shuffle, deflate.
 * `workers/deflate_worker.ts` serves {@linkcode deflateTask} on a worker; the stream also calls
 * these pure functions on the main thread (`workers: 0`).
 *
 * @module
 */
import { createDeflater, type Deflater } from "../formats/zlib_codec.ts";
import { shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { releaseBuffer } from "../util/release_buffer.ts";
import type { TaskResult } from "../util/worker_pool.ts";

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
 * filter 1 stores it). Chunks may be views into zlib's output buffers.
 *
 * @example
 * ```ts
 * const task: ChunkTask = {
 *   bytes: new Uint8Array(8), shape: [4], chunkShape: [3], elementSize: 2, shuffle: false, level: 0,
 * };
 * const chunks = encodeChunks(task);
 * if (chunks.length !== 2 || chunks[1].length !== 6) throw new Error("two full-size chunks");
 * const packed: PackedChunks = packChunks(chunks);
 * if (unpackChunks(packed)[1].length !== 6 || packed.ends.length !== 2) throw new Error("packed");
 * ```
 */
export function encodeChunks(task: ChunkTask): Uint8Array[] {
  const { bytes, shape, chunkShape, elementSize, shuffle, level } = task;
  const out: Uint8Array[] = [];
  for (const raw of splitChunks(bytes, shape, chunkShape, elementSize)) {
    const filtered = shuffle ? shuffleBytes(raw, elementSize) : raw;
    if (level === 0) {
      out.push(filtered);
      continue;
    }
    out.push(deflater(level).deflate(filtered));
  }
  return out;
}

// One reused zlib handle per level and thread.
const deflaters = new Map<number, Deflater>();
function deflater(level: number): Deflater {
  let d = deflaters.get(level);
  if (!d) deflaters.set(level, d = createDeflater(level));
  return d;
}

/** Chunks laid end to end in one buffer, so one transfer moves them all. */
export interface PackedChunks {
  bytes: Uint8Array;
  /** End offset of each chunk in `bytes`. */
  ends: number[];
}

/** Lays `chunks` end to end in one new buffer (many small transfers cost more than a copy). */
export function packChunks(chunks: Uint8Array[]): PackedChunks {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const bytes = new Uint8Array(total);
  const ends: number[] = [];
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
    ends.push(at);
  }
  return { bytes, ends };
}

/** The chunks of a {@linkcode PackedChunks}, as views into its buffer. */
export function unpackChunks(packed: PackedChunks): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const end of packed.ends) {
    out.push(packed.bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/** One {@linkcode ChunkTask} done on this thread: the packed chunks, their buffer to move. */
export function deflateTask(task: ChunkTask): TaskResult<PackedChunks> {
  const packed = packChunks(encodeChunks(task));
  releaseBuffer(task.bytes.buffer);
  return { value: packed, transfer: [packed.bytes.buffer as ArrayBuffer] };
}
