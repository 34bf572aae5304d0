/**
 * {@linkcode ModelWorker}: the one w2v-BERT session of a run, on a worker thread of its own.
 * ONNX Runtime's `session.run` blocks the thread that calls it (seconds per batch on a CPU), so
 * on the main thread it would stall reading, the feature workers' hand-offs and the writer; here
 * it runs beside them. `workers/model_worker.ts` serves {@linkcode modelTask} on that thread.
 *
 * @module
 */
import type { BatchModel } from "../extractors/extractor.ts";
import {
  FRONTEND_FEATURES,
  FRONTEND_MASK,
  frontendInput,
  hiddenTensors,
  type W2vBertInput,
  W2vBertModel,
  type W2vBertModelOptions,
} from "../extractors/w2v_bert_model.ts";
import type { Tensor } from "../formats/tensor.ts";
import { type TaskResult, WorkerPool } from "../util/worker_pool.ts";

/** What the model worker is asked: open the session, run a batch, or release it. */
export type ModelTask =
  | { open: { modelFile: string; options: W2vBertModelOptions } }
  | { run: W2vBertInput[] }
  | { close: true };

/**
 * A {@linkcode W2vBertModel} on a worker: the same {@linkcode BatchModel}, with `run` off the
 * calling thread. Errors come back with their class and fields (a FormatError naming the ONNX
 * file that cannot be loaded).
 *
 * @example
 * ```ts
 * import { ModelWorker } from "./model_thread.ts";
 * import { FormatError } from "../errors.ts";
 *
 * // With an export: `const states = await model.runBatch(batch)` for front-end tensors, then
 * // `await model.close()`. A file that is not a model fails on the worker, and comes back so:
 * const file = await Deno.makeTempFile({ suffix: ".onnx" });
 * const error = await ModelWorker.open(file, { hiddenSize: 1024, paddingValue: 1 }).then(
 *   () => undefined,
 *   (e) => e,
 * );
 * if (!(error instanceof FormatError) || !error.message.includes(file)) throw new Error(`${error}`);
 * await Deno.remove(file);
 * ```
 */
export class ModelWorker implements BatchModel {
  readonly inputs = [FRONTEND_FEATURES, FRONTEND_MASK] as const;
  readonly output = "hidden_states";
  #pool: WorkerPool<ModelTask, Float32Array[] | null>;
  #hidden: number;

  private constructor(pool: WorkerPool<ModelTask, Float32Array[] | null>, hidden: number) {
    this.#pool = pool;
    this.#hidden = hidden;
  }

  /** Starts the worker and opens the session there. */
  static async open(modelFile: string, options: W2vBertModelOptions): Promise<ModelWorker> {
    const pool = new WorkerPool<ModelTask, Float32Array[] | null>(
      new URL("../workers/model_worker.ts", import.meta.url),
      { size: 1, perWorker: 1, name: "model worker" },
    );
    try {
      await pool.run({ open: { modelFile, options } });
    } catch (e) {
      pool.terminate();
      throw e;
    }
    return new ModelWorker(pool, options.hiddenSize);
  }

  /** Frames of a clip's front-end tensors. */
  length(inputs: Record<string, Tensor>): number {
    return inputs[FRONTEND_FEATURES].shape[0];
  }

  /** `hidden_states` of each clip; the inputs are copied (a failed batch is rerun from them). */
  async runBatch(batch: readonly Record<string, Tensor>[]): Promise<Tensor[]> {
    const inputs = batch.map(frontendInput);
    const outputs = await this.#pool.run({ run: inputs });
    return hiddenTensors(inputs, outputs!, this.#hidden);
  }

  /** Releases the session and stops the worker. */
  async close(): Promise<void> {
    try {
      await this.#pool.run({ close: true });
    } finally {
      this.#pool.terminate();
    }
  }
}

let model: W2vBertModel | undefined;

/** One {@linkcode ModelTask} on this thread's session (the model worker's handler). */
export async function modelTask(task: ModelTask): Promise<TaskResult<Float32Array[] | null>> {
  if ("open" in task) {
    model = await W2vBertModel.open(task.open.modelFile, task.open.options);
    return { value: null };
  }
  if ("close" in task) {
    await model?.close();
    model = undefined;
    return { value: null };
  }
  if (!model) throw new Error("model worker: run before open");
  const outputs = await model.run(task.run);
  return { value: outputs, transfer: outputs.map((o) => o.buffer as ArrayBuffer) };
}
