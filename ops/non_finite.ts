/**
 * NaN and ±inf in stored floating datasets, tallied per dataset name, for verify and inspect.
 * A model trained on them diverges, so they are reported; they are not damage, so they are a
 * warning unless the caller asks to be strict.
 *
 * @module
 */
import { DTYPES } from "../formats/dtype.ts";
import type { Tensor } from "../formats/tensor.ts";
import { countNonFinite } from "./moments.ts";

/** NaN and inf found in one dataset name across samples. */
export interface NonFiniteCount {
  nan: number;
  inf: number;
  /** Samples holding at least one. */
  samples: number;
  /** The first such sample seen. */
  firstKey: string;
}

/**
 * Counts per dataset name.
 *
 * @example
 * ```ts
 * import { NonFiniteTally } from "./non_finite.ts";
 * const tally = new NonFiniteTally();
 * tally.add("a", "mel", { dtype: "float32", shape: [3], data: new Float32Array([1, NaN, Infinity]) });
 * if (tally.counts.mel.nan !== 1 || tally.counts.mel.inf !== 1) throw new Error();
 * ```
 */
export class NonFiniteTally {
  /** Dataset name -> counts; only names with at least one NaN or inf. */
  readonly counts: Record<string, NonFiniteCount> = {};

  /** Counts one dataset of sample `key` (integers and bools hold none). */
  add(key: string, name: string, tensor: Tensor): void {
    if (DTYPES[tensor.dtype].kind !== "float") return;
    const { nan, inf } = countNonFinite(tensor.data as ArrayLike<number>);
    if (!nan && !inf) return;
    const c = this.counts[name] ??= { nan: 0, inf: 0, samples: 0, firstKey: key };
    c.nan += nan;
    c.inf += inf;
    c.samples++;
  }

  /** One sentence per dataset name, e.g. for a warning. */
  messages(): { dataset: string; message: string }[] {
    return Object.entries(this.counts).map(([dataset, c]) => ({
      dataset,
      message: `dataset ${dataset}: ${c.nan} NaN and ${c.inf} inf in ${c.samples} sample(s), ` +
        `first ${JSON.stringify(c.firstKey)}`,
    }));
  }
}
