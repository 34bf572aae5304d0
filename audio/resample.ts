/**
 * Band-limited resampling with the defaults of `torchaudio.functional.resample`, the original
 * pipeline's step to 16 kHz. Pure: samples in, samples out.
 *
 * @module
 */

/** How wide the windowed sinc is, in zero crossings of the lower rate (torchaudio's default). */
export const LOWPASS_FILTER_WIDTH = 6;
/** Cut-off as a fraction of the lower Nyquist rate (torchaudio's default). */
export const ROLLOFF = 0.99;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Most kernel taps a {@linkcode Resampler} keeps in a table (phases x taps per phase, float32:
 * 4 MiB). Rates whose table would be bigger compute each output sample's taps as it is made, so
 * memory stays bounded whatever two rates a header claims.
 */
export const MAX_KERNEL_TAPS = 1 << 20;

/** Resamplers kept by {@linkcode resamplerFor} (least recently used dropped first). */
export const RESAMPLER_CACHE_SIZE = 8;

/**
 * A resampler from one integer rate to another.
 *
 * With the rates reduced by their gcd to `orig` and `next`, output phase `j` (of `next`) is a
 * dot product of `2 * width + orig` padded input samples with a Hann-windowed sinc
 * (`sinc_interp_hann`, `lowpass_filter_width` 6, `rolloff` 0.99), block `b` starting at input
 * `b * orig`, over the input zero-padded by `width` before and `width + orig` after; the output
 * is cut to `ceil(n * next / orig)` samples. Kernel taps are computed in float32 as torchaudio
 * computes them for float32 audio; sums run in float64 and round once. Only the taps inside the
 * sinc's support (about `2 * width + 1` per phase) are used: they are kept in a table when
 * phases x taps is at most {@linkcode MAX_KERNEL_TAPS}, else computed per output sample (the
 * same values, so the same result), so that no pair of rates costs more than a few MiB.
 *
 * @example
 * ```ts
 * import { Resampler } from "./resample.ts";
 *
 * const resampler = new Resampler(22050, 16000);
 * const out = resampler.resample(new Float32Array(22050).fill(0.5));
 * if (out.length !== 16000) throw new Error(`length ${out.length}`);
 * // Far from the edges, a constant stays constant.
 * if (Math.abs(out[8000] - 0.5) > 1e-3) throw new Error(`value ${out[8000]}`);
 * ```
 */
export class Resampler {
  /** Input rate (Hz). */
  readonly from: number;
  /** Output rate (Hz). */
  readonly to: number;
  #orig: number;
  #next: number;
  #width: number;
  #base32: number;
  #pi32: number;
  #scale32: number;
  /** Most taps of one phase inside the sinc's support (a bound). */
  #span: number;
  /** When tabled: `next` rows of `span` taps, row j for output phase j, from tap `#first[j]`. */
  #kernel?: Float32Array;
  #first?: Int32Array;
  #count?: Int32Array;

  /**
   * `maxKernelTaps`: the most taps kept in a table (default {@linkcode MAX_KERNEL_TAPS}); 0
   * computes every output sample's taps as it is made.
   */
  constructor(from: number, to: number, maxKernelTaps: number = MAX_KERNEL_TAPS) {
    for (const [name, rate] of [["from", from], ["to", to]] as const) {
      if (!Number.isSafeInteger(rate) || rate < 1) {
        throw new RangeError(`Resampler: ${name} must be a positive integer rate, got ${rate}`);
      }
    }
    this.from = from;
    this.to = to;
    const g = gcd(from, to);
    const orig = from / g, next = to / g;
    this.#orig = orig;
    this.#next = next;
    const base = Math.min(orig, next) * ROLLOFF;
    this.#width = Math.ceil((LOWPASS_FILTER_WIDTH * orig) / base);
    // The kernel is computed step by step in float32, as torchaudio does for float32 audio:
    // its taps then agree with torchaudio's to the last bit or two, not just to 1e-6.
    const f = Math.fround;
    this.#base32 = f(base);
    this.#pi32 = f(Math.PI);
    this.#scale32 = f(base / orig);
    // |t| < width_zc spans 2 * width_zc * orig / base taps, plus rounding at both ends.
    this.#span = Math.ceil((2 * LOWPASS_FILTER_WIDTH * orig) / base) + 3;
    if (from === to || next * this.#span > maxKernelTaps) return;
    const span = this.#span;
    const kernel = new Float32Array(next * span);
    const first = new Int32Array(next);
    const count = new Int32Array(next);
    const row = new Float64Array(span);
    for (let j = 0; j < next; j++) {
      const [lo, n] = this.#taps(j, row);
      first[j] = lo;
      count[j] = n;
      for (let k = 0; k < n; k++) kernel[j * span + k] = row[k];
    }
    this.#kernel = kernel;
    this.#first = first;
    this.#count = count;
  }

  /** Time of tap `i` relative to output phase `j`, in units of the lower rate (float32). */
  #time(phase32: number, i: number): number {
    const f = Math.fround;
    return f(f(phase32 + f((i - this.#width) / this.#orig)) * this.#base32);
  }

  /**
   * The taps of phase `j` inside the sinc's support into `row`: returns the first tap's index
   * (in the block of `2 * width + orig`) and how many there are.
   */
  #taps(j: number, row: Float64Array): [number, number] {
    const f = Math.fround;
    const orig = this.#orig, width = this.#width, taps = 2 * width + orig;
    const phase = f(-j / this.#next);
    // The support in exact arithmetic, widened by a tap each side for float32 rounding; each
    // candidate is then tested with the float32 time as the table of every tap would be.
    const centre = width + (j / this.#next) * orig;
    const reach = (LOWPASS_FILTER_WIDTH * orig) / this.#base32;
    let lo = Math.max(0, Math.floor(centre - reach) - 1);
    const hi = Math.min(taps, Math.ceil(centre + reach) + 2);
    while (lo < hi && !(Math.abs(this.#time(phase, lo)) < LOWPASS_FILTER_WIDTH)) lo++;
    let n = 0;
    const pi32 = this.#pi32, scale32 = this.#scale32;
    for (let i = lo; i < hi; i++) {
      const t = this.#time(phase, i);
      if (!(Math.abs(t) < LOWPASS_FILTER_WIDTH)) break;
      const c = f(Math.cos(f(f(f(t * pi32) / LOWPASS_FILTER_WIDTH) / 2)));
      const window = f(c * c);
      const x = f(t * pi32);
      const sinc = x === 0 ? 1 : f(f(Math.sin(x)) / x);
      row[n++] = f(sinc * f(window * scale32));
    }
    return [lo, n];
  }

  /** Whether the kernel is kept in a table (else taps are computed per output sample). */
  get tabled(): boolean {
    return this.#kernel !== undefined;
  }

  /** Output samples for `n` input samples: ceil(n * to / from). */
  outputLength(n: number): number {
    // torchaudio rounds n * next / orig to float32 before the ceil; so do we, to agree on length.
    return Math.ceil(Math.fround((this.#next * n) / this.#orig));
  }

  /** Resamples `input`; at equal rates, returns it unchanged (the same array). */
  resample(input: Float32Array): Float32Array {
    if (this.from === this.to) return input;
    const orig = this.#orig, next = this.#next, width = this.#width, span = this.#span;
    const kernel = this.#kernel, first = this.#first, count = this.#count;
    const row = kernel ? new Float64Array(0) : new Float64Array(span);
    const n = input.length;
    const length = this.outputLength(n);
    const out = new Float32Array(length);
    for (let o = 0; o < length; o++) {
      const block = Math.floor(o / next), phase = o - block * next;
      // Padded index block * orig + i is input index block * orig + i - width.
      const start = block * orig - width;
      // Taps outside the sinc's support (clamped to its edge, ~1e-23) are left out: 2 * width
      // + 1 taps per output instead of 2 * width + orig, the same result in float32.
      let tap0: number, taps: number, at: number;
      let k: Float32Array | Float64Array;
      if (kernel) {
        tap0 = first![phase];
        taps = count![phase];
        k = kernel;
        at = phase * span;
      } else {
        [tap0, taps] = this.#taps(phase, row);
        k = row;
        at = 0;
      }
      const lo = Math.max(0, -start - tap0), hi = Math.min(taps, n - start - tap0);
      const from = start + tap0;
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += input[from + i] * k[at + i];
      out[o] = sum;
    }
    return out;
  }
}

/**
 * A shared {@linkcode Resampler} from `from` to `to` Hz: the last
 * {@linkcode RESAMPLER_CACHE_SIZE} pairs used are kept, so a corpus of many rates neither
 * rebuilds a kernel per file nor keeps one per rate.
 *
 * @example
 * ```ts
 * import { resamplerFor } from "./resample.ts";
 *
 * if (resamplerFor(22050, 16000) !== resamplerFor(22050, 16000)) throw new Error("not shared");
 * ```
 */
export function resamplerFor(from: number, to: number): Resampler {
  const id = `${from}>${to}`;
  let r = cache.get(id);
  if (r) cache.delete(id);
  else r = new Resampler(from, to);
  cache.set(id, r);
  while (cache.size > RESAMPLER_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return r;
}
const cache = new Map<string, Resampler>();
