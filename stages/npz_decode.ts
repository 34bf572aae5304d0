/**
 * The work of {@linkcode NpzSource} on one file: decode the NPZ (inflating its members) and,
 * when asked, convert its floating arrays to float16. `workers/npz_decode_worker.ts` serves
 * {@linkcode decodeNpzTask} on a worker; the source also calls it on its own thread
 * (`workers: 0`). Errors travel as data (class and reason), since Error subclasses do not
 * survive a message between threads.
 *
 * @module
 */
import { decodeNpz } from "../formats/npz.ts";
import type { Float16Overflow } from "../formats/float16.ts";
import type { DType } from "../formats/dtype.ts";
import type { Tensor } from "../formats/tensor.ts";
import { errorMessage, errorToWire, FormatError, type WireError } from "../errors.ts";
import type { DatasetSpec } from "../formats/hdf5/dataset_spec.ts";
import { encodeSample, type EncodeSettings } from "./deflate_stream.ts";
import { convertSample } from "./float16_stream.ts";
import { releaseBuffer } from "../util/release_buffer.ts";
import { Scratch } from "../util/scratch.ts";
import type { TaskResult } from "../util/worker_pool.ts";

/** One NPZ file to decode. */
export interface NpzTask {
  key: string;
  /** Names the file in errors. */
  path: string;
  /** The whole file; absent, the task reads `path` itself (so the file never crosses threads). */
  bytes?: Uint8Array;
  /** Convert float32/float64 arrays to float16 with this overflow policy; absent: keep them. */
  float16?: Float16Overflow;
  /** Most bytes the file's arrays may decode to (decodeNpz's `maxBytes`); absent: its default. */
  maxBytes?: number;
  /**
   * Encode the sample here too (chunk, shuffle, deflate, as DeflateStream does with these
   * settings) and answer with {@linkcode PackedSample}: migrate's fused task, after which the
   * main thread only writes.
   */
  encode?: EncodeSettings;
}

/**
 * An encoded sample in transit: its chunks laid end to end in one buffer (moved, not copied),
 * each chunked dataset's chunk list empty and its chunk bounds in `chunkEnds`: the offset where
 * its first chunk starts, then each chunk's end offset, in `chunks`.
 */
export interface PackedSample {
  datasets: Record<string, DatasetSpec>;
  chunkEnds: Record<string, number[]>;
  chunks: Uint8Array;
  inputBytes: number;
  inputDTypes?: Record<string, DType>;
  warnings?: string[];
}

/** A decoded file, or why not: `format` is a FormatError's reason, `sample` a SampleError's. */
export type NpzDecoded =
  | {
    tensors: Record<string, Tensor>;
    inputBytes?: number;
    inputDTypes?: Record<string, DType>;
    warnings?: string[];
  }
  | { error: "read" | "format" | "decode" | "sample"; reason: string; dataset?: string }
  | { encoded: PackedSample }
  /** Encoding failed (`encode` tasks): the SampleFailure's error, flattened. */
  | { failed: WireError };

/**
 * Decodes `task.bytes` (or the file at `task.path`); never throws. The result's tensor buffers are listed in `transfer`.
 *
 * @example
 * ```ts
 * import { encodeNpz } from "../formats/npz.ts";
 * const x = { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) };
 * const task: NpzTask = {
 *   key: "a", path: "a.npz", bytes: encodeNpz({ x }, { compress: true }), float16: "warn",
 * };
 * const { value } = decodeNpzTask(task);
 * const decoded: NpzDecoded = value;
 * if (!("tensors" in decoded) || decoded.tensors.x.dtype !== "float16") throw new Error("f16");
 * ```
 */
export function decodeNpzTask(task: NpzTask): TaskResult<NpzDecoded> {
  const { key, path, float16, maxBytes } = task;
  // A fused task reads, decodes and converts in this thread's reused memory: nothing of it
  // leaves the task but the packed chunks, which are a buffer of their own.
  const reuse = task.encode && !task.bytes ? (scratch ??= new Scratch()) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = task.bytes ?? (reuse ? readInto(path, reuse) : Deno.readFileSync(path));
  } catch (e) {
    return { value: { error: "read", reason: errorMessage(e) } };
  }
  let tensors: Record<string, Tensor>;
  try {
    const decodeScratch = reuse && ((slot: number, n: number) => reuse.take(FILE_SLOTS + slot, n));
    tensors = decodeNpz(bytes, path, { maxBytes, scratch: decodeScratch });
  } catch (e) {
    if (e instanceof FormatError) {
      const prefix = `${path}: `;
      const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
      return { value: { error: "format", reason } };
    }
    return { value: { error: "decode", reason: errorMessage(e) } };
  }
  let value: NpzDecoded = { tensors };
  if (float16 !== undefined && Object.keys(tensors).length > 0) {
    const float16Scratch = reuse &&
      ((slot: number, n: number) => reuse.take(FLOAT16_SLOTS + slot, n));
    const result = convertSample({ key, tensors }, float16, float16Scratch);
    if (!result.sample) {
      return { value: { error: "sample", reason: result.reason, dataset: result.dataset } };
    }
    const { inputBytes, inputDTypes, warnings } = result.sample;
    value = { tensors: result.sample.tensors, inputBytes, inputDTypes, warnings };
  }
  if (task.encode && "tensors" in value) return encodeHere(task, value, tensors, bytes);
  const transfer = new Set<ArrayBuffer>();
  for (const t of Object.values(value.tensors)) {
    if (t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
  }
  if (!task.bytes) {
    // This task's own buffers (the file, arrays replaced by their float16 copies) go now.
    releaseBuffer(bytes.buffer, transfer);
    for (const t of Object.values(tensors)) releaseBuffer(t.data.buffer, transfer);
  }
  return { value, transfer: [...transfer] };
}

// This thread's reused memory for fused tasks: slot 0 the file, then the NPZ members' copies,
// then the float16 copies.
let scratch: Scratch | undefined;
const FILE_SLOTS = 1;
const FLOAT16_SLOTS = 1 << 16;

/** The file at `path`, read into slot 0 of `reuse`. */
function readInto(path: string, reuse: Scratch): Uint8Array {
  using file = Deno.openSync(path);
  const size = file.statSync().size;
  const bytes = reuse.take(0, size);
  let done = 0;
  while (done < size) {
    const n = file.readSync(bytes.subarray(done));
    if (n === null || n === 0) break;
    done += n;
  }
  // A file that shrank while read is decoded as far as it goes (the archive check names it).
  return bytes.subarray(0, done);
}

/** The fused task's second half: encode the decoded sample, pack its chunks in one buffer. */
function encodeHere(
  task: NpzTask,
  decoded: Extract<NpzDecoded, { tensors: unknown }>,
  original: Record<string, Tensor>,
  file: Uint8Array,
): TaskResult<NpzDecoded> {
  const { key, path } = task;
  if (Object.keys(decoded.tensors).length === 0) {
    return { value: { error: "format", reason: "the NPZ holds no arrays" } };
  }
  const own = !task.bytes;
  const sample = {
    key,
    origin: path,
    tensors: decoded.tensors,
    ...(decoded.inputBytes !== undefined ? { inputBytes: decoded.inputBytes } : {}),
    ...(decoded.inputDTypes !== undefined ? { inputDTypes: decoded.inputDTypes } : {}),
    ...(decoded.warnings !== undefined ? { warnings: decoded.warnings } : {}),
  };
  const out = encodeSample(sample, task.encode!);
  if ("error" in out) return { value: { failed: errorToWire(out.error) } };
  let total = 0;
  for (const spec of Object.values(out.datasets)) {
    if (spec.layout.kind === "chunked") {
      for (const c of spec.layout.chunks) total += c.byteLength;
    }
  }
  const chunks = new Uint8Array(total);
  const chunkEnds: Record<string, number[]> = {};
  let at = 0;
  for (const [name, spec] of Object.entries(out.datasets)) {
    if (spec.layout.kind !== "chunked") continue;
    const ends: number[] = [at];
    for (const c of spec.layout.chunks) {
      chunks.set(c, at);
      ends.push(at += c.byteLength);
      // A chunk that is a whole buffer of its own (libdeflate's copy) is freed now, not at the
      // next collection, or a long migrate's memory grows with the garbage. Views into other
      // buffers (node:zlib's, or level 0's slices of the array) are left alone.
      if (own && c.byteOffset === 0 && c.byteLength === c.buffer.byteLength) {
        releaseBuffer(c.buffer, scratch?.buffers);
      }
    }
    chunkEnds[name] = ends;
    spec.layout.chunks = [];
  }
  if (own) {
    // The file, the decoded arrays and their float16 copies are done with: free them now
    // (those in this thread's reused memory stay for the next task).
    const keep = scratch?.buffers;
    releaseBuffer(file.buffer, keep);
    for (const t of Object.values(original)) releaseBuffer(t.data.buffer, keep);
    for (const t of Object.values(decoded.tensors)) releaseBuffer(t.data.buffer, keep);
  }
  const transfer: ArrayBuffer[] = [chunks.buffer];
  for (const spec of Object.values(out.datasets)) {
    if (spec.layout.kind === "contiguous") {
      // A contiguous dataset's bytes are its own copy (DeflateStream slices them).
      const b = spec.layout.bytes.buffer;
      if (b instanceof ArrayBuffer && !transfer.includes(b)) transfer.push(b);
    }
  }
  const packed: PackedSample = {
    datasets: out.datasets,
    chunkEnds,
    chunks,
    inputBytes: out.inputBytes,
    ...(out.inputDTypes !== undefined ? { inputDTypes: out.inputDTypes } : {}),
    ...(out.warnings !== undefined ? { warnings: out.warnings } : {}),
  };
  return { value: { encoded: packed }, transfer };
}
