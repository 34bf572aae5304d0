import assert from "node:assert/strict";
import { MelSpectrogram } from "../audio/mel.ts";
import { Resampler } from "../audio/resample.ts";
import { decodeWav } from "../audio/wav.ts";
import { compareFloats } from "./helpers/float_compare.ts";
import { MEL, referenceFeatures } from "./helpers/audio_reference.ts";
import { findMlPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { haveSpeechTools, makeAwkwardFiles, speakSentence } from "./helpers/speech_corpus.ts";

const python = await findMlPython();
const speech = await haveSpeechTools();
const ignore = ignoreWithout(python, "the reference venv (torch, librosa, soundfile)") ||
  ignoreWithout(speech ? "espeak-ng" : undefined, "espeak-ng and sox");

Deno.test({
  name: "WAV decode, 16 kHz resample and mel equal soundfile + torchaudio's kernel + Amphion's mel",
  ignore,
  async fn() {
    const py = requireTool(python, "the reference venv");
    const dir = await Deno.makeTempDir();
    const files = (await makeAwkwardFiles(dir)).filter((f) => f.valid);
    const refs = await referenceFeatures(py, files.map((f) => f.path));
    const mel = new MelSpectrogram(MEL);
    const resamplers = new Map<number, Resampler>();
    let worstUlp = 0, identical = 0, total = 0;
    for (const [i, file] of files.entries()) {
      const decoded = decodeWav(await Deno.readFile(file.path), file.path);
      let r = resamplers.get(decoded.sampleRate);
      if (!r) resamplers.set(decoded.sampleRate, r = new Resampler(decoded.sampleRate, 16000));
      const wave = r.resample(decoded.audio);
      const ref = refs[i];
      const w = compareFloats(wave, ref.wave);
      assert.ok(w.maxAbs <= 5e-7, `${file.name}: waveform differs by ${w.maxAbs}`);
      const spec = mel.compute(wave, file.name);
      assert.deepEqual(spec.shape, ref.shape, file.name);
      const m = compareFloats(spec.data as Float32Array, ref.mel);
      // torch's float32 STFT is off by ~1e-7 of the frame energy: up to ~2e-4 in the log of weak bins.
      assert.ok(m.maxAbs <= 5e-4, `${file.name}: mel differs by ${m.maxAbs}`);
      worstUlp = Math.max(worstUlp, m.worstUlp16);
      identical += m.identical16 * ref.mel.length;
      total += ref.mel.length;
      console.log(
        `${file.name}: wave max diff ${w.maxAbs.toExponential(2)}, mel max diff ${
          m.maxAbs.toExponential(2)
        }, float16 identical ${(100 * m.identical16).toFixed(3)}%, worst ${m.worstUlp16} ULP`,
      );
    }
    console.log(
      `all: ${total} mel values, float16 identical ${(100 * identical / total).toFixed(3)}%, ` +
        `worst ${worstUlp} ULP`,
    );
    assert.ok(identical / total >= 0.995);
    assert.ok(worstUlp <= 2);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "mel with a non-power-of-two n_fft (24 kHz, 1920, 128 mels) equals Amphion's",
  ignore,
  async fn() {
    const py = requireTool(python, "the reference venv");
    const dir = await Deno.makeTempDir();
    const file = { path: `${dir}/a.wav` };
    await speakSentence(0, file.path);
    const config = { ...MEL, sample_rate: 24000, hop_size: 480, win_size: 1920, n_fft: 1920 };
    const options = { ...config, n_mel: 128, fmax: 12000 };
    const [ref] = await referenceFeatures(py, [file.path], options);
    const decoded = decodeWav(await Deno.readFile(file.path), file.path);
    const wave = new Resampler(decoded.sampleRate, 24000).resample(decoded.audio);
    const spec = new MelSpectrogram(options).compute(wave);
    assert.deepEqual(spec.shape, ref.shape);
    const m = compareFloats(spec.data as Float32Array, ref.mel);
    assert.ok(m.maxAbs <= 5e-4 && m.identical16 >= 0.995 && m.worstUlp16 <= 2, JSON.stringify(m));
    await Deno.remove(dir, { recursive: true });
  },
});
