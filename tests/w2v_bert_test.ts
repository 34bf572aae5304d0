import assert from "node:assert/strict";
import { ConfigError, FormatError, SampleError } from "../errors.ts";
import w2vBert from "../extractors/w2v_bert.ts";
import { openCache } from "../ops/cache_reader.ts";
import { preprocess } from "../ops/preprocess.ts";
import { join } from "../util/path.ts";
import { referenceFeatures } from "./helpers/audio_reference.ts";
import { makeAwkwardFiles } from "./helpers/speech_corpus.ts";
import { findMlPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { Resampler } from "../audio/resample.ts";
import { decodeWav } from "../audio/wav.ts";
import { compareFloat16 } from "./helpers/float16_compare.ts";
import { seededRandom } from "./helpers/random.ts";
import {
  readWavPy,
  speak16k,
  tinyExport,
  w2vBertReference,
  writeF32,
} from "./helpers/w2v_bert_py.ts";

const python = await findMlPython();
const open = async (options: Record<string, unknown>) => await w2vBert(options);

/** Running agreement of float32 outputs with references, in float32 and after float16. */
class Agreement {
  worst = 0;
  scale = 0;
  values = 0;
  same = 0;
  ulp = 0;
  add(got: Float32Array, ref: Float32Array): void {
    const c = compareFloat16(got, ref);
    this.same += c.identical;
    this.ulp = Math.max(this.ulp, c.worstUlp);
    for (let j = 0; j < ref.length; j++) {
      this.worst = Math.max(this.worst, Math.abs(got[j] - ref[j]));
      this.scale = Math.max(this.scale, Math.abs(ref[j]));
    }
    this.values += ref.length;
  }
  pct(): number {
    return (this.same / this.values) * 100;
  }
  summary(float16: boolean): string {
    return float16
      ? `${this.pct().toFixed(2)}% identical, worst ${this.ulp} ULP`
      : `worst abs diff ${this.worst.toExponential(2)}`;
  }
}

Deno.test({
  name: "w2v-bert extractor",
  ignore: ignoreWithout(python, "the Python venv with torch and transformers"),
  // ONNX Runtime keeps its thread pool and native handles for the process.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const py = requireTool(python, "the Python venv with torch and transformers");
    const dir = await Deno.makeTempDir();
    try {
      const layer = 2;
      const { modelDir, exportDir } = await tinyExport(py, dir, layer);

      await t.step("equals transformers' hidden_states[N] within float32 rounding", async () => {
        const rand = seededRandom(3);
        const speech = await readWavPy(
          py,
          await speak16k(dir, "speech", "The quick brown fox jumps over the lazy dog."),
        );
        const cases: Record<string, Float32Array> = {
          speech,
          speech_odd_frames: speech.slice(0, speech.length - 160),
          noise: Float32Array.from({ length: 6000 }, () => (rand() - 0.5) * 0.5),
          shortest: Float32Array.from({ length: 560 }, () => rand() - 0.5),
        };
        const files = Object.keys(cases).map((name) => join(dir, `${name}.f32`));
        for (const [i, audio] of Object.values(cases).entries()) await writeF32(files[i], audio);
        const refs = await w2vBertReference(py, modelDir, files, layer);
        const extractor = await w2vBert({ model_name: exportDir, output_layer: layer });
        assert.deepEqual(extractor.outputs, ["hidden_states"]);
        let worst = 0;
        let scale = 0;
        let values = 0;
        let identical16 = 0;
        let worstUlp = 0;
        for (const [i, [key, audio]] of Object.entries(cases).entries()) {
          const { hidden_states } = await extractor.extract({ key, audio });
          const ref = refs[i].hidden!;
          assert.equal(hidden_states.dtype, "float32");
          assert.deepEqual(hidden_states.shape, [ref.length / 32, 32], key);
          const got = hidden_states.data as Float32Array;
          for (let j = 0; j < ref.length; j++) {
            worst = Math.max(worst, Math.abs(got[j] - ref[j]));
            scale = Math.max(scale, Math.abs(ref[j]));
          }
          const c = compareFloat16(got, ref);
          identical16 += c.identical;
          worstUlp = Math.max(worstUlp, c.worstUlp);
          values += ref.length;
        }
        await extractor.close?.();
        const pct = (identical16 / values) * 100;
        console.log(
          `w2v-bert vs transformers (${values} values): float32 worst abs diff ` +
            `${worst.toExponential(2)} (largest ${scale.toFixed(2)}); float16 ${
              pct.toFixed(2)
            }% identical, worst ${worstUlp} ULP (at magnitudes >= 1/16)`,
        );
        // float32 rounding grown over the computed layers, as the export script checks it.
        assert.ok(worst <= 1e-5 * Math.max(1, scale) * layer, `worst ${worst}`);
        assert.ok(pct >= 99.5, `${pct}% identical after float16`);
        assert.ok(worstUlp <= 2, `${worstUlp} ULP`);
      });

      await t.step(
        "preprocess stores hidden_states equal to the reference pipeline's (float32, float16)",
        async () => {
          // LJSpeech layout over the awkward set: rates, widths, channels, silence, 50 ms.
          const files = (await makeAwkwardFiles(join(dir, "awkward"))).filter((f) => f.valid);
          const root = join(dir, "LJSpeech");
          await Deno.mkdir(join(root, "wavs"), { recursive: true });
          const keys = files.map((_, i) => `LJ001-${String(i + 1).padStart(4, "0")}`);
          for (const [i, f] of files.entries()) {
            await Deno.copyFile(f.path, join(root, "wavs", `${keys[i]}.wav`));
          }
          // transformers on two waveforms: the reference pipeline's (soundfile + a port of
          // torchaudio's resample) and ours (decodeWav + Resampler), to tell the model path's
          // rounding from the resampler's.
          const waves = await referenceFeatures(py, files.map((f) => f.path));
          const ours = await Promise.all(files.map(async (f) => {
            const { audio, sampleRate } = decodeWav(await Deno.readFile(f.path), f.path);
            return sampleRate === 16000 ? audio : new Resampler(sampleRate, 16000).resample(audio);
          }));
          const raw = [
            ...keys.map((k) => join(dir, `${k}.ref.f32`)),
            ...keys.map((k) => join(dir, `${k}.ours.f32`)),
          ];
          for (const [i, w] of waves.entries()) await writeF32(raw[i], w.wave);
          for (const [i, w] of ours.entries()) await writeF32(raw[keys.length + i], w);
          const both = await w2vBertReference(py, modelDir, raw, layer);
          const waveDiff = Math.max(
            ...waves.map((w, i) => Math.max(...w.wave.map((v, j) => Math.abs(v - ours[i][j])))),
          );
          for (const float16 of [false, true]) {
            const out = join(dir, float16 ? "cache16" : "cache32");
            const report = await preprocess({
              dataRoot: root,
              processedDir: out,
              plugin: "ljspeech",
              semanticModel: exportDir,
              outputLayer: layer,
              preprocessing: { use_float16: float16, num_audio_workers: 2 },
            });
            assert.equal(report.failed, 0);
            const cache = await openCache(out);
            // Stored values against: transformers on the reference pipeline's audio, on ours,
            // and torch in float64 on ours (the truth float32 rounds away from); then torch's
            // own float32 result against that truth, the yardstick for "float32 rounding".
            const refsOf = [
              (i: number) => both[i].hidden!,
              (i: number) => both[keys.length + i].hidden!,
              (i: number) => both[keys.length + i].hidden64!,
            ];
            const [pipeline, model, truth, torch32] = [0, 1, 2, 3].map(() => new Agreement());
            for (const [i, key] of keys.entries()) {
              const { hidden_states: hs, mel_spectrogram: mel } = await cache.get(key);
              assert.equal(hs.dtype, float16 ? "float16" : "float32");
              assert.deepEqual(hs.shape, [both[i].hidden!.length / 32, 32], key);
              assert.equal(mel.shape[1], hs.shape[0], `${key}: mel and hidden frames align`);
              const got = Float32Array.from(hs.data as ArrayLike<number>);
              for (const [r, st] of [pipeline, model, truth].entries()) st.add(got, refsOf[r](i));
              torch32.add(refsOf[1](i), refsOf[2](i));
            }
            cache.close();
            const what = float16 ? "float16" : "float32";
            console.log(
              `preprocess ${what}, ${keys.length} files, ${model.values} values (waves differ from the ` +
                `reference by <= ${waveDiff.toExponential(1)}): vs transformers ` +
                `on the reference pipeline's audio ${pipeline.summary(float16)}; on our audio ` +
                `${model.summary(float16)}; vs float64 torch ${truth.summary(float16)} ` +
                `(torch float32 itself: ${torch32.summary(float16)})`,
            );
            if (float16) {
              for (const st of [pipeline, model, truth]) assert.ok(st.ulp <= 2, `${st.ulp} ULP`);
              // As often equal to the truth as torch's own float32 result is.
              assert.ok(truth.pct() >= torch32.pct(), `${truth.pct()}% vs ${torch32.pct()}%`);
              assert.ok(pipeline.pct() >= 95, `${pipeline.pct()}% identical`);
            } else {
              // At least as close to the truth as torch's own float32 result is.
              assert.ok(truth.worst <= torch32.worst, `${truth.worst} vs ${torch32.worst}`);
              for (const st of [pipeline, model]) {
                assert.ok(st.worst <= 1e-5 * Math.max(1, st.scale) * layer, `${st.worst}`);
              }
            }
          }
        },
      );

      await t.step("a layer other than the export's stops naming both", async () => {
        await assert.rejects(
          () => open({ model_name: exportDir, output_layer: 17 }),
          (e) =>
            e instanceof ConfigError && e.path === "semantic_model.output_layer" &&
            /got 17/.test(e.message) && /expected 2, the layer/.test(e.message),
        );
      });

      await t.step("a Hugging Face name says how to export it", async () => {
        await assert.rejects(
          () => open({ model_name: "facebook/w2v-bert-2.0", output_layer: 17 }),
          (e) =>
            e instanceof ConfigError && e.path === "semantic_model.model_name" &&
            /export_w2v_bert\.py facebook\/w2v-bert-2\.0 DIR --layer 17/.test(e.message),
        );
      });

      await t.step("a directory without model.onnx or its JSON is named", async () => {
        const empty = join(dir, "empty");
        await Deno.mkdir(empty);
        await assert.rejects(
          () => open({ model_name: empty }),
          (e) => e instanceof FormatError && e.file === join(empty, "w2v_bert_export.json"),
        );
        const noModel = join(dir, "no_model");
        await Deno.mkdir(noModel);
        for (const f of ["w2v_bert_export.json", "preprocessor_config.json"]) {
          await Deno.copyFile(join(exportDir, f), join(noModel, f));
        }
        await assert.rejects(
          () => open({ model_name: noModel }),
          (e) => e instanceof FormatError && e.file === join(noModel, "model.onnx"),
        );
      });

      await t.step("a corrupt model.onnx is a FormatError naming it", async () => {
        const corrupt = join(dir, "corrupt");
        await Deno.mkdir(corrupt);
        for (const f of ["w2v_bert_export.json", "preprocessor_config.json", "model.onnx"]) {
          await Deno.copyFile(join(exportDir, f), join(corrupt, f));
        }
        const bytes = await Deno.readFile(join(corrupt, "model.onnx"));
        await Deno.writeFile(join(corrupt, "model.onnx"), bytes.subarray(0, bytes.length >> 1));
        await assert.rejects(
          () => open({ model_name: corrupt, output_layer: layer }),
          (e) =>
            e instanceof FormatError && e.file === join(corrupt, "model.onnx") &&
            /ONNX Runtime cannot load it/.test(e.message),
        );
      });

      await t.step("audio shorter than two frames is a SampleError for that key", async () => {
        const extractor = await w2vBert({ model_name: exportDir });
        await assert.rejects(
          async () => await extractor.extract({ key: "clip", audio: new Float32Array(300) }),
          (e) => e instanceof SampleError && e.key === "clip" && /300 samples/.test(e.message),
        );
        await extractor.close?.();
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
