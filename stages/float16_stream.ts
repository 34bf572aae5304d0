/**
 * The float16 stage: converts float32/float64 tensors of each sample to float16, as numpy's
 * `astype(np.float16)` does (see {@linkcode toFloat16}).
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { SampleError } from "../errors.ts";
import type { DType } from "../formats/dtype.ts";
import { FLOAT16_OVERFLOW_POLICIES, type Float16Overflow, toFloat16 } from "../formats/float16.ts";
import { checkTensor, type Tensor } from "../formats/tensor.ts";
import type { Sample, SampleFailure } from "./record.ts";

/** Options of {@linkcode Float16Stream}. */
export interface Float16StreamOptions {
  /** Convert at all (`use_float16`); when false samples pass through unchanged. Default true. */
  enabled?: boolean;
  /**
   * Finite values beyond ±65504: "warn" stores ±inf as numpy does and adds a warning to the
   * sample, "error" turns the sample into a failure, "clamp" stores ±65504. Default "warn".
   */
  overflow?: Float16Overflow;
}

/**
 * Converts float32/float64 tensors to float16; float16, integer and boolean tensors, and
 * failures, pass through untouched. A converted sample records its original byte count and
 * dtypes (`inputBytes`, `inputDTypes`) for throughput accounting downstream.
 *
 * @example
 * ```ts
 * const options: Float16StreamOptions = { overflow: "clamp" };
 * const out = ReadableStream.from([{
 *   key: "LJ001-0001",
 *   tensors: { x: { dtype: "float32" as const, shape: [2], data: new Float32Array([0.5, 1e6]) } },
 * }]).pipeThrough(new Float16Stream(options));
 * for await (const record of out) {
 *   if (!("tensors" in record) || record.tensors.x.dtype !== "float16") throw new Error("not converted");
 *   if ([...record.tensors.x.data].join() !== "0.5,65504") throw new Error("not clamped");
 * }
 * ```
 */
export class Float16Stream extends TransformStream<Sample | SampleFailure, Sample | SampleFailure> {
  constructor(options: Float16StreamOptions = {}) {
    const enabled = options.enabled ?? PREPROCESSING_DEFAULTS.use_float16;
    const overflow = options.overflow ?? PREPROCESSING_DEFAULTS.float16_overflow;
    if (typeof enabled !== "boolean") {
      throw new TypeError(
        `Float16Stream: enabled must be a boolean, got ${JSON.stringify(options.enabled)}`,
      );
    }
    if (!FLOAT16_OVERFLOW_POLICIES.includes(overflow)) {
      throw new RangeError(
        `Float16Stream: overflow must be one of ${
          FLOAT16_OVERFLOW_POLICIES.map((p) => JSON.stringify(p)).join(", ")
        }, got ${JSON.stringify(options.overflow)}`,
      );
    }
    super({
      transform(record, controller) {
        controller.enqueue(enabled && !("error" in record) ? convert(record, overflow) : record);
      },
    });
  }
}

function convert(sample: Sample, overflow: Float16Overflow): Sample | SampleFailure {
  const result = convertSample(sample, overflow);
  if (result.sample) return result.sample;
  return failure(sample, result.dataset, result.reason, result.cause);
}

/** {@linkcode convertSample}'s answer: the sample, or which dataset failed and why. */
export type Float16Conversion =
  | { sample: Sample }
  | { sample?: undefined; dataset: string; reason: string; cause?: unknown };

/**
 * The pure step of {@linkcode Float16Stream} on one sample (also run on NPZ decode workers):
 * float32/float64 tensors converted, others kept, `inputBytes`/`inputDTypes` recorded; an
 * invalid tensor or an overflow under policy "error" answers with the dataset and the reason.
 * `scratch(slot, size)` gives memory for the float16 copies (tensor `i` in slot `i`) when the
 * caller reuses memory from sample to sample; absent, each copy is a new buffer.
 *
 * @example
 * ```ts
 * const x = { dtype: "float32" as const, shape: [1], data: new Float32Array([1e6]) };
 * const result: Float16Conversion = convertSample({ key: "a", tensors: { x } }, "error");
 * if (result.sample || result.dataset !== "x") throw new Error("x overflows");
 * ```
 */
export function convertSample(
  sample: Sample,
  overflow: Float16Overflow,
  scratch?: (slot: number, size: number) => Uint8Array,
): Float16Conversion {
  const tensors: Record<string, Tensor> = {};
  const inputDTypes: Record<string, DType> = {};
  const warnings: string[] = [];
  let inputBytes = 0;
  let converted = false;
  for (const [i, [name, tensor]] of Object.entries(sample.tensors).entries()) {
    inputBytes += tensor.data.byteLength;
    inputDTypes[name] = tensor.dtype;
    if (tensor.dtype !== "float32" && tensor.dtype !== "float64") {
      tensors[name] = tensor;
      continue;
    }
    try {
      checkTensor(tensor, `sample ${JSON.stringify(sample.key)} dataset ${JSON.stringify(name)}`);
    } catch (error) {
      return { dataset: name, reason: (error as Error).message, cause: error };
    }
    const src = tensor.data as Float32Array | Float64Array;
    const { data, overflowed } = toFloat16(src, overflow, scratch?.(i, src.length * 2));
    if (overflowed > 0) {
      if (overflow === "error") {
        return {
          dataset: name,
          reason: `${overflowed} ${tensor.dtype} values beyond the float16 range (±65504); ` +
            `use overflow "warn" (store inf) or "clamp" (store ±65504) to keep the sample`,
        };
      }
      if (overflow === "warn") {
        warnings.push(
          `dataset ${name}: ${overflowed} values beyond float16 range stored as inf`,
        );
      }
    }
    tensors[name] = { dtype: "float16", shape: tensor.shape, data };
    converted = true;
  }
  if (!converted) return { sample };
  return {
    sample: {
      ...sample,
      tensors,
      // An earlier stage may already have recorded what entered the pipeline.
      inputBytes: sample.inputBytes ?? inputBytes,
      inputDTypes: sample.inputDTypes ?? inputDTypes,
      ...(warnings.length > 0 ? { warnings: [...(sample.warnings ?? []), ...warnings] } : {}),
    },
  };
}

function failure(
  sample: Sample,
  dataset: string,
  reason: string,
  cause?: unknown,
): SampleFailure {
  return {
    key: sample.key,
    origin: sample.origin,
    error: new SampleError(sample.key, reason, sample.origin, dataset, { cause }),
  };
}
