/**
 * Audio input a header can lie about: rates outside 1 kHz..384 kHz, durations past
 * max_audio_seconds, NaN and inf samples, entries named *.wav that are no regular file, streaming
 * data sizes, u-law and A-law, and resampling at awkward rates. Compared with soundfile and a
 * torch port of torchaudio's resample where a reference exists.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { FormatError } from "../errors.ts";
import { decodeNpy } from "../formats/npy.ts";
import { MAX_KERNEL_TAPS, Resampler, resamplerFor } from "../audio/resample.ts";
import { decodeWav, encodeWav } from "../audio/wav.ts";
import { findMlPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { CLI } from "./helpers/run_cli.ts";
import { AudioSource } from "../stages/audio_source.ts";
import { REFERENCE_SCRIPT } from "./helpers/audio_reference.ts";

const python = await findMlPython();
const ignore = ignoreWithout(python, "the Python venv with soundfile and torch");

/** A WAV: `tag` (1 PCM, 3 float, 6 A-law, 7 u-law), one channel, `data` as the samples' bytes. */
function wav(
  tag: number,
  bits: number,
  rate: number,
  data: Uint8Array,
  sizes: { riff?: number; data?: number } = {},
): Uint8Array {
  const out = new Uint8Array(44 + data.length);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => out[at + i] = c.charCodeAt(0));
  text(0, "RIFF");
  v.setUint32(4, sizes.riff ?? out.length - 8, true);
  text(8, "WAVE");
  text(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, tag, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * bits / 8, true);
  v.setUint16(32, bits / 8, true);
  v.setUint16(34, bits, true);
  text(36, "data");
  v.setUint32(40, sizes.data ?? data.length, true);
  out.set(data, 44);
  return out;
}

const tone = (n: number, rate: number) =>
  Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));

const formatError = (fn: () => unknown): FormatError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error("no FormatError");
};

Deno.test("decodeWav refuses a header rate outside 1000..384000 Hz by name, and keeps the edges", () => {
  const pcm = new Uint8Array(new Int16Array([1, 2, 3, 4]).buffer);
  for (const rate of [1, 999, 384001, 0xffffffff]) {
    const e = formatError(() => decodeWav(wav(1, 16, rate, pcm), "odd.wav"));
    assert(e.message.includes("odd.wav") && e.message.includes(`${rate} Hz`), e.message);
  }
  for (const rate of [1000, 384000]) {
    assertEquals(decodeWav(wav(1, 16, rate, pcm), "ok.wav").sampleRate, rate);
  }
});

Deno.test("decodeWav refuses more audio than maxSeconds from the header, before decoding", () => {
  const bytes = encodeWav(tone(16000 * 3, 16000), 16000);
  const e = formatError(() => decodeWav(bytes, "long.wav", { maxSeconds: 2 }));
  assert(
    /long\.wav.*48000 frames at 16000 Hz \(3\.0 s\).*max_audio_seconds \(2 s\)/.test(e.message),
    e.message,
  );
  assertEquals(decodeWav(bytes, "long.wav", { maxSeconds: 3 }).audio.length, 48000);
  // A header claiming hours in a 44-byte file is refused as too long, before anything is read.
  const claim = wav(1, 16, 1000, new Uint8Array(0), { data: 0xfffffff0 });
  const e2 = formatError(() => decodeWav(claim, "claim.wav", { maxSeconds: 3600 }));
  assert(/claim\.wav.*max_audio_seconds \(3600 s\)/.test(e2.message), e2.message);
});

Deno.test("Resampler keeps at most MAX_KERNEL_TAPS taps and gives the same result computing them per sample", () => {
  const x = tone(20011, 22050);
  for (
    const [a, b] of [[22050, 16000], [44100, 16000], [16000, 24000], [16001, 16000], [16000, 44101]]
  ) {
    const tabled = new Resampler(a, b);
    const onTheFly = new Resampler(a, b, 0);
    assert(tabled.tabled && !onTheFly.tabled, `${a}->${b}`);
    assertEquals(onTheFly.resample(x), tabled.resample(x), `${a}->${b}`);
  }
  // 1000 -> 384001 Hz (coprime): a table would be 384001 phases x ~14 taps, over the budget.
  assert(!new Resampler(1000, 384001).tabled);
  assert(384001 * 14 > MAX_KERNEL_TAPS);
});

Deno.test("resamplerFor shares a resampler per pair and keeps the last 8", () => {
  const first = resamplerFor(22050, 16000);
  assert(resamplerFor(22050, 16000) === first);
  for (let r = 8001; r <= 8008; r++) resamplerFor(r, 16000);
  assert(resamplerFor(22050, 16000) !== first, "the least recently used pair was dropped");
});

Deno.test({
  name: "Resampler 16001 -> 16000 Hz equals the torch port of torchaudio's resample within 5e-7",
  ignore,
  async fn() {
    const py = requireTool(python, "venv python");
    const dir = await Deno.makeTempDir();
    const x = tone(16001, 16001);
    const path = `${dir}/x.wav`;
    await Deno.writeFile(path, encodeWav(x, 16001));
    const decoded = decodeWav(await Deno.readFile(path), path);
    await runPython(
      py,
      `import sys, numpy as np, torch; sys.path.insert(0, ${
        JSON.stringify(REFERENCE_SCRIPT.replace(/\/[^/]+$/, ""))
      })
from audio_reference import load, resample
wave, rate = load(sys.argv[1])
np.save(sys.argv[2], resample(wave, rate, 16000)[0].numpy())`,
      [path, `${dir}/ref.npy`],
    );
    const ref = decodeNpy(await Deno.readFile(`${dir}/ref.npy`), "ref").data as Float32Array;
    const ours = new Resampler(16001, 16000).resample(decoded.audio);
    assertEquals(ours.length, ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
    assert(worst <= 5e-7, `max |ours - torch| = ${worst}`);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("a 32 KB WAV at 16001 Hz resamples to 16 kHz in bounded memory", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/odd_rate.wav`;
  await Deno.writeFile(path, encodeWav(tone(16000, 16001), 16001));
  const script = `${dir}/measure.ts`;
  await Deno.writeTextFile(
    script,
    `import { decodeWav } from ${JSON.stringify(new URL("../audio/wav.ts", import.meta.url).href)};
import { Resampler } from ${JSON.stringify(new URL("../audio/resample.ts", import.meta.url).href)};
const before = Deno.memoryUsage().rss;
const t = performance.now();
const d = decodeWav(Deno.readFileSync(${JSON.stringify(path)}), "x.wav");
const out = new Resampler(d.sampleRate, 16000).resample(d.audio);
console.log(JSON.stringify({ n: out.length, ms: performance.now() - t, grew: Deno.memoryUsage().rss - before }));`,
  );
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--max-old-space-size=256", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(run.stdout);
  assert(run.success, new TextDecoder().decode(run.stderr));
  const { n, grew } = JSON.parse(text);
  assertEquals(n, 15999);
  // main kept a 16000 x 16015 float64 kernel here: 2 GB.
  assert(grew < 64 * 2 ** 20, `rss grew ${grew} bytes`);
  console.log(`16001 Hz, 32 KB: ${text.trim()}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "u-law and A-law WAV decode as soundfile decodes them (every code, and files soundfile wrote)",
  ignore,
  async fn() {
    const py = requireTool(python, "venv python");
    const dir = await Deno.makeTempDir();
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await Deno.writeFile(`${dir}/ulaw_codes.wav`, wav(7, 8, 8000, codes));
    await Deno.writeFile(`${dir}/alaw_codes.wav`, wav(6, 8, 8000, codes));
    const out = await runPython(
      py,
      `import sys, json, numpy as np, soundfile as sf
d = sys.argv[1]
t = np.sin(np.arange(4000) / 7.0).astype(np.float32) * 0.9
sf.write(d + "/ulaw_sf.wav", t, 8000, subtype="ULAW")
sf.write(d + "/alaw_sf.wav", t, 8000, subtype="ALAW")
res = {}
for n in ["ulaw_codes", "alaw_codes", "ulaw_sf", "alaw_sf"]:
    x, r = sf.read(d + "/" + n + ".wav", dtype="float32")
    res[n] = [float(v) for v in x]
print(json.dumps(res))`,
      [dir],
    );
    const ref = JSON.parse(out) as Record<string, number[]>;
    for (const [name, values] of Object.entries(ref)) {
      const ours = decodeWav(await Deno.readFile(`${dir}/${name}.wav`), name);
      assertEquals([...ours.audio], values, name);
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "a data (or RIFF) size of 0xFFFFFFFF is read to the end of the file, as soundfile reads it",
  ignore,
  async fn() {
    const py = requireTool(python, "venv python");
    const dir = await Deno.makeTempDir();
    const pcm = new Uint8Array(new Int16Array(tone(1001, 16000).map((v) => v * 32767)).buffer);
    const cases = {
      data_ff: wav(1, 16, 16000, pcm, { data: 0xffffffff }),
      both_ff: wav(1, 16, 16000, pcm, { data: 0xffffffff, riff: 0xffffffff }),
      riff_ff: wav(1, 16, 16000, pcm, { riff: 0xffffffff }),
      odd_tail: wav(1, 16, 16000, Uint8Array.of(...pcm, 7), { data: 0xffffffff }),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      await Deno.writeFile(`${dir}/${name}.wav`, bytes);
    }
    const ref = JSON.parse(
      await runPython(
        py,
        `import sys, json, soundfile as sf
print(json.dumps({n: [float(v) for v in sf.read(sys.argv[1] + "/" + n + ".wav", dtype="float32")[0]] for n in sys.argv[2:]}))`,
        [dir, ...Object.keys(cases)],
      ),
    ) as Record<string, number[]>;
    for (const name of Object.keys(cases)) {
      const ours = decodeWav(await Deno.readFile(`${dir}/${name}.wav`), name);
      assertEquals(ours.audio.length, 1001, name);
      assertEquals([...ours.audio], ref[name], name);
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("preprocess fails lying headers, NaN audio and non-regular *.wav entries by name, and stores the rest", async () => {
  const root = await Deno.makeTempDir({ prefix: "hostile_audio_" });
  const wavs = `${root}/LJSpeech-1.1/wavs`;
  await Deno.mkdir(wavs, { recursive: true });
  const path = (n: number) => `${wavs}/LJ001-000${n}.wav`;
  await Deno.writeFile(path(1), encodeWav(tone(8000, 16000), 16000));
  const pcm = new Uint8Array(new Int16Array(800).fill(1000).buffer);
  await Deno.writeFile(path(2), wav(1, 16, 1, pcm)); // "1 Hz": 44 KB of it would be 12 hours
  await Deno.writeFile(path(3), wav(1, 16, 500000, pcm));
  await Deno.writeFile(path(4), encodeWav(tone(16000 * 3, 16000), 16000)); // 3 s > 2 s
  const floats = tone(8000, 16000);
  for (let i = 0; i < 10; i++) floats[100 * i] = i % 2 ? Infinity : NaN;
  await Deno.writeFile(path(5), wav(3, 32, 16000, new Uint8Array(floats.buffer)));
  await Deno.mkdir(path(6));
  const fifo = await new Deno.Command("mkfifo", { args: [path(7)] }).output();
  assert(fifo.success, "mkfifo");
  await Deno.symlink("/dev/null", path(8));
  const cache = `${root}/cache`;
  const run = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "preprocess",
      `${root}/LJSpeech-1.1`,
      cache,
      "--dataset",
      "ljspeech",
      "--semantic-model",
      "none",
      "--max-retries",
      "0",
      "--max-audio-seconds",
      "2",
      "--num-audio-workers",
      "1",
    ],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000), // a FIFO opened for reading would block forever
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assertEquals(run.code, 1, stderr);
  const log = JSON.parse(await Deno.readTextFile(`${cache}/error_log.json`));
  const byFile = new Map<string, string>(
    log.errors.map((
      e: { file_path: string; error_message: string },
    ) => [e.file_path, e.error_message]),
  );
  const expected: [number, RegExp][] = [
    [2, /1 Hz; a sample rate must be 1000\.\.384000 Hz/],
    [3, /500000 Hz; a sample rate must be/],
    [4, /more than preprocessing\.max_audio_seconds \(2 s\)/],
    [5, /10 NaN or inf sample\(s\) \(first at sample 0\)/],
    [6, /not a regular file \(a directory/],
    [7, /not a regular file \(a FIFO/],
    [8, /not a regular file \(a character device, through a symlink/],
  ];
  for (const [n, pattern] of expected) {
    const message = byFile.get(path(n));
    assert(message !== undefined && pattern.test(message), `LJ001-000${n}: ${message}`);
    assert(message.includes(path(n)), `names the file: ${message}`);
  }
  assertEquals(log.total_errors, expected.length);
  const index = JSON.parse(await Deno.readTextFile(`${cache}/hdf5_index.json`));
  assertEquals(Object.keys(index.sample_index), ["LJ001-0001"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("AudioSource fails a FIFO or device it is handed directly, unopened and at once", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = `${dir}/pipe.wav`;
  assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success, "mkfifo");
  const source = new AudioSource([
    { key: "pipe", path: fifo },
    { key: "null", path: "/dev/null" },
  ], { maxRetries: 3, retryDelay: 10 });
  const got: [string, string, number | undefined][] = [];
  for await (const r of source) {
    assert("error" in r);
    got.push([r.key, r.error.message, r.retries]);
  }
  assertEquals(got.map(([k, , n]) => [k, n]), [["pipe", 0], ["null", 0]]);
  assert(/pipe\.wav.*not a regular file \(a FIFO\); never opened/.test(got[0][1]), got[0][1]);
  assert(/\/dev\/null.*a character device/.test(got[1][1]), got[1][1]);
  await Deno.remove(dir, { recursive: true });
});
