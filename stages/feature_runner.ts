/**
 * The work of {@linkcode FeatureStream} on one clip: resample to each extractor's rate, run the
 * extractors. `workers/feature_worker.ts` serves {@linkcode featureTask} on a worker; the stream
 * also runs a {@linkcode FeatureRunner} on the calling thread (`workers: 0`).
 *
 * @module
 */
import type { Extractor } from "../extractors/extractor.ts";
import { loadExtractor } from "../extractors/load_extractor.ts";
import { resamplerFor } from "../audio/resample.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { TaskResult } from "../util/worker_pool.ts";

/** One clip and the extractors to run on it. */
export interface FeatureTask {
  /** Extractors: module URLs (resolved by the registry) and their JSON options. */
  extractors: { module: string; options: Record<string, unknown> }[];
  key: string;
  sampleRate: number;
  audio: Float32Array;
}

/**
 * Runs extractors on clips; extractors are built on first use and kept, so a worker builds each
 * once; resamplers come from the bounded cache of `resamplerFor` (the last 8 pairs of rates).
 */
export class FeatureRunner {
  #extractors = new Map<string, Promise<Extractor[]>>();

  /** The tensors of every extractor of `task`, by output name. */
  async run(task: FeatureTask): Promise<Record<string, Tensor>> {
    const id = JSON.stringify(task.extractors);
    let built = this.#extractors.get(id);
    if (!built) {
      built = Promise.all(
        task.extractors.map((e) => loadExtractor(new URL(e.module), e.options)),
      );
      this.#extractors.set(id, built);
    }
    const tensors: Record<string, Tensor> = {};
    const atRate = new Map<number, Float32Array>([[task.sampleRate, task.audio]]);
    for (const extractor of await built) {
      let audio = atRate.get(extractor.sampleRate);
      if (!audio) {
        audio = resamplerFor(task.sampleRate, extractor.sampleRate).resample(task.audio);
        atRate.set(extractor.sampleRate, audio);
      }
      const out = await extractor.extract({ key: task.key, audio });
      for (const name of extractor.outputs) {
        if (!out[name]) {
          throw new Error(`extractor ${extractor.name} returned no tensor ${JSON.stringify(name)}`);
        }
        tensors[name] = out[name];
      }
    }
    return tensors;
  }

  /** Closes every extractor built. */
  async close(): Promise<void> {
    for (const built of this.#extractors.values()) {
      for (const extractor of await built.catch(() => [])) await extractor.close?.();
    }
    this.#extractors.clear();
  }
}

/** Buffers of `tensors` to move rather than copy. */
export function tensorBuffers(tensors: Record<string, Tensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    if (t.data.buffer instanceof ArrayBuffer && t.data.byteLength === t.data.buffer.byteLength) {
      buffers.add(t.data.buffer);
    }
  }
  return [...buffers];
}

let runner: FeatureRunner | undefined;

/**
 * One {@linkcode FeatureTask} on this thread's own {@linkcode FeatureRunner} (built on the first
 * task, so each extractor is built once per worker): the tensors, their buffers to move. An
 * extractor's error comes back through the pool with its class, fields and cause.
 */
export async function featureTask(task: FeatureTask): Promise<TaskResult<Record<string, Tensor>>> {
  runner ??= new FeatureRunner();
  const tensors = await runner.run(task);
  return { value: tensors, transfer: tensorBuffers(tensors) };
}
