/**
 * {@linkcode FeatureStream}: audio clips to samples, by running feature extractors (mel,
 * w2v-BERT, a user's own) on a pool of Web Workers.
 *
 * @module
 */
import { SampleError } from "../errors.ts";
import type { BatchModel } from "../extractors/extractor.ts";
import type { Tensor } from "../formats/tensor.ts";
import { extractorModule, type ExtractorSpec } from "../extractors/registry.ts";
import type { AudioClip } from "./audio_source.ts";
import { FeatureRunner, type FeatureTask } from "../stages/feature_runner.ts";
import type { Sample, SampleFailure } from "./record.ts";
import { WorkerPool } from "../util/worker_pool.ts";
import { ModelBatcher } from "./model_batcher.ts";

/** Options of {@linkcode FeatureStream}. */
export interface FeatureStreamOptions {
  /** The extractors to run on every clip; their output names must differ. */
  extractors: ExtractorSpec[];
  /** Workers (`num_audio_workers`), default 2; 0 runs the extractors on this thread. */
  workers?: number;
  /**
   * A model run here, on this thread, once for the whole stream (one copy in memory), on
   * batches of clips of similar lengths: an extractor among `extractors` (its front end) makes
   * the model's `inputs` on the workers; they are replaced by its `output` in the sample.
   */
  model?: BatchModel;
  /** Clips per batch of `model`, at most; default 1. */
  batchSize?: number;
  /**
   * Clips taken in but not yet passed on (the read-ahead window batches are grouped in);
   * default twice the workers (at least 2), plus twice `batchSize` with a model.
   */
  maxInFlight?: number;
}

/** `tensors` with the model's inputs replaced by its output, at the place of the first input. */
function withOutput(
  tensors: Record<string, Tensor>,
  model: BatchModel,
  output: Tensor,
): Record<string, Tensor> {
  const result: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === model.inputs[0]) result[model.output] = output;
    else if (!model.inputs.includes(name)) result[name] = tensor;
  }
  return result;
}

/**
 * Turns each {@linkcode AudioClip} into a {@linkcode Sample} holding the tensors of every
 * extractor; each extractor gets the clip resampled to its `sampleRate`. Extractors are rebuilt
 * inside each worker from their registry name or module URL and JSON options. Records leave in
 * the order they came; failures pass through; a clip whose extraction fails becomes a
 * {@linkcode SampleFailure} naming its key and file. The writable side waits while
 * `maxInFlight` clips are being worked on, so back-pressure reaches the source.
 *
 * @example
 * ```ts
 * import { FeatureStream } from "./feature_stream.ts";
 *
 * const clip = { key: "a", origin: "a.wav", sampleRate: 22050, audio: new Float32Array(22050) };
 * const out = ReadableStream.from([clip])
 *   .pipeThrough(new FeatureStream({ extractors: [{ name: "mel" }], workers: 0 }));
 * for await (const record of out) {
 *   if ("error" in record) throw record.error;
 *   if (record.tensors.mel_spectrogram.shape.join() !== "1,50,80") throw new Error();
 * }
 * ```
 */
export class FeatureStream
  extends TransformStream<AudioClip | SampleFailure, Sample | SampleFailure> {
  constructor(options: FeatureStreamOptions) {
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 0) {
      throw new RangeError(`FeatureStream: workers must be an integer >= 0, got ${workers}`);
    }
    const { model, batchSize = 1 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`FeatureStream: batchSize must be an integer >= 1, got ${batchSize}`);
    }
    const maxInFlight = options.maxInFlight ??
      Math.max(2, 2 * workers) + (model ? 2 * batchSize : 0);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(
        `FeatureStream: maxInFlight must be an integer >= 1, got ${maxInFlight}`,
      );
    }
    if (options.extractors.length === 0) {
      throw new RangeError("FeatureStream: no extractors given");
    }
    // Resolved here, so relative module paths mean the caller's working directory everywhere.
    const extractors = options.extractors.map((spec) => ({
      module: extractorModule(spec.name).href,
      options: spec.options ?? {},
    }));
    const pool = workers > 0
      ? new WorkerPool<FeatureTask, Record<string, Tensor>>(
        new URL("../workers/feature_worker.ts", import.meta.url),
        { size: workers, perWorker: 1, name: "feature worker" },
      )
      : undefined;
    const local = pool ? undefined : new FeatureRunner();
    const batcher = model ? new ModelBatcher(model, batchSize) : undefined;
    const modelStep = (tensors: Promise<Record<string, Tensor>>) => {
      if (!model || !batcher) return tensors;
      batcher.expect();
      return tensors.then(
        async (t) => {
          const inputs = Object.fromEntries(model.inputs.map((name) => [name, t[name]]));
          return withOutput(t, model, await batcher.submit(inputs));
        },
        (error) => {
          batcher.drop();
          throw error;
        },
      );
    };
    const run = (clip: AudioClip): Promise<Sample | SampleFailure> => {
      const task: FeatureTask = {
        extractors,
        key: clip.key,
        sampleRate: clip.sampleRate,
        audio: clip.audio,
      };
      const tensors = modelStep(
        pool
          ? pool.run(
            task,
            clip.audio.byteLength === clip.audio.buffer.byteLength
              ? [clip.audio.buffer as ArrayBuffer]
              : [],
          )
          : local!.run(task),
      );
      return tensors.then(
        (t) => ({ key: clip.key, tensors: t, origin: clip.origin }),
        (error) => ({
          key: clip.key,
          origin: clip.origin,
          error: new SampleError(
            clip.key,
            error instanceof Error ? error.message : String(error),
            clip.origin,
            undefined,
            { cause: error },
          ),
        }),
      );
    };
    const inFlight: Promise<Sample | SampleFailure>[] = [];
    const finish = async () => {
      pool?.terminate();
      await local?.close();
    };
    super({
      start: () => pool?.prestart(),
      async transform(record, controller) {
        inFlight.push("error" in record ? Promise.resolve(record) : run(record));
        while (inFlight.length >= maxInFlight) controller.enqueue(await inFlight.shift()!);
      },
      async flush(controller) {
        try {
          while (inFlight.length > 0) controller.enqueue(await inFlight.shift()!);
        } finally {
          await finish();
        }
      },
      cancel: finish,
    });
  }
}
