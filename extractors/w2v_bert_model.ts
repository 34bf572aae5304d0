/**
 * {@linkcode W2vBertModel}: one ONNX Runtime session on a w2v-BERT export, run on batches of
 * clips padded as SeamlessM4TFeatureExtractor pads a batch.
 *
 * @module
 */
import { loadOnnxRuntime } from "../deps.ts";
import { errorMessage, FormatError } from "../errors.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { ExecutionProvider } from "./execution_provider.ts";
import type { BatchModel } from "./extractor.ts";

/** The front end's output for one clip: what the model is fed. */
export interface W2vBertInput {
  /** `frames` x 160 float32, row-major (SeamlessFbank's `features`). */
  features: Float32Array;
  /** Model frames of the clip. */
  frames: number;
  /** 1 per real frame, 0 for a last frame that is half padding (an odd count of fbank frames). */
  attentionMask: BigInt64Array;
}

/** Options of {@linkcode W2vBertModel.open}. */
export interface W2vBertModelOptions {
  /** ONNX Runtime execution provider; default `cpu`. */
  provider?: ExecutionProvider;
  /** Intra-op threads; 0 (default) lets ONNX Runtime choose (one per core). */
  intraOpThreads?: number;
  /** Output width (`hidden_size` of the export). */
  hiddenSize: number;
  /** preprocessor_config.json's `padding_value`, put where a batch is padded. */
  paddingValue: number;
}

/** Tensor names the `w2v-bert` front end (`frontend_only`) hands to the model. */
export const FRONTEND_FEATURES = "w2v_bert.input_features";
/** See {@linkcode FRONTEND_FEATURES}. */
export const FRONTEND_MASK = "w2v_bert.attention_mask";
const WIDTH = 160;

/** One clip's model input from the front end's tensors ({@linkcode FRONTEND_FEATURES}, ...). */
export function frontendInput(tensors: Record<string, Tensor>): W2vBertInput {
  const features = tensors[FRONTEND_FEATURES];
  const mask = tensors[FRONTEND_MASK];
  if (!features || !mask) {
    throw new TypeError(`w2v-BERT front end: no ${FRONTEND_FEATURES} / ${FRONTEND_MASK} tensors`);
  }
  return {
    features: features.data as Float32Array,
    frames: features.shape[0],
    attentionMask: mask.data as BigInt64Array,
  };
}

/** `hidden_states` tensors (frames x hidden, float32) of a batch's outputs. */
export function hiddenTensors(
  inputs: readonly W2vBertInput[],
  outputs: readonly Float32Array[],
  hidden: number,
): Tensor[] {
  return outputs.map((data, i) => ({ dtype: "float32", shape: [inputs[i].frames, hidden], data }));
}

type Ort = Awaited<ReturnType<typeof loadOnnxRuntime>>;
type Session = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;

/**
 * An open w2v-BERT export. {@linkcode run} takes clips of any lengths: they are padded to the
 * longest with `paddingValue` and attention mask 0 (what SeamlessM4TFeatureExtractor does with
 * `padding=True`), run as one batch, and each clip's hidden states are cut back to its own frames.
 * The model masks padded frames (zeroed before the encoder and the convolutions, left out of
 * attention), so a clip's states do not depend on its batch beyond float32 summation order.
 * Implements {@linkcode BatchModel}. ONNX Runtime's `run` blocks the thread that calls it, so
 * `preprocess` keeps this session on a worker of its own (extractors/model_thread.ts, served by workers/model_worker.ts).
 *
 * @example
 * ```ts
 * import { W2vBertModel } from "./w2v_bert_model.ts";
 * import { FormatError } from "../errors.ts";
 *
 * // With an export: `const [a, b] = await model.run([inputA, inputB])`, then
 * // `await model.close()`. A file that is not a model is a FormatError naming it:
 * const file = await Deno.makeTempFile({ suffix: ".onnx" });
 * const error = await W2vBertModel.open(file, { hiddenSize: 1024, paddingValue: 1 }).then(
 *   () => undefined,
 *   (e) => e,
 * );
 * if (!(error instanceof FormatError) || !error.message.includes(file)) throw new Error(`${error}`);
 * await Deno.remove(file);
 * ```
 */
export class W2vBertModel implements BatchModel {
  readonly inputs = [FRONTEND_FEATURES, FRONTEND_MASK] as const;
  readonly output = "hidden_states";
  #ort: Ort;
  #session: Session;
  #file: string;
  #hidden: number;
  #padding: number;
  /** The provider it runs on. */
  readonly provider: ExecutionProvider;

  private constructor(ort: Ort, session: Session, file: string, options: W2vBertModelOptions) {
    this.#ort = ort;
    this.#session = session;
    this.#file = file;
    this.#hidden = options.hiddenSize;
    this.#padding = options.paddingValue;
    this.provider = options.provider ?? "cpu";
  }

  /** Opens a session on `modelFile`; a file ONNX Runtime cannot load throws a FormatError. */
  static async open(modelFile: string, options: W2vBertModelOptions): Promise<W2vBertModel> {
    let ort: Ort;
    try {
      ort = await loadOnnxRuntime();
    } catch (e) {
      throw new Error(
        `cannot load onnxruntime-node (${errorMessage(e)}); Deno must run with --allow-ffi`,
        { cause: e },
      );
    }
    let session: Session;
    try {
      session = await ort.InferenceSession.create(modelFile, {
        executionProviders: [options.provider ?? "cpu"],
        intraOpNumThreads: options.intraOpThreads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
      });
    } catch (e) {
      throw new FormatError(modelFile, `ONNX Runtime cannot load it: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    return new W2vBertModel(ort, session, modelFile, options);
  }

  /** Hidden states (frames x hidden, float32) of each clip of `batch`, in order. */
  async run(batch: readonly W2vBertInput[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const n = batch.length;
    const longest = Math.max(...batch.map((c) => c.frames));
    const features = new Float32Array(n * longest * WIDTH);
    const mask = new BigInt64Array(n * longest);
    for (const [i, clip] of batch.entries()) {
      if (
        clip.features.length !== clip.frames * WIDTH || clip.attentionMask.length !== clip.frames
      ) {
        throw new RangeError(
          `w2v-BERT input ${i}: ${clip.frames} frames need ${clip.frames * WIDTH} features and ` +
            `${clip.frames} mask values, got ${clip.features.length} and ${clip.attentionMask.length}`,
        );
      }
      const at = i * longest * WIDTH;
      features.set(clip.features, at);
      features.fill(this.#padding, at + clip.features.length, at + longest * WIDTH);
      mask.set(clip.attentionMask, i * longest);
    }
    const ort = this.#ort;
    const out = await this.#session.run({
      input_features: new ort.Tensor("float32", features, [n, longest, WIDTH]),
      attention_mask: new ort.Tensor("int64", mask, [n, longest]),
    });
    const result = out.hidden_states;
    try {
      const data = result.data as Float32Array;
      const hidden = this.#hidden;
      if (data.length !== n * longest * hidden) {
        throw new FormatError(
          this.#file,
          `output has ${data.length} values, expected ${n} x ${longest} x ${hidden}`,
        );
      }
      return batch.map((clip, i) =>
        data.slice(i * longest * hidden, (i * longest + clip.frames) * hidden)
      );
    } finally {
      result.dispose();
    }
  }

  /** {@linkcode BatchModel}: frames of a clip's front-end tensors. */
  length(inputs: Record<string, Tensor>): number {
    return inputs[FRONTEND_FEATURES].shape[0];
  }

  /** {@linkcode BatchModel}: `hidden_states` of each clip's front-end tensors. */
  async runBatch(batch: readonly Record<string, Tensor>[]): Promise<Tensor[]> {
    const inputs = batch.map(frontendInput);
    return hiddenTensors(inputs, await this.run(inputs), this.#hidden);
  }

  /** Releases the session. */
  async close(): Promise<void> {
    await this.#session.release();
  }
}
