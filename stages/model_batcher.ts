/**
 * {@linkcode ModelBatcher}: clips whose front end is done, grouped by length into batches of a
 * {@linkcode BatchModel}, one batch at a time.
 *
 * @module
 */
import type { BatchModel } from "../extractors/extractor.ts";
import type { Tensor } from "../formats/tensor.ts";

interface Waiting {
  /** Arrival order: the oldest waiting clip is always in the next batch. */
  seq: number;
  inputs: Record<string, Tensor>;
  length: number;
  resolve: (output: Tensor) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the front-end tensors of clips ({@linkcode submit}) and runs the model on batches of
 * up to `batchSize` of them. A batch runs when the model is idle and either `batchSize` clips
 * wait, or no clip it was told of ({@linkcode expect}) is still in its front end, so the batch
 * never waits for clips that are not coming. A batch holds the oldest waiting clip and the
 * waiting clips nearest to it in length. When a batch fails, its clips are run one by one, so a
 * clip that fails fails alone.
 *
 * @example
 * ```ts
 * import { ModelBatcher } from "./model_batcher.ts";
 *
 * const sizes: number[] = [];
 * const doubler = {
 *   inputs: ["x"],
 *   output: "y",
 *   length: (t: Record<string, { shape: number[] }>) => t.x.shape[0],
 *   runBatch: (batch: readonly Record<string, any>[]) => {
 *     sizes.push(batch.length);
 *     return Promise.resolve(batch.map((t) => ({ ...t.x, data: t.x.data.map((v: number) => 2 * v) })));
 *   },
 *   close: () => Promise.resolve(),
 * };
 * const batcher = new ModelBatcher(doubler, 2);
 * const one = (v: number) => ({ x: { dtype: "float32" as const, shape: [1], data: Float32Array.of(v) } });
 * batcher.expect(3);
 * const outs = await Promise.all([1, 2, 3].map((v) => batcher.submit(one(v))));
 * if (outs.map((t) => t.data[0]).join() !== "2,4,6" || sizes.join() !== "2,1") throw new Error();
 * ```
 */
export class ModelBatcher {
  #model: BatchModel;
  #batchSize: number;
  #waiting: Waiting[] = [];
  #inFrontEnd = 0;
  #busy = false;
  #seq = 0;

  constructor(model: BatchModel, batchSize: number) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`ModelBatcher: batchSize must be an integer >= 1, got ${batchSize}`);
    }
    this.#model = model;
    this.#batchSize = batchSize;
  }

  /** Tells it that `n` more clips are in their front end and will be submitted or dropped. */
  expect(n = 1): void {
    this.#inFrontEnd += n;
  }

  /** A clip told of by {@linkcode expect} that will not come (its front end failed). */
  drop(): void {
    this.#inFrontEnd--;
    this.#schedule();
  }

  /** The model's output for one clip's front-end tensors (told of by {@linkcode expect}). */
  submit(inputs: Record<string, Tensor>): Promise<Tensor> {
    this.#inFrontEnd--;
    let length: number;
    try {
      length = this.#model.length(inputs);
    } catch (error) {
      this.#schedule();
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<Tensor>();
    this.#waiting.push({ seq: this.#seq++, inputs, length, resolve, reject });
    this.#schedule();
    return promise;
  }

  #schedule(): void {
    if (this.#busy || this.#waiting.length === 0) return;
    if (this.#waiting.length < this.#batchSize && this.#inFrontEnd > 0) return;
    const batch = this.#pick();
    this.#busy = true;
    this.#run(batch).finally(() => {
      this.#busy = false;
      this.#schedule();
    });
  }

  /** The oldest waiting clip and those nearest it in length, taken out of the waiting list. */
  #pick(): Waiting[] {
    const byLength = [...this.#waiting].sort((a, b) => a.length - b.length || a.seq - b.seq);
    const size = Math.min(this.#batchSize, byLength.length);
    const oldest = byLength.reduce((o, w) => w.seq < o.seq ? w : o);
    const at = byLength.indexOf(oldest);
    let best = Math.max(0, at - size + 1);
    for (let start = best; start <= Math.min(at, byLength.length - size); start++) {
      const spread = byLength[start + size - 1].length - byLength[start].length;
      if (spread < byLength[best + size - 1].length - byLength[best].length) best = start;
    }
    const batch = byLength.slice(best, best + size);
    const taken = new Set(batch);
    this.#waiting = this.#waiting.filter((w) => !taken.has(w));
    return batch;
  }

  async #run(batch: Waiting[]): Promise<void> {
    try {
      const outs = await this.#model.runBatch(batch.map((w) => w.inputs));
      batch.forEach((w, i) => w.resolve(outs[i]));
      return;
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
    }
    for (const w of batch) {
      try {
        w.resolve((await this.#model.runBatch([w.inputs]))[0]);
      } catch (error) {
        w.reject(error);
      }
    }
  }
}
