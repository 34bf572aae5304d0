/**
 * Log-mel spectrograms as the original pipeline computes them (Amphion `utils/mel.py`
 * `extract_mel_features`): reflect padding, an STFT with `center=False` and a periodic Hann
 * window, magnitudes, librosa's Slaney mel filterbank, a floored log. Pure: samples in, a
 * `(1, T, n_mel)` float32 tensor out.
 *
 * @module
 */
import { RealFft } from "./fft.ts";
import type { Tensor } from "../formats/tensor.ts";

/** The parameters of a mel spectrogram (`preprocessing.mel_config`). */
export interface MelOptions {
  /** Sample rate of the audio (Hz). */
  sample_rate: number;
  /** Hop between frames (samples). */
  hop_size: number;
  /** Hann window length (samples), <= n_fft; centred in the FFT frame when shorter. */
  win_size: number;
  /** FFT length (samples). Powers of two take the fast path; other sizes a direct DFT. */
  n_fft: number;
  /** Mel bands. */
  n_mel: number;
  /** Lowest and highest filter edge (Hz). */
  fmin: number;
  fmax: number;
}

// librosa's Slaney mel scale: linear below 1 kHz, logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** One mel filter: weights for FFT bins `start .. start + weights.length - 1`. */
export interface MelFilter {
  start: number;
  weights: Float64Array;
}

/**
 * The mel filterbank of `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)` (htk=False,
 * norm="slaney", dtype float32), each filter kept as its non-zero span. Weights are rounded to
 * float32 where librosa stores them, so they equal librosa's bit for bit in practice.
 */
export function melFilterbank(
  sampleRate: number,
  nFft: number,
  nMel: number,
  fmin: number,
  fmax: number,
): MelFilter[] {
  const bins = Math.floor(nFft / 2) + 1;
  const lo = hzToMel(fmin), hi = hzToMel(fmax);
  const step = (hi - lo) / (nMel + 1);
  const edges = new Float64Array(nMel + 2);
  for (let i = 0; i < nMel + 2; i++) edges[i] = melToHz(i === nMel + 1 ? hi : lo + i * step);
  // As numpy's rfftfreq computes bin frequencies, so boundary bins agree exactly.
  const binHz = 1 / (nFft * (1 / sampleRate));
  const filters: MelFilter[] = [];
  for (let m = 0; m < nMel; m++) {
    const left = edges[m], centre = edges[m + 1], right = edges[m + 2];
    const norm = 2 / (right - left);
    const row = new Float64Array(bins);
    let first = -1, last = -1;
    for (let k = 0; k < bins; k++) {
      const f = k * binHz;
      const lower = -(left - f) / (centre - left);
      const upper = (right - f) / (right - centre);
      const w = Math.fround(Math.fround(Math.max(0, Math.min(lower, upper))) * norm);
      if (w !== 0) {
        if (first < 0) first = k;
        last = k;
      }
      row[k] = w;
    }
    filters.push(
      first < 0
        ? { start: 0, weights: new Float64Array(0) }
        : { start: first, weights: row.slice(first, last + 1) },
    );
  }
  return filters;
}

/** A real DFT of any even size by its definition, for FFT lengths that are not powers of two. */
class DirectDft {
  readonly size: number;
  #cos: Float64Array;
  #sin: Float64Array;
  constructor(size: number) {
    this.size = size;
    this.#cos = new Float64Array(size);
    this.#sin = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      this.#cos[i] = Math.cos((2 * Math.PI * i) / size);
      this.#sin[i] = Math.sin((2 * Math.PI * i) / size);
    }
  }
  forward(input: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const n = this.size, cos = this.#cos, sin = this.#sin;
    for (let k = 0; k <= n >> 1; k++) {
      let sr = 0, si = 0;
      for (let t = 0, p = 0; t < n; t++, p = (p + k) % n) {
        sr += input[t] * cos[p];
        si -= input[t] * sin[p];
      }
      re[k] = sr;
      im[k] = si;
    }
  }
}

function checkOptions(o: MelOptions): void {
  for (const key of ["sample_rate", "hop_size", "win_size", "n_fft", "n_mel"] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`mel_config.${key} must be an integer >= 1, got ${o[key]}`);
    }
  }
  if (o.win_size > o.n_fft) {
    throw new RangeError(`mel_config.win_size (${o.win_size}) must be <= n_fft (${o.n_fft})`);
  }
  if (o.n_fft < o.hop_size) {
    throw new RangeError(`mel_config.n_fft (${o.n_fft}) must be >= hop_size (${o.hop_size})`);
  }
  if (!(o.fmin >= 0 && o.fmax > o.fmin && o.fmax <= o.sample_rate / 2)) {
    throw new RangeError(
      `mel_config.fmin/fmax must satisfy 0 <= fmin < fmax <= sample_rate / 2, got ${o.fmin}/${o.fmax}`,
    );
  }
}

/**
 * Computes log-mel spectrograms of one configuration; build once, reuse for every utterance.
 *
 * @example
 * ```ts
 * import { MelSpectrogram } from "./mel.ts";
 *
 * const mel = new MelSpectrogram({
 *   sample_rate: 16000, hop_size: 320, win_size: 1024, n_fft: 1024, n_mel: 80, fmin: 0, fmax: 8000,
 * });
 * const tone = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(2 * Math.PI * 440 * i / 16000));
 * const { dtype, shape } = mel.compute(tone, "tone");
 * if (dtype !== "float32" || shape.join() !== "1,50,80") throw new Error(shape.join());
 * ```
 */
export class MelSpectrogram {
  readonly options: Readonly<MelOptions>;
  #filters: MelFilter[];
  #window: Float64Array;
  #dft: { forward(input: ArrayLike<number>, re: Float64Array, im: Float64Array): void };
  #frame: Float64Array;
  #re: Float64Array;
  #im: Float64Array;
  #mag: Float64Array;

  constructor(options: MelOptions) {
    checkOptions(options);
    this.options = { ...options };
    const { n_fft: nFft, win_size: win } = options;
    this.#filters = melFilterbank(
      options.sample_rate,
      nFft,
      options.n_mel,
      options.fmin,
      options.fmax,
    );
    // torch.stft zero-pads a shorter window to n_fft, centred; periodic Hann, float32 as torch's.
    this.#window = new Float64Array(nFft);
    const offset = Math.floor((nFft - win) / 2);
    for (let i = 0; i < win; i++) {
      this.#window[offset + i] = Math.fround(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / win));
    }
    this.#dft = (nFft & (nFft - 1)) === 0 && nFft >= 8 ? new RealFft(nFft) : new DirectDft(nFft);
    const bins = Math.floor(nFft / 2) + 1;
    this.#frame = new Float64Array(nFft);
    this.#re = new Float64Array(bins);
    this.#im = new Float64Array(bins);
    this.#mag = new Float64Array(bins);
  }

  /** Frames for `n` samples: floor((n + 2 * pad - n_fft) / hop) + 1, pad = (n_fft - hop) / 2. */
  frames(n: number): number {
    const { n_fft: nFft, hop_size: hop } = this.options;
    const pad = Math.floor((nFft - hop) / 2);
    return Math.floor((n + 2 * pad - nFft) / hop) + 1;
  }

  /**
   * The `(1, T, n_mel)` log-mel spectrogram of `audio`. Throws a `RangeError` naming `what`
   * when the audio is too short for the reflect padding or for one frame (torch refuses too).
   */
  compute(audio: Float32Array, what = "audio"): Tensor {
    const { n_fft: nFft, hop_size: hop, n_mel: nMel } = this.options;
    const n = audio.length;
    const pad = Math.floor((nFft - hop) / 2);
    if (n <= pad || this.frames(n) < 1) {
      throw new RangeError(
        `${what}: ${n} samples are too few for a mel frame (need more than ${
          Math.max(pad, nFft - 2 * pad - 1)
        } at n_fft ${nFft}, hop ${hop})`,
      );
    }
    const frames = this.frames(n);
    const out = new Float32Array(frames * nMel);
    const frame = this.#frame, window = this.#window, re = this.#re, im = this.#im;
    const mag = this.#mag;
    for (let t = 0; t < frames; t++) {
      // Sample i of the padded signal is audio[i - pad], reflected at both ends.
      const first = t * hop - pad;
      for (let i = 0; i < nFft; i++) {
        let j = first + i;
        if (j < 0) j = -j;
        else if (j >= n) j = 2 * (n - 1) - j;
        frame[i] = audio[j] * window[i];
      }
      this.#dft.forward(frame, re, im);
      for (let k = 0; k < mag.length; k++) mag[k] = Math.sqrt(re[k] * re[k] + im[k] * im[k] + 1e-9);
      for (let m = 0; m < nMel; m++) {
        const { start, weights } = this.#filters[m];
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * mag[start + k];
        out[t * nMel + m] = Math.log(Math.max(sum, 1e-5));
      }
    }
    return { dtype: "float32", shape: [1, frames, nMel], data: out };
  }
}
