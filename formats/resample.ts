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
 * A resampler from one integer rate to another, its filter built once and reused.
 *
 * With the rates reduced by their gcd to `orig` and `next`, output phase `j` (of `next`) is a
 * dot product of `2 * width + orig` padded input samples with a Hann-windowed sinc
 * (`sinc_interp_hann`, `lowpass_filter_width` 6, `rolloff` 0.99), block `b` starting at input
 * `b * orig`, over the input zero-padded by `width` before and `width + orig` after; the output
 * is cut to `ceil(n * next / orig)` samples. Kernel taps are computed in float32 as torchaudio
 * computes them for float32 audio; sums run in float64 and round once.
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
  #taps: number;
  /** `next` rows of `taps` coefficients, row j for output phase j. */
  #kernel: Float64Array;
  /** Per phase, the first and one-past-last tap inside the sinc's support. */
  #first: Int32Array;
  #end: Int32Array;

  constructor(from: number, to: number) {
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
    const width = Math.ceil((LOWPASS_FILTER_WIDTH * orig) / base);
    this.#width = width;
    const taps = 2 * width + orig;
    this.#taps = taps;
    this.#kernel = new Float64Array(next * taps);
    // The kernel is computed step by step in float32, as torchaudio does for float32 audio:
    // its taps then agree with torchaudio's to the last bit or two, not just to 1e-6.
    const f = Math.fround;
    const base32 = f(base), pi32 = f(Math.PI), scale32 = f(base / orig);
    this.#first = new Int32Array(next).fill(taps);
    this.#end = new Int32Array(next);
    for (let j = 0; j < next; j++) {
      const phase = f(-j / next);
      for (let i = 0; i < taps; i++) {
        // Time of tap i relative to output phase j, in units of the lower rate.
        let t = f(f(phase + f((i - width) / orig)) * base32);
        if (Math.abs(t) < LOWPASS_FILTER_WIDTH) {
          this.#first[j] = Math.min(this.#first[j], i);
          this.#end[j] = i + 1;
        }
        t = Math.max(-LOWPASS_FILTER_WIDTH, Math.min(LOWPASS_FILTER_WIDTH, t));
        const c = f(Math.cos(f(f(f(t * pi32) / LOWPASS_FILTER_WIDTH) / 2)));
        const window = f(c * c);
        const x = f(t * pi32);
        const sinc = x === 0 ? 1 : f(f(Math.sin(x)) / x);
        this.#kernel[j * taps + i] = f(sinc * f(window * scale32));
      }
    }
  }

  /** Output samples for `n` input samples: ceil(n * to / from). */
  outputLength(n: number): number {
    // torchaudio rounds n * next / orig to float32 before the ceil; so do we, to agree on length.
    return Math.ceil(Math.fround((this.#next * n) / this.#orig));
  }

  /** Resamples `input`; at equal rates, returns it unchanged (the same array). */
  resample(input: Float32Array): Float32Array {
    if (this.from === this.to) return input;
    const orig = this.#orig, next = this.#next, width = this.#width, taps = this.#taps;
    const kernel = this.#kernel;
    const n = input.length;
    const length = this.outputLength(n);
    const out = new Float32Array(length);
    for (let o = 0; o < length; o++) {
      const block = Math.floor(o / next), phase = o - block * next;
      // Padded index block * orig + i is input index block * orig + i - width.
      const start = block * orig - width;
      // Taps outside the sinc's support (clamped to its edge, ~1e-23) are left out: 2 * width
      // + 1 taps per output instead of 2 * width + orig, the same result in float32.
      const lo = Math.max(this.#first[phase], -start), hi = Math.min(this.#end[phase], n - start);
      const row = phase * taps;
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += input[start + i] * kernel[row + i];
      out[o] = sum;
    }
    return out;
  }
}
