/**
 * The w2v-BERT 2.0 front end: transformers' `SeamlessM4TFeatureExtractor`, step for step, so the
 * ONNX model sees the numbers the PyTorch model was trained on. Pure: audio in, features out.
 *
 * @module
 */
import { RealFft } from "./fft.ts";

const FRAME = 400; // 25 ms at 16 kHz
const HOP = 160; // 10 ms
const FFT_SIZE = 512;
const MEL_BINS = 80;
const PREEMPHASIS = 0.97;
const LOG_FLOOR = 1.192092955078125e-07; // float32 epsilon, as Kaldi
const VAR_EPSILON = 1e-7;

/** Options of {@linkcode SeamlessFbank}: the fields of an export's `preprocessor_config.json`. */
export interface SeamlessFbankOptions {
  /** Value of the frame appended to an odd frame count, after normalisation (w2v-bert-2.0: 1). */
  paddingValue?: number;
  /** Frames stacked into one model frame; SeamlessM4T's extractor is only right for 2. */
  stride?: number;
  /** Per-bin mean/variance normalisation, as Python's `do_normalize_per_mel_bins` (default true). */
  normalizePerMelBins?: boolean;
}

/** Model input for one utterance. */
export interface SeamlessFeatures {
  /** `frames` x (80 * stride) float32, row-major: `input_features[0]`. */
  features: Float32Array;
  /** Model frames (50 per second for stride 2). */
  frames: number;
  /** 1 where a model frame holds audio, 0 where it ends in padding: `attention_mask[0]`. */
  attentionMask: BigInt64Array;
}

/** Kaldi's mel scale. */
function mel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** One mel filter: its weights over FFT bins `start` .. `start + weights.length - 1`. */
interface MelFilter {
  start: number;
  weights: Float64Array;
}

/** 80 triangles over bins 0..256, triangular in mel space from 20 Hz to 8 kHz, unnormalised. */
function melFilters(): MelFilter[] {
  const lo = mel(20);
  const hi = mel(8000);
  const edges = Array.from(
    { length: MEL_BINS + 2 },
    (_, i) => lo + (i * (hi - lo)) / (MEL_BINS + 1),
  );
  const bins = FFT_SIZE / 2 + 1;
  const binMel = Array.from({ length: bins }, (_, k) => mel((k * 16000) / FFT_SIZE));
  return Array.from({ length: MEL_BINS }, (_, m) => {
    const f = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const down = (binMel[k] - edges[m]) / (edges[m + 1] - edges[m]);
      const up = (edges[m + 2] - binMel[k]) / (edges[m + 2] - edges[m + 1]);
      f[k] = Math.max(0, Math.min(down, up));
    }
    // Only the non-zero span is kept: each filter covers a few bins of 257.
    const start = f.findIndex((w) => w > 0);
    const end = f.findLastIndex((w) => w > 0) + 1;
    return { start, weights: f.slice(start, end) };
  });
}

/**
 * SeamlessM4T log-mel filterbank features of 16 kHz mono audio: samples scaled by 2^15; 400-sample
 * frames every 160 (no centring); per frame DC removal, pre-emphasis 0.97, Povey window, 512-point
 * power spectrum, 80 Kaldi mel bins, log floored at float32 epsilon; each bin normalised to zero
 * mean and unit variance over the utterance (ddof 1); an odd frame count padded by one frame of
 * `paddingValue`; pairs of frames stacked into 160-wide model frames with an attention mask.
 *
 * @example
 * ```ts
 * import { SeamlessFbank } from "./seamless_fbank.ts";
 * import assert from "node:assert/strict";
 *
 * const audio = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 7) * 0.1);
 * const out = new SeamlessFbank().compute(audio);
 * assert.equal(out.frames, 49); // 98 frames of 10 ms, stacked in pairs
 * assert.equal(out.features.length, 49 * 160);
 * ```
 */
export class SeamlessFbank {
  /** Samples of the shortest audio it accepts: two frames, so a variance exists. */
  static readonly MIN_SAMPLES = FRAME + HOP;
  #paddingValue: number;
  #normalize: boolean;
  #fft = new RealFft(FFT_SIZE);
  #window: Float64Array;
  #filters = melFilters();

  constructor(options: SeamlessFbankOptions = {}) {
    const { paddingValue = 1, stride = 2, normalizePerMelBins = true } = options;
    if (!Number.isFinite(paddingValue)) {
      throw new RangeError(
        `SeamlessFbank paddingValue must be a finite number, got ${paddingValue}`,
      );
    }
    // The Python extractor pads to an even count and masks by the second sub-frame: stride 2 only.
    if (stride !== 2) throw new RangeError(`SeamlessFbank stride must be 2, got ${stride}`);
    this.#paddingValue = paddingValue;
    this.#normalize = normalizePerMelBins;
    // numpy's symmetric Hann window raised to 0.85.
    this.#window = Float64Array.from(
      { length: FRAME },
      (_, n) => Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (FRAME - 1)), 0.85),
    );
  }

  /** Features of `audio` (16 kHz, nominally [-1, 1)); throws a RangeError below MIN_SAMPLES. */
  compute(audio: Float32Array): SeamlessFeatures {
    if (audio.length < SeamlessFbank.MIN_SAMPLES) {
      throw new RangeError(
        `w2v-BERT features need at least ${SeamlessFbank.MIN_SAMPLES} samples (35 ms at 16 kHz), got ${audio.length}`,
      );
    }
    const logMel = this.#logMel(audio);
    const n = logMel.length / MEL_BINS;
    if (this.#normalize) normalise(logMel, n);
    const frames = Math.ceil(n / 2);
    const features = new Float32Array(frames * 2 * MEL_BINS).fill(this.#paddingValue);
    features.set(logMel);
    const attentionMask = new BigInt64Array(frames).fill(1n);
    // The model frame that ends in the padding frame is masked out, as in Python.
    if (n % 2) attentionMask[frames - 1] = 0n;
    return { features, frames, attentionMask };
  }

  /** frames x 80 log-mel values, rounded to float32 as the Python spectrogram returns them. */
  #logMel(audio: Float32Array): Float32Array {
    const n = 1 + Math.floor((audio.length - FRAME) / HOP);
    const out = new Float32Array(n * MEL_BINS);
    const buf = new Float64Array(FFT_SIZE);
    const re = new Float64Array(FFT_SIZE / 2 + 1);
    const im = new Float64Array(FFT_SIZE / 2 + 1);
    const power = new Float64Array(FFT_SIZE / 2 + 1);
    for (let t = 0; t < n; t++) {
      const start = t * HOP;
      let sum = 0;
      for (let i = 0; i < FRAME; i++) {
        buf[i] = Math.fround(audio[start + i] * 32768);
        sum += buf[i];
      }
      const mean = sum / FRAME;
      for (let i = 0; i < FRAME; i++) buf[i] -= mean;
      for (let i = FRAME - 1; i > 0; i--) buf[i] -= PREEMPHASIS * buf[i - 1];
      buf[0] *= 1 - PREEMPHASIS;
      for (let i = 0; i < FRAME; i++) buf[i] *= this.#window[i];
      this.#fft.forward(buf, re, im);
      for (let k = 0; k < power.length; k++) {
        // The Python spectrum is stored as complex64 before its magnitude is taken.
        const r = Math.fround(re[k]);
        const j = Math.fround(im[k]);
        power[k] = r * r + j * j;
      }
      for (let m = 0; m < MEL_BINS; m++) {
        const { start: k0, weights } = this.#filters[m];
        let e = 0;
        for (let k = 0; k < weights.length; k++) e += weights[k] * power[k0 + k];
        out[t * MEL_BINS + m] = Math.log(Math.max(LOG_FLOOR, e));
      }
    }
    return out;
  }
}

/**
 * numpy's float32 pairwise sum of `a[0..n)`: eight running sums in blocks of up to 128, halves
 * beyond; each bin of the features is contiguous in memory there, so numpy sums it this way.
 */
function pairwiseSum(a: Float32Array, from: number, n: number): number {
  const f = Math.fround;
  if (n < 8) {
    let r = 0;
    for (let i = 0; i < n; i++) r = f(r + a[from + i]);
    return r;
  }
  if (n <= 128) {
    const r = Array.from(a.subarray(from, from + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = f(r[j] + a[from + i + j]);
    }
    let res = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
    for (; i < n; i++) res = f(res + a[from + i]);
    return res;
  }
  const half = Math.floor(n / 2) - (Math.floor(n / 2) % 8);
  return f(pairwiseSum(a, from, half) + pairwiseSum(a, from + half, n - half));
}

/**
 * Each of the 80 bins to zero mean and unit variance (ddof 1) over the `n` frames, in place, in
 * float32 step by step as numpy does it, so the result is the same to the bit, not to rounding.
 */
function normalise(x: Float32Array, n: number): void {
  const f = Math.fround;
  const bin = new Float32Array(n);
  for (let m = 0; m < MEL_BINS; m++) {
    for (let t = 0; t < n; t++) bin[t] = x[t * MEL_BINS + m];
    const mean = f(pairwiseSum(bin, 0, n) / n);
    const sq = bin.map((v) => f(v - mean) ** 2);
    const std = f(Math.sqrt(f(f(pairwiseSum(sq, 0, n) / (n - 1)) + VAR_EPSILON)));
    for (let t = 0; t < n; t++) x[t * MEL_BINS + m] = f(bin[t] - mean) / std;
  }
}
