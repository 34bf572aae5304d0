/**
 * Reading samples for a cache reader on another thread ({@linkcode readTask}, served by
 * `workers/read_worker.ts`): it gets a shard path, a group and read options, and answers with the
 * tensors' buffers (moved, not copied) or with the error, which the pool rebuilds as the same
 * class with its fields.
 *
 * @module
 */
import type { DType } from "./dtype.ts";
import { loadH5wasm } from "./h5wasm/module.ts";
import { readSample, type SampleReadOptions } from "./read_sample.ts";
import { H5wasmNeeded, ShardCache } from "./shard_reader.ts";
import type { Tensor } from "./tensor.ts";
import type { TaskResult } from "../util/worker_pool.ts";

/** A request: read `group` of `path` (the sample `key`). */
export interface ReadRequest {
  /** Open-file budget of this worker; sent with every request, used on the first. */
  maxOpenFiles: number;
  path: string;
  label: string;
  key: string;
  group: string;
  options: SampleReadOptions;
}

/** A tensor in transit: its buffer is transferred. */
export interface WireTensor {
  name: string;
  dtype: DType;
  shape: number[];
  buffer: ArrayBuffer;
}

let files: ShardCache | undefined;

/** The sample, loading h5wasm first when a file turns out to need it. */
async function read(req: ReadRequest): Promise<Record<string, Tensor>> {
  files ??= new ShardCache(undefined, req.maxOpenFiles);
  try {
    return readSample(files.get(req.path), req.key, req.group, req.label, req.options);
  } catch (e) {
    if (!(e instanceof H5wasmNeeded)) throw e;
    await loadH5wasm();
    return readSample(files.get(req.path), req.key, req.group, req.label, req.options);
  }
}

/** One {@linkcode ReadRequest} on this thread: the sample's tensors, their buffers to move. */
export async function readTask(req: ReadRequest): Promise<TaskResult<WireTensor[]>> {
  const sample = await read(req);
  const tensors: WireTensor[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(sample)) {
    // Each tensor owns its whole buffer (one copy out of wasm memory), so it can move.
    const buffer = t.data.buffer as ArrayBuffer;
    tensors.push({ name, dtype: t.dtype, shape: t.shape, buffer });
    if (!transfer.includes(buffer)) transfer.push(buffer);
  }
  return { value: tensors, transfer };
}
