/**
 * The compression stage: cuts every tensor of a sample into HDF5 chunks and deflates them on a
 * pool of Web Workers, giving the {@linkcode DatasetSpec}s the HDF5 writer stores.
 *
 * @module
 */
import { SampleError } from "../errors.ts";
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { chooseChunkShape, chunkGrid, timeAxis } from "../formats/chunks.ts";
import { bytesOf, type DType, DTYPES, elementCount } from "../formats/dtype.ts";
import type { DatasetSpec, FilterSpec } from "../formats/hdf5/dataset_spec.ts";
import { filterSpecs } from "../formats/hdf5/messages/filter_pipeline.ts";
import { checkTensor, type Tensor } from "../formats/tensor.ts";
import {
  type ChunkTask,
  encodeChunks,
  type PackedChunks,
  unpackChunks,
} from "../stages/deflate_chunks.ts";
import type { EncodedSample, Sample, SampleFailure } from "./record.ts";
import { releaseBuffer } from "../util/release_buffer.ts";
import { WorkerPool } from "../util/worker_pool.ts";

/** Options of {@linkcode DeflateStream}. */
export interface DeflateStreamOptions {
  /** zlib level 0..9 (default `compression_level`); 0 stores chunks without the deflate filter. */
  level?: number;
  /** Apply HDF5's shuffle filter before deflate (default `shuffle`). */
  shuffle?: boolean;
  /**
   * Deflate workers; 0 deflates on this thread. Default {@linkcode deflateWorkers} of
   * `num_save_workers`.
   */
  workers?: number;
  /** Target uncompressed chunk size in bytes (default `chunk_bytes`). */
  chunkBytes?: number;
  /** Bound on raw bytes of samples taken in but not yet passed on. Default 32 MiB. */
  maxInFlightBytes?: number;
}

/** Default zlib level (as the original pipeline's h5py writer): the config's `compression_level`. */
export const DEFAULT_DEFLATE_LEVEL: number = PREPROCESSING_DEFAULTS.compression_level;

/**
 * Deflate workers for `num_save_workers`: no more than the machine has cores, since a worker
 * beyond that only adds overhead (measured: a third worker on two cores is slower).
 */
export function deflateWorkers(numSaveWorkers: number): number {
  const cores = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(numSaveWorkers, cores));
}

/**
 * Default bound on raw bytes in flight. Each admitted byte lives several times over (decoded
 * source, float16 copy, task slices, compressed chunks) until the GC catches up: at 64 MiB a
 * 623 MB migrate peaked at 493 MiB RSS (421 MiB on a quarter of it); at 32 MiB, 401 MiB (373)
 * at the same speed. 16 MiB (359 MiB) cost 8% of throughput.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

// Raw bytes per worker task: big samples split into several so both workers stay busy, while
// the per-message cost stays small next to deflating this much.
const TASK_BYTES = 256 * 1024;

/** A chunk task and the buffers it moves to the worker. */
interface Task {
  task: ChunkTask;
  transfer: ArrayBuffer[];
}

/**
 * Turns each sample into an {@linkcode EncodedSample}: per tensor, chunks of about `chunkBytes`
 * (full rows along the time axis), each optionally shuffled, then zlib-deflated, in parallel on
 * `workers` Web Workers. Records leave in the order they came; failures pass through; a sample
 * whose encoding fails becomes a {@linkcode SampleFailure} naming its key and dataset.
 * Scalars are stored contiguous; zero-size tensors chunked with no chunks.
 *
 * Tensor buffers that a tensor's data owns whole are transferred to the workers, or freed once
 * copied into tasks, so the data of a sample given to this stage must not be used afterwards
 * (it may be detached).
 * The writable side waits while more than `maxInFlightBytes` of raw input are in flight.
 * Output chunks are views that may share one buffer with neighbouring chunks of their dataset.
 *
 * @example
 * ```ts
 * const options: DeflateStreamOptions = { level: DEFAULT_DEFLATE_LEVEL, workers: 0 };
 * const sample = {
 *   key: "LJ001-0001",
 *   tensors: { x: { dtype: "float16" as const, shape: [3, 4], data: new Float16Array(12) } },
 * };
 * const out = ReadableStream.from([sample]).pipeThrough(new DeflateStream(options));
 * for await (const record of out) {
 *   if (!("datasets" in record)) throw new Error(record.error.message);
 *   const { layout } = record.datasets.x;
 *   if (layout.kind !== "chunked" || layout.chunks.length !== 1) throw new Error("one chunk");
 *   if (record.inputBytes !== 24 || DEFAULT_MAX_IN_FLIGHT_BYTES <= 0) throw new Error("bytes");
 * }
 * ```
 */
export class DeflateStream
  extends TransformStream<Sample | SampleFailure, EncodedSample | SampleFailure> {
  constructor(options: DeflateStreamOptions = {}) {
    const {
      level = DEFAULT_DEFLATE_LEVEL,
      shuffle = PREPROCESSING_DEFAULTS.shuffle,
      workers = deflateWorkers(PREPROCESSING_DEFAULTS.num_save_workers),
      chunkBytes = PREPROCESSING_DEFAULTS.chunk_bytes,
      maxInFlightBytes = DEFAULT_MAX_IN_FLIGHT_BYTES,
    } = options;
    checkInteger("level", level, 0, 9);
    if (typeof shuffle !== "boolean") {
      throw new TypeError(
        `DeflateStream: shuffle must be a boolean, got ${JSON.stringify(shuffle)}`,
      );
    }
    checkInteger("workers", workers, 0, 64);
    checkInteger("chunkBytes", chunkBytes, 1, 2 ** 32 - 1);
    checkInteger("maxInFlightBytes", maxInFlightBytes, 1, Number.MAX_SAFE_INTEGER);

    // Shuffle-free level 0 is a copy: cheaper here than a round trip to a worker.
    const pool = workers > 0 && (level > 0 || shuffle)
      ? new WorkerPool<ChunkTask, PackedChunks>(
        new URL("../workers/deflate_worker.ts", import.meta.url),
        {
          size: workers,
          name: "deflate worker",
        },
      )
      : undefined;
    const encoder = new SampleEncoder(level, shuffle, chunkBytes, pool);
    let queue!: OrderedQueue;
    const stop = () => {
      queue.close();
      pool?.terminate();
    };
    super({
      start(controller) {
        queue = new OrderedQueue(maxInFlightBytes, (r) => {
          try {
            controller.enqueue(r);
          } catch {
            // The reader is gone (the sink refused or failed): nothing more to pass on.
            stop();
          }
        });
        pool?.prestart();
      },
      async transform(record) {
        const bytes = "error" in record ? 0 : rawBytes(record);
        if (!(await queue.admit(bytes))) return;
        queue.push(bytes, "error" in record ? record : encoder.encode(record));
      },
      async flush() {
        try {
          await queue.empty();
        } finally {
          stop();
        }
      },
      cancel: stop,
    });
  }
}

/** Settings of {@linkcode encodeSample}: what {@linkcode DeflateStream} takes. */
export interface EncodeSettings {
  level: number;
  shuffle: boolean;
  chunkBytes: number;
}

/**
 * One sample encoded on this thread, exactly as {@linkcode DeflateStream} encodes it (the same
 * chunks, the same bytes), or the failure naming the dataset at fault; never throws. A worker
 * that has the sample already (migrate's fused NPZ task) uses it to skip a round trip.
 *
 * @example
 * ```ts
 * const sample = {
 *   key: "a",
 *   tensors: { x: { dtype: "float16" as const, shape: [3, 4], data: new Float16Array(12) } },
 * };
 * const settings: EncodeSettings = { level: 4, shuffle: true, chunkBytes: 1 << 20 };
 * const out = encodeSample(sample, settings);
 * if (!("datasets" in out) || out.datasets.x.layout.kind !== "chunked") throw new Error("chunked");
 * ```
 */
export function encodeSample(
  sample: Sample,
  settings: EncodeSettings,
): EncodedSample | SampleFailure {
  const { level, shuffle, chunkBytes } = settings;
  checkInteger("level", level, 0, 9);
  checkInteger("chunkBytes", chunkBytes, 1, 2 ** 32 - 1);
  // Without a pool the encoder never returns a promise.
  return new SampleEncoder(level, shuffle, chunkBytes).encode(sample) as
    | EncodedSample
    | SampleFailure;
}

/**
 * Records in flight, in arrival order: finished ones leave from the head only, and admission
 * waits while the raw bytes taken in but not passed on exceed the bound.
 */
class OrderedQueue {
  readonly #max: number;
  readonly #emit: (record: EncodedSample | SampleFailure) => void;
  #entries: { bytes: number; result?: EncodedSample | SampleFailure }[] = [];
  #bytes = 0;
  #open = true;
  #wake?: () => void;

  constructor(max: number, emit: (record: EncodedSample | SampleFailure) => void) {
    this.#max = max;
    this.#emit = emit;
  }

  /** Waits for room for `bytes` (always admits into an empty queue); false once closed. */
  async admit(bytes: number): Promise<boolean> {
    while (this.#open && this.#bytes > 0 && this.#bytes + bytes > this.#max) await this.#progress();
    return this.#open;
  }

  /** Queues a record of `bytes` raw bytes, finished or still encoding. */
  push(
    bytes: number,
    result: EncodedSample | SampleFailure | Promise<EncodedSample | SampleFailure>,
  ): void {
    const entry: { bytes: number; result?: EncodedSample | SampleFailure } = { bytes };
    this.#entries.push(entry);
    this.#bytes += bytes;
    if (result instanceof Promise) {
      result.then((r) => {
        entry.result = r;
        this.#drain();
      });
    } else {
      entry.result = result;
      this.#drain();
    }
  }

  /** Resolves once every queued record has been passed on (or the queue closed). */
  async empty(): Promise<void> {
    while (this.#open && this.#entries.length > 0) await this.#progress();
  }

  /** Stops passing records on and releases any waiter. */
  close(): void {
    this.#open = false;
    this.#wakeUp();
  }

  #drain(): void {
    while (this.#entries.length > 0 && this.#entries[0].result) {
      const entry = this.#entries.shift()!;
      this.#bytes -= entry.bytes;
      if (this.#open) this.#emit(entry.result!);
    }
    this.#wakeUp();
  }

  #progress(): Promise<void> {
    return new Promise((resolve) => this.#wake = resolve);
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `DeflateStream: ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`,
    );
  }
}

function rawBytes(sample: Sample): number {
  let n = 0;
  for (const t of Object.values(sample.tensors ?? {})) n += t?.data?.byteLength ?? 0;
  return n;
}

/** Builds the dataset specs of one sample; chunk work goes to the pool when there is one. */
class SampleEncoder {
  readonly #level: number;
  readonly #shuffle: boolean;
  readonly #chunkBytes: number;
  readonly #pool?: WorkerPool<ChunkTask, PackedChunks>;
  readonly #filters: FilterSpec[];

  constructor(
    level: number,
    shuffle: boolean,
    chunkBytes: number,
    pool?: WorkerPool<ChunkTask, PackedChunks>,
  ) {
    this.#level = level;
    this.#shuffle = shuffle;
    this.#chunkBytes = chunkBytes;
    this.#pool = pool;
    this.#filters = filterSpecs(shuffle, level);
  }

  /** The encoded sample, or a failure naming the dataset at fault; never throws. */
  encode(sample: Sample): EncodedSample | SampleFailure | Promise<EncodedSample | SampleFailure> {
    try {
      return this.#encode(sample);
    } catch (error) {
      // A malformed record (no tensors object, say) fails alone instead of killing the run.
      return failure(sample, undefined, `not a sample: ${(error as Error).message}`, error);
    }
  }

  #encode(sample: Sample): EncodedSample | SampleFailure | Promise<EncodedSample | SampleFailure> {
    const datasets: Record<string, DatasetSpec> = {};
    const inputDTypes: Record<string, DType> = {};
    let inputBytes = 0;
    for (const [name, tensor] of Object.entries(sample.tensors)) {
      try {
        checkTensor(tensor, `sample ${JSON.stringify(sample.key)} dataset ${JSON.stringify(name)}`);
      } catch (error) {
        return failure(sample, name, (error as Error).message, error);
      }
      inputBytes += tensor.data.byteLength;
      inputDTypes[name] = tensor.dtype;
    }
    // Every task is cut before any is sent: sending moves buffers another tensor may share.
    const moved = new Set<ArrayBufferLike>();
    const work: { name: string; chunks: Uint8Array[]; tasks: Task[] }[] = [];
    for (const [name, tensor] of Object.entries(sample.tensors)) {
      try {
        const { spec, tasks } = this.#dataset(tensor, moved);
        datasets[name] = spec;
        if (spec.layout.kind === "chunked" && tasks.length > 0) {
          work.push({ name, chunks: spec.layout.chunks, tasks });
        }
      } catch (error) {
        return failure(sample, name, `chunking failed: ${(error as Error).message}`, error);
      }
    }
    const encoded: EncodedSample = {
      key: sample.key,
      datasets,
      inputBytes: sample.inputBytes ?? inputBytes,
      inputDTypes: sample.inputDTypes ?? inputDTypes,
      ...(sample.origin !== undefined ? { origin: sample.origin } : {}),
      ...(sample.warnings !== undefined ? { warnings: sample.warnings } : {}),
    };
    const pool = this.#pool;
    if (!pool) {
      for (const { name, chunks, tasks } of work) {
        try {
          for (const { task } of tasks) chunks.push(...encodeChunks(task));
        } catch (error) {
          return failure(sample, name, `deflate failed: ${(error as Error).message}`, error);
        }
      }
      return encoded;
    }
    // Buffers a tensor owns whole are this stage's now (see the class doc): what was copied
    // into tasks is freed at once. Views of larger buffers are left alone.
    for (const t of Object.values(sample.tensors)) {
      if (ownsBuffer(bytesOf(t.data))) releaseBuffer(t.data.buffer, moved);
    }
    if (work.length === 0) return encoded;
    let failed: SampleFailure | undefined;
    return Promise.all(
      work.map(({ name, chunks, tasks }) =>
        Promise.all(tasks.map(({ task, transfer }) => pool.run(task, transfer))).then(
          (parts) => {
            for (const part of parts) chunks.push(...unpackChunks(part));
          },
          (error) => {
            failed ??= failure(sample, name, `deflate failed: ${(error as Error).message}`, error);
          },
        )
      ),
    ).then(() => failed ?? encoded);
  }

  /** The spec of one tensor (chunks still empty) and the tasks that fill its chunks. */
  #dataset(tensor: Tensor, moved: Set<ArrayBufferLike>): { spec: DatasetSpec; tasks: Task[] } {
    const { dtype, shape } = tensor;
    const elementSize = DTYPES[dtype].size;
    const chunkShape = chooseChunkShape(shape, elementSize, this.#chunkBytes);
    if (!chunkShape) {
      const bytes = bytesOf(tensor.data).slice();
      return {
        spec: { dtype, shape: [...shape], layout: { kind: "contiguous", bytes } },
        tasks: [],
      };
    }
    const spec: DatasetSpec = {
      dtype,
      shape: [...shape],
      layout: { kind: "chunked", chunkShape, filters: [...this.#filters], chunks: [] },
    };
    if (elementCount(shape) === 0) return { spec, tasks: [] };
    return { spec, tasks: this.#tasks(tensor, chunkShape, elementSize, moved) };
  }

  /**
   * Splits a tensor into tasks of whole chunks. Chunks span every axis but the time axis
   * (chooseChunkShape), so a run of chunks is a contiguous run of frames.
   */
  #tasks(
    tensor: Tensor,
    chunkShape: number[],
    elementSize: number,
    moved: Set<ArrayBufferLike>,
  ): Task[] {
    const bytes = bytesOf(tensor.data);
    const shape = tensor.shape;
    const task = (part: Uint8Array, partShape: number[]): ChunkTask => ({
      bytes: part,
      shape: partShape,
      chunkShape,
      elementSize,
      shuffle: this.#shuffle,
      level: this.#level,
    });
    if (!this.#pool) return [{ task: task(bytes, shape), transfer: [] }];
    const axis = timeAxis(shape);
    const grid = chunkGrid(shape, chunkShape);
    const perTask = Math.max(1, Math.floor(TASK_BYTES / (elementCount(chunkShape) * elementSize)));
    const alongTime = grid.every((g, i) => i === axis || g === 1);
    if (!alongTime || grid[axis] <= perTask) {
      const whole = ownsBuffer(bytes) && !moved.has(bytes.buffer) ? bytes : bytes.slice();
      moved.add(whole.buffer);
      return [{ task: task(whole, shape), transfer: [whole.buffer as ArrayBuffer] }];
    }
    const frameBytes = bytes.byteLength / shape[axis];
    const out: Task[] = [];
    for (let first = 0; first < grid[axis]; first += perTask) {
      const from = first * chunkShape[axis];
      const to = Math.min((first + perTask) * chunkShape[axis], shape[axis]);
      const part = bytes.slice(from * frameBytes, to * frameBytes);
      const partShape = shape.map((d, i) => i === axis ? to - from : d);
      out.push({ task: task(part, partShape), transfer: [part.buffer] });
    }
    return out;
  }
}

function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
}

function failure(
  sample: Sample,
  dataset: string | undefined,
  reason: string,
  cause: unknown,
): SampleFailure {
  return {
    key: sample.key,
    origin: sample.origin,
    error: new SampleError(sample.key, reason, sample.origin, dataset, { cause }),
  };
}
