/**
 * A built-in example: a legacy LJSpeech-like NPZ cache of synthetic but realistic features, as
 * the old pipeline left them (`<dir>/LJ001-0001.npz` with `hidden_states` (T, 1024) and
 * `mel_spectrogram` (1, T, 80), float32; half `savez`, half `savez_compressed`).
 *
 * Hidden states are Gaussian per dimension with their own scale and offset and correlated over
 * time, as w2v-BERT layers are; mels are smooth log energies in about -11..2. So float16 and
 * gzip treat them about as they treat real features.
 *
 * @module
 */
import { encodeNpz } from "../formats/npz.ts";
import { join } from "../util/path.ts";

/** Options of {@linkcode writeExampleCache}. */
export interface ExampleCacheOptions {
  /** Number of utterances (default 64). */
  samples?: number;
  /** Shortest and longest utterance in frames (default 100..500). */
  minFrames?: number;
  maxFrames?: number;
  /** Feature width of hidden_states (default 1024). */
  dims?: number;
  /** Seed of the generator: the same seed gives the same bytes. */
  seed?: number;
  /** Called after each file. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode writeExampleCache} wrote. */
export interface ExampleCacheReport {
  files: number;
  /** Bytes of the `.npz` files. */
  npzBytes: number;
  /** Bytes of the float32 arrays inside them. */
  float32Bytes: number;
  /** Frames over all utterances. */
  frames: number;
}

/** A small, fast, seeded generator (xorshift32) with Gaussian draws. */
class Rng {
  #s: number;
  #spare: number | undefined;
  constructor(seed: number) {
    this.#s = (seed >>> 0) || 0x9e3779b9;
  }
  uniform(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return (this.#s + 0.5) / 4294967296;
  }
  gauss(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.#spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
}

function hiddenStates(rng: Rng, frames: number, dims: number, scale: Float32Array): Float32Array {
  const out = new Float32Array(frames * dims);
  const rho = 0.85;
  const fresh = Math.sqrt(1 - rho * rho);
  const state = new Float32Array(dims);
  for (let d = 0; d < dims; d++) state[d] = rng.gauss();
  for (let t = 0; t < frames; t++) {
    const row = t * dims;
    for (let d = 0; d < dims; d++) {
      state[d] = rho * state[d] + fresh * rng.gauss();
      out[row + d] = state[d] * scale[d] + scale[d + dims];
    }
  }
  return out;
}

function melSpectrogram(rng: Rng, frames: number): Float32Array {
  const mels = 80;
  const out = new Float32Array(frames * mels);
  const phase = rng.uniform() * 6.28;
  for (let t = 0; t < frames; t++) {
    const loud = Math.sin(t / 9 + phase) * 1.5 + Math.sin(t / 31) * 1.0;
    for (let m = 0; m < mels; m++) {
      const envelope = -2.5 - 6 * (m / mels) + Math.cos(m / 7 + t / 40) * 1.2;
      const v = envelope + loud + rng.gauss() * 0.35;
      out[t * mels + m] = Math.max(-11.5, Math.min(2, v));
    }
  }
  return out;
}

/** The key of utterance `i` (0-based) in LJSpeech's naming: `LJ001-0001`, ... */
export function exampleKey(i: number): string {
  return `LJ${String(1 + Math.floor(i / 200)).padStart(3, "0")}-${
    String(1 + (i % 200)).padStart(4, "0")
  }`;
}

/** Writes the example cache into `dir` (created if missing). */
export async function writeExampleCache(
  dir: string,
  options: ExampleCacheOptions = {},
): Promise<ExampleCacheReport> {
  const count = options.samples ?? 64;
  const minFrames = options.minFrames ?? 100;
  const maxFrames = options.maxFrames ?? 500;
  const dims = options.dims ?? 1024;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`samples must be an integer >= 1, got ${count}`);
  }
  if (!(minFrames >= 1 && maxFrames >= minFrames)) {
    throw new RangeError(`frames must satisfy 1 <= min <= max, got ${minFrames}..${maxFrames}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const rng = new Rng(options.seed ?? 20261125);
  // Per-dimension scale and offset, shared by all utterances as in a real model layer.
  const scale = new Float32Array(2 * dims);
  for (let d = 0; d < dims; d++) {
    scale[d] = 0.3 + 1.7 * rng.uniform() ** 2 * (d % 97 === 0 ? 8 : 1);
    scale[d + dims] = rng.gauss() * 0.2;
  }
  const report: ExampleCacheReport = { files: 0, npzBytes: 0, float32Bytes: 0, frames: 0 };
  for (let i = 0; i < count; i++) {
    const frames = minFrames + Math.floor(rng.uniform() * (maxFrames - minFrames + 1));
    const hs = hiddenStates(rng, frames, dims, scale);
    const mel = melSpectrogram(rng, frames);
    const bytes = encodeNpz({
      hidden_states: { dtype: "float32", shape: [frames, dims], data: hs },
      mel_spectrogram: { dtype: "float32", shape: [1, frames, 80], data: mel },
    }, { compress: i % 2 === 1 });
    await Deno.writeFile(join(dir, `${exampleKey(i)}.npz`), bytes);
    report.files++;
    report.npzBytes += bytes.byteLength;
    report.float32Bytes += hs.byteLength + mel.byteLength;
    report.frames += frames;
    options.onProgress?.(i + 1, count);
  }
  return report;
}
