import assert from "node:assert/strict";
import { SeamlessFbank } from "../audio/seamless_fbank.ts";
import { join } from "../util/path.ts";
import { findMlPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { seededRandom } from "./helpers/random.ts";
import { readWavPy, speak16k, w2vBertReference, writeF32 } from "./helpers/w2v_bert_py.ts";

const python = await findMlPython();
const EPS32 = 2 ** -23;

Deno.test({
  name: "SeamlessFbank equals transformers' SeamlessM4TFeatureExtractor within float32 rounding",
  ignore: ignoreWithout(python, "the Python venv with transformers"),
  async fn() {
    const py = requireTool(python, "the Python venv with transformers");
    const dir = await Deno.makeTempDir();
    try {
      // w2v-bert-2.0's preprocessor_config.json: padding_value 1, stride 2.
      await Deno.writeTextFile(
        join(dir, "preprocessor_config.json"),
        JSON.stringify({
          feature_extractor_type: "SeamlessM4TFeatureExtractor",
          feature_size: 80,
          num_mel_bins: 80,
          padding_value: 1,
          sampling_rate: 16000,
          stride: 2,
          return_attention_mask: true,
        }),
      );
      const speech = await readWavPy(
        py,
        await speak16k(dir, "speech", "Printing, in the only sense with which we are concerned."),
      );
      const rand = seededRandom(7);
      const cases: Record<string, Float32Array> = {
        speech,
        // One sample less: the other frame-count parity.
        speech_odd: speech.slice(0, speech.length - 160),
        noise: Float32Array.from({ length: 8000 }, () => (rand() - 0.5) * 0.6),
        near_silence: Float32Array.from({ length: 4000 }, () => (rand() - 0.5) * 1e-4),
        silence: new Float32Array(3200),
        // Two frames of noise: the shortest input; a periodic one would make the two frames
        // equal to float32 rounding, where per-bin normalisation amplifies rounding alone.
        shortest: Float32Array.from({ length: SeamlessFbank.MIN_SAMPLES }, () => rand() - 0.5),
      };
      const files = Object.keys(cases).map((name) => join(dir, `${name}.f32`));
      for (const [i, audio] of Object.values(cases).entries()) await writeF32(files[i], audio);
      const refs = await w2vBertReference(py, dir, files);
      const fbank = new SeamlessFbank({ paddingValue: 1 });
      const raw = new SeamlessFbank({ paddingValue: 1, normalizePerMelBins: false });
      let worstLogMel = 0;
      let worstFeature = 0;
      let values = 0;
      let identical = 0;
      for (const [i, [name, audio]] of Object.entries(cases).entries()) {
        const ref = refs[i];
        const got = fbank.compute(audio);
        const gotRaw = raw.compute(audio).features;
        assert.equal(got.features.length, ref.features.length, name);
        assert.deepEqual([...got.attentionMask], [...ref.mask], name);
        const frames = (audio.length - 400) / 160 + 1 | 0;
        for (let m = 0; m < 80; m++) {
          // The log-mel values: float32 rounding of a float64 computation.
          const bin: number[] = [];
          for (let t = 0; t < frames; t++) {
            const j = t * 80 + m; // stacked pairs keep the frame-major order
            const diff = Math.abs(gotRaw[j] - ref.logMel[j]);
            worstLogMel = Math.max(worstLogMel, diff / Math.max(1, Math.abs(ref.logMel[j])));
            assert.ok(diff <= 4 * EPS32 * Math.max(1, Math.abs(ref.logMel[j])), `${name} ${j}`);
            bin.push(ref.logMel[j]);
          }
          // Normalised: that rounding divided by the bin's standard deviation.
          const mean = bin.reduce((a, b) => a + b, 0) / frames;
          const std = Math.sqrt(bin.reduce((a, b) => a + (b - mean) ** 2, 0) / (frames - 1) + 1e-7);
          const big = Math.max(1, ...bin.map(Math.abs));
          for (let t = 0; t < frames; t++) {
            const j = t * 80 + m;
            const diff = Math.abs(got.features[j] - ref.features[j]);
            const tol = (8 * EPS32 * big) / std +
              4 * EPS32 * Math.max(1, Math.abs(ref.features[j]));
            worstFeature = Math.max(worstFeature, diff / tol);
            values++;
            if (diff === 0) identical++;
            assert.ok(diff <= tol, `${name}[${j}]: ${got.features[j]} vs ${ref.features[j]}`);
          }
        }
        // The padding frame, if any.
        for (let j = frames * 80; j < ref.features.length; j++) {
          assert.equal(got.features[j], ref.features[j], `${name} padding`);
        }
      }
      const pct = (identical / values) * 100;
      const lm = worstLogMel.toExponential(2);
      const bound = (worstFeature * 100).toFixed(0);
      console.log(
        `SeamlessFbank vs transformers: log-mel worst relative diff ${lm}; features ` +
          `${pct.toFixed(3)}% bit-identical, worst at ${bound}% of the rounding bound`,
      );
      // The normalisation repeats numpy's float32 pairwise sums: bit-identical but for libm.
      assert.ok(pct >= 99.9, `${pct}% bit-identical`);
      assert.equal(refs[1].mask.at(-1), 0n, "speech_odd exercises the padded frame");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("SeamlessFbank refuses audio shorter than two frames, naming the length", () => {
  assert.throws(
    () => new SeamlessFbank().compute(new Float32Array(559)),
    /at least 560 samples .* got 559/,
  );
  assert.throws(() => new SeamlessFbank({ stride: 3 }), /stride must be 2, got 3/);
});
