/**
 * The CPU stages around the semantic model, one thread: SeamlessM4T fbank (w2v-BERT's front
 * end), the mel spectrogram, and float16 + deflate (level 4, 16 KB chunks, the codec h5shard
 * picks) of one clip's hidden_states (T x 1024) and mel. Prints audio seconds per second of each
 * and of the three together, per core: with a GPU running the model, these decide how many cores
 * keep it fed (the target: 1,000 audio s per s on 16 cores).
 *
 * Standalone: `deno run -A bench/cpu_stages.ts [--seconds 60]` (audio per stage, default 60).
 */
import { parseArgs } from "../deps.ts";
import { MEL_DEFAULTS } from "../extractors/mel.ts";
import { MelSpectrogram } from "../audio/mel.ts";
import { SeamlessFbank } from "../audio/seamless_fbank.ts";
import { toFloat16 } from "../formats/float16.ts";
import { codecName, createDeflater } from "../formats/zlib_codec.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string", default: "60" } },
});
const total = Number(values.seconds);
const SR = 16000;
const CLIP = 6.6; // LJSpeech's mean duration, in seconds

/** Speech-like audio: harmonics on a moving pitch under syllable envelopes, noise between. */
function speechLike(seconds: number, seed: number): Float32Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const n = Math.round(seconds * SR);
  const out = new Float32Array(n);
  const f0 = 90 + 130 * rand();
  const rate = 3 + 2 * rand();
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SR;
    phase += 2 * Math.PI * f0 * (1 + 0.15 * Math.sin(2 * Math.PI * 0.5 * t)) / SR;
    const env = Math.max(0, Math.sin(2 * Math.PI * rate * t)) ** 2;
    let v = 0;
    for (let k = 1; k < 12; k++) v += Math.sin(k * phase) / k;
    out[i] = 0.25 * v * env + (env < 0.05 ? 0.05 * (rand() - 0.5) : 0);
  }
  return out;
}

/** Hidden states of `frames` x 1024: unit-scale normal values, as w2v-BERT's layer 17 has. */
function hiddenStates(frames: number, seed: number): Float32Array {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 1) / (2 ** 32 + 1);
  const out = new Float32Array(frames * 1024);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  }
  return out;
}

const clips = Array.from({ length: Math.ceil(total / CLIP) }, (_, i) => speechLike(CLIP, i + 1));
const audioSeconds = clips.reduce((a, c) => a + c.length / SR, 0);
const fbank = new SeamlessFbank();
const mel = new MelSpectrogram(MEL_DEFAULTS);
const deflater = createDeflater(4);

function timed(fn: () => void): number {
  fn(); // warm-up on the first clip's shapes
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

const mels = clips.map((c) => mel.compute(c).data as Float32Array);
const hidden = clips.map((c, i) => hiddenStates(fbank.compute(c).frames, i + 7));
const CHUNK = 16384 / 2; // float16 values per 16 KB chunk

function f16Deflate(data: Float32Array): void {
  const half = toFloat16(data).data;
  const bytes = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
  for (let at = 0; at < bytes.length; at += CHUNK * 2) {
    deflater.deflate(bytes.subarray(at, at + CHUNK * 2));
  }
}

const seconds = {
  fbank: timed(() => clips.forEach((c) => fbank.compute(c))),
  mel: timed(() => clips.forEach((c) => mel.compute(c))),
  "float16+deflate": timed(() => {
    hidden.forEach(f16Deflate);
    mels.forEach(f16Deflate);
  }),
};
const together = Object.values(seconds).reduce((a, b) => a + b, 0);
console.log(
  `CPU stages, one thread, ${audioSeconds.toFixed(0)} s of audio (${clips.length} clips of ` +
    `${CLIP} s), codec ${codecName()}; audio seconds per second:`,
);
for (const [stage, s] of Object.entries(seconds)) {
  console.log(`  ${stage.padEnd(16)} ${(audioSeconds / s).toFixed(0)}`);
}
console.log(`  ${"together".padEnd(16)} ${(audioSeconds / together).toFixed(0)} per core`);
