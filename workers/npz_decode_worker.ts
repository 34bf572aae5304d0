/**
 * The work of {@linkcode NpzSource} on one file: decode the NPZ (inflating its members) and,
 * when asked, convert its floating arrays to float16. Loaded as a Web Worker it serves
 * {@linkcode NpzTask}s; imported, it is a pure function the source also uses on its own thread
 * (`workers: 0`). Errors travel as data (class and reason), since Error subclasses do not
 * survive a message between threads.
 *
 * @module
 */
import { decodeNpz } from "../formats/npz.ts";
import type { Float16Overflow } from "../formats/float16.ts";
import type { DType } from "../formats/dtype.ts";
import type { Tensor } from "../formats/tensor.ts";
import { errorMessage, FormatError } from "../errors.ts";
import { convertSample } from "../stages/float16_stream.ts";
import { releaseBuffer } from "../stages/release_buffer.ts";
import { serveTasks, type TaskResult } from "./worker_pool.ts";

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
}

/** A decoded file, or why not: `format` is a FormatError's reason, `sample` a SampleError's. */
export type NpzDecoded =
  | {
    tensors: Record<string, Tensor>;
    inputBytes?: number;
    inputDTypes?: Record<string, DType>;
    warnings?: string[];
  }
  | { error: "read" | "format" | "decode" | "sample"; reason: string; dataset?: string };

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
  let bytes: Uint8Array;
  try {
    bytes = task.bytes ?? Deno.readFileSync(path);
  } catch (e) {
    return { value: { error: "read", reason: errorMessage(e) } };
  }
  let tensors: Record<string, Tensor>;
  try {
    tensors = decodeNpz(bytes, path, { maxBytes });
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
    const result = convertSample({ key, tensors }, float16);
    if (!result.sample) {
      return { value: { error: "sample", reason: result.reason, dataset: result.dataset } };
    }
    const { inputBytes, inputDTypes, warnings } = result.sample;
    value = { tensors: result.sample.tensors, inputBytes, inputDTypes, warnings };
  }
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

serveTasks(import.meta, decodeNpzTask);
