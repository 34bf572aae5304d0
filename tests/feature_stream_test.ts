import assert from "node:assert/strict";
import { encodeWav } from "../audio/wav.ts";
import { MelSpectrogram } from "../audio/mel.ts";
import { Resampler } from "../audio/resample.ts";
import { MEL_DEFAULTS } from "../extractors/mel.ts";
import { type AudioClip, AudioSource } from "../stages/audio_source.ts";
import { FeatureStream } from "../stages/feature_stream.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { seededRandom } from "./helpers/random.ts";

function clip(key: string, n: number, rate = 22050): AudioClip {
  const random = seededRandom(n);
  const audio = Float32Array.from({ length: n }, () => random() - 0.5);
  return { key, origin: `${key}.wav`, sampleRate: rate, audio };
}

Deno.test("FeatureStream on 2 workers keeps order, equals the same work on this thread, and turns a bad clip into a failure", async () => {
  const lengths = [30000, 2000, 45000, 100, 8000, 22050, 5000];
  const clips = lengths.map((n, i) => clip(`k${i}`, n));
  const expected = clips.map((c) => {
    const wave = new Resampler(c.sampleRate, 16000).resample(c.audio);
    return wave.length > 352 ? new MelSpectrogram(MEL_DEFAULTS).compute(wave) : undefined;
  });
  const out: (Sample | SampleFailure)[] = [];
  const input: (AudioClip | SampleFailure)[] = clips.map((c) => ({ ...c, audio: c.audio.slice() }));
  const failure: SampleFailure = {
    key: "gone",
    origin: "gone.wav",
    error: new Error("unreadable"),
  };
  input.splice(2, 0, failure);
  const stream = ReadableStream.from<AudioClip | SampleFailure>(input)
    .pipeThrough(new FeatureStream({ extractors: [{ name: "mel" }], workers: 2 }));
  for await (const r of stream) out.push(r);
  assert.deepEqual(out.map((r) => r.key), ["k0", "k1", "gone", "k2", "k3", "k4", "k5", "k6"]);
  assert.equal(out[2], failure);
  for (const [i, r] of out.filter((r) => r.key !== "gone").entries()) {
    if (!expected[i]) {
      assert.ok("error" in r, `${r.key} should fail`);
      assert.match(r.error.message, /k3.*too few for a mel frame/);
      assert.equal(r.origin, "k3.wav");
      continue;
    }
    assert.ok(!("error" in r), r.key);
    assert.deepEqual(r.tensors.mel_spectrogram, expected[i], r.key);
  }
});

Deno.test("FeatureStream holds back its source: no more than maxInFlight clips taken ahead", async () => {
  let pulled = 0;
  const source = new ReadableStream<AudioClip>({
    pull(controller) {
      if (pulled === 20) return controller.close();
      controller.enqueue(clip(`k${pulled++}`, 16000, 16000));
    },
  }, { highWaterMark: 0 });
  const reader = source
    .pipeThrough(new FeatureStream({ extractors: [{ name: "mel" }], workers: 0, maxInFlight: 3 }))
    .getReader();
  const first = await reader.read();
  assert.equal(first.value?.key, "k0");
  await new Promise((resolve) => setTimeout(resolve, 100));
  // In flight, plus what the two TransformStream queues hold (one each).
  assert.ok(pulled <= 3 + 2, `pulled ${pulled} clips for one read`);
  await reader.cancel();
});

Deno.test("AudioSource retries a file that is not there yet, reads ahead a bounded number, keeps order", async () => {
  const dir = await Deno.makeTempDir();
  const tone = Float32Array.from({ length: 800 }, (_, i) => Math.sin(i / 3) / 2);
  for (const name of ["a", "c", "d"]) {
    await Deno.writeFile(`${dir}/${name}.wav`, encodeWav(tone, 8000));
  }
  let requested = 0;
  function* refs() {
    for (const key of ["a", "b", "c", "d"]) {
      requested++;
      yield { key, path: `${dir}/${key}.wav` };
    }
  }
  const reader = new AudioSource(refs(), { prefetchSize: 2, maxRetries: 5, retryDelay: 0.1 })
    .getReader();
  const a = await reader.read();
  assert.equal(a.value?.key, "a");
  assert.ok(requested <= 3, `requested ${requested} with prefetchSize 2`);
  // "b" appears while the source is retrying it.
  setTimeout(() => Deno.writeFileSync(`${dir}/b.wav`, encodeWav(tone, 16000)), 150);
  const rest: string[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    assert.ok(!("error" in r.value), JSON.stringify(r.value));
    rest.push(`${r.value.key}@${r.value.sampleRate}`);
  }
  assert.deepEqual(rest, ["b@16000", "c@8000", "d@8000"]);
  await Deno.remove(dir, { recursive: true });
});
