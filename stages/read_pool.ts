/**
 * Reading samples on Web Workers ({@linkcode ReadPool}), each worker with its own shard
 * handles, through the one {@linkcode WorkerPool}: the cache reader's and Hdf5Source's
 * `workers` option.
 *
 * @module
 */
import { viewAs } from "../formats/dtype.ts";
import type { SampleReadOptions } from "../formats/read_sample.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { ReadRequest, WireTensor } from "../formats/read_task.ts";
import { WorkerPool } from "../util/worker_pool.ts";

/** Reads on Web Workers, each with its own shard handles, through the one {@linkcode WorkerPool}. */
export class ReadPool {
  #pool: WorkerPool<ReadRequest, WireTensor[]>;
  #maxOpenFiles: number;

  constructor(size: number, maxOpenFiles: number) {
    this.#pool = new WorkerPool(new URL("../workers/read_worker.ts", import.meta.url), {
      size,
      name: "h5shard cache reader",
    });
    // The budget is per reader: split it so all workers together keep it.
    this.#maxOpenFiles = Math.max(1, Math.floor(maxOpenFiles / size));
  }

  async read(
    path: string,
    label: string,
    key: string,
    group: string,
    options: SampleReadOptions,
  ): Promise<Record<string, Tensor>> {
    const tensors = await this.#pool.run({
      maxOpenFiles: this.#maxOpenFiles,
      path,
      label,
      key,
      group,
      options: { datasets: options.datasets, frames: options.frames },
    });
    const out: Record<string, Tensor> = {};
    for (const t of tensors) {
      out[t.name] = {
        dtype: t.dtype,
        shape: t.shape,
        data: viewAs(t.dtype, new Uint8Array(t.buffer)),
      };
    }
    return out;
  }

  terminate(): void {
    this.#pool.terminate("cache reader closed before the read finished");
  }
}
