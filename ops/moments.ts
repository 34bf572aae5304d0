/**
 * Per-dimension mean and variance of feature frames, accumulated in float64: each batch of
 * frames is summed in two passes (mean, then squared deviations from it) and batches are
 * combined with Chan et al.'s pairwise update, which is exact in real arithmetic and stable in
 * floating point. NaN and ±inf are counted and left out of the moments.
 *
 * Pure: numbers in, numbers out. The state is plain typed arrays, so it crosses a worker
 * boundary as it is.
 *
 * @module
 */

/** The plain state of a {@linkcode Moments}: what a worker sends back. */
export interface MomentsState {
  /** Feature dimension (values per frame). */
  dim: number;
  /** Finite values seen, per dimension. */
  count: Float64Array;
  /** Mean of the finite values, per dimension. */
  mean: Float64Array;
  /** Sum of squared deviations from the mean, per dimension. */
  m2: Float64Array;
  /** Frames added (rows of `dim` values, finite or not). */
  frames: number;
  /** Batches (samples) added. */
  batches: number;
  /** NaN values seen (left out of the moments). */
  nan: number;
  /** +inf and -inf values seen (left out of the moments). */
  inf: number;
}

/** Mean, population variance (ddof 0) and standard deviation. */
export interface MomentSummary {
  mean: number;
  variance: number;
  std: number;
}

/**
 * Running per-dimension moments over frames of `dim` values.
 *
 * @example
 * ```ts
 * import { Moments } from "./moments.ts";
 * const m = new Moments(2);
 * m.add(new Float32Array([1, 10, 3, 30]));   // two frames
 * m.add(new Float32Array([5, NaN]));         // one frame; the NaN is counted, not averaged
 * const { mean, variance } = m.perDimension();
 * if (mean[0] !== 3 || variance[0] !== 8 / 3 || mean[1] !== 20 || m.nan !== 1) throw new Error();
 * ```
 */
export class Moments implements MomentsState {
  readonly dim: number;
  readonly count: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  frames = 0;
  batches = 0;
  nan = 0;
  inf = 0;
  // Scratch for one batch, reused.
  #sum: Float64Array;
  #n: Float64Array;
  #m2: Float64Array;

  constructor(dim: number) {
    if (!Number.isSafeInteger(dim) || dim < 1) {
      throw new RangeError(`Moments: dim must be an integer >= 1, got ${dim}`);
    }
    this.dim = dim;
    this.count = new Float64Array(dim);
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
    this.#sum = new Float64Array(dim);
    this.#n = new Float64Array(dim);
    this.#m2 = new Float64Array(dim);
  }

  /** A Moments holding `state` (e.g. received from a worker). */
  static from(state: MomentsState): Moments {
    const m = new Moments(state.dim);
    m.merge(state);
    return m;
  }

  /**
   * Adds one batch: `data.length / dim` frames, row-major (frame after frame). Integers and
   * bigints are taken as numbers.
   */
  add(data: ArrayLike<number> | ArrayLike<bigint>): void {
    const dim = this.dim;
    if (data.length % dim !== 0) {
      throw new RangeError(
        `Moments: ${data.length} values are not whole frames of dim ${dim}`,
      );
    }
    const x = typeof data[0] === "bigint"
      ? Float64Array.from(data as ArrayLike<bigint>, Number)
      : data as ArrayLike<number>;
    const frames = x.length / dim;
    const sum = this.#sum.fill(0);
    const n = this.#n.fill(0);
    let bad = 0;
    for (let i = 0, d = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v === 0) {
        sum[d] += v;
        n[d]++;
      } else {
        bad++;
      }
      if (++d === dim) d = 0;
    }
    if (bad) {
      const c = countNonFinite(x);
      this.nan += c.nan;
      this.inf += c.inf;
    }
    // Second pass: squared deviations from the batch mean (sum reused as the mean).
    const m2 = this.#m2.fill(0);
    for (let d = 0; d < dim; d++) sum[d] = n[d] ? sum[d] / n[d] : 0;
    for (let i = 0, d = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v === 0) {
        const dev = v - sum[d];
        m2[d] += dev * dev;
      }
      if (++d === dim) d = 0;
    }
    this.#combine(n, sum, m2);
    this.frames += frames;
    this.batches++;
  }

  /** Folds another accumulator (or its state) into this one. */
  merge(other: MomentsState): void {
    if (other.dim !== this.dim) {
      throw new RangeError(`Moments: cannot merge dim ${other.dim} into dim ${this.dim}`);
    }
    this.#combine(other.count, other.mean, other.m2);
    this.frames += other.frames;
    this.batches += other.batches;
    this.nan += other.nan;
    this.inf += other.inf;
  }

  // Chan et al.: n = na + nb, delta = mb - ma, mean += delta nb / n, M2 += M2b + delta² na nb / n.
  #combine(nb: Float64Array, mb: Float64Array, m2b: Float64Array): void {
    const { count, mean, m2 } = this;
    for (let d = 0; d < this.dim; d++) {
      const b = nb[d];
      if (!b) continue;
      const a = count[d];
      const n = a + b;
      const delta = mb[d] - mean[d];
      mean[d] += delta * (b / n);
      m2[d] += m2b[d] + delta * delta * (a * b / n);
      count[d] = n;
    }
  }

  /** Mean, variance (ddof 0) and std per dimension; NaN where a dimension saw no finite value. */
  perDimension(): { mean: number[]; variance: number[]; std: number[] } {
    const mean: number[] = [];
    const variance: number[] = [];
    for (let d = 0; d < this.dim; d++) {
      const n = this.count[d];
      mean.push(n ? this.mean[d] : NaN);
      variance.push(n ? this.m2[d] / n : NaN);
    }
    return { mean, variance, std: variance.map(Math.sqrt) };
  }

  /**
   * The original `compute_mel_statistics.py`'s global figures: the mean over dimensions of the
   * per-dimension mean, variance and std (so `std` is not `sqrt(variance)`). NaN when a
   * dimension saw no finite value.
   */
  acrossDimensions(): MomentSummary {
    const { mean, variance, std } = this.perDimension();
    const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    return { mean: avg(mean), variance: avg(variance), std: avg(std) };
  }

  /** The same moments over every finite value of every dimension pooled together. */
  global(): MomentSummary {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (let d = 0; d < this.dim; d++) {
      const b = this.count[d];
      if (!b) continue;
      const total = n + b;
      const delta = this.mean[d] - mean;
      mean += delta * (b / total);
      m2 += this.m2[d] + delta * delta * (n * b / total);
      n = total;
    }
    const variance = n ? m2 / n : NaN;
    return { mean: n ? mean : NaN, variance, std: Math.sqrt(variance) };
  }

  /** A copy of the state, safe to post to another worker. */
  state(): MomentsState {
    return {
      dim: this.dim,
      count: this.count.slice(),
      mean: this.mean.slice(),
      m2: this.m2.slice(),
      frames: this.frames,
      batches: this.batches,
      nan: this.nan,
      inf: this.inf,
    };
  }
}

/**
 * NaN and ±inf in an array of numbers.
 *
 * @example
 * ```ts
 * import { countNonFinite } from "./moments.ts";
 * const c = countNonFinite(new Float32Array([1, NaN, Infinity, -Infinity]));
 * if (c.nan !== 1 || c.inf !== 2) throw new Error();
 * ```
 */
export function countNonFinite(data: ArrayLike<number>): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      if (v !== v) nan++;
      else inf++;
    }
  }
  return { nan, inf };
}
