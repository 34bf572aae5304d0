import assert from "node:assert/strict";
import { FormatError } from "../errors.ts";
import { decodeAudio, sniffAudio } from "../audio/audio_decode.ts";
import { decodeNpy } from "../formats/npy.ts";
import { findMlPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { haveSpeechTools, speakSentence } from "./helpers/speech_corpus.ts";

const python = await findMlPython();
const speech = await haveSpeechTools();
const ignore = ignoreWithout(python, "the reference venv (soundfile)") ||
  ignoreWithout(speech ? "espeak-ng" : undefined, "espeak-ng and sox");

// soundfile reads each file as torchaudio.load would scale it, channels averaged; libsndfile
// writes the MP3 (sox here has no MP3 encoder).
const REFERENCE = `
import sys, numpy as np, soundfile as sf
src, out = sys.argv[1], sys.argv[2]
a, sr = sf.read(src, dtype="float32")
sf.write(out + "/stereo.mp3", np.stack([a, a[::-1]], axis=1), sr)
for i, name in enumerate(sys.argv[3:]):
    data, rate = sf.read(out + "/" + name, dtype="float32", always_2d=True)
    np.save(f"{out}/{i}.npy", data.mean(axis=1, dtype=np.float32))
    print(name, rate)
`;

Deno.test({
  name: "decodeAudio reads stereo MP3 as soundfile (libsndfile + mpg123) does",
  ignore,
  async fn() {
    const py = requireTool(python, "the reference venv");
    const dir = await Deno.makeTempDir();
    const wav = `${dir}/speech.wav`;
    await speakSentence(1, wav);
    const names = ["stereo.mp3"];
    const rates = (await runPython(py, REFERENCE, [wav, dir, ...names])).trim().split("\n");
    for (const [i, name] of names.entries()) {
      const ours = await decodeAudio(await Deno.readFile(`${dir}/${name}`), name);
      const ref = decodeNpy(await Deno.readFile(`${dir}/${i}.npy`), name).data as Float32Array;
      assert.equal(`${name} ${ours.sampleRate}`, rates[i]);
      assert.equal(ours.audio.length, ref.length, name);
      let worst = 0;
      for (let j = 0; j < ref.length; j++) {
        worst = Math.max(worst, Math.abs(ours.audio[j] - ref[j]));
      }
      // The same mpg123 decoding, to float32 rounding.
      assert.ok(worst <= 1e-6, `${name}: differs by ${worst}`);
      console.log(`${name}: ${ref.length} samples, worst difference ${worst}`);
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("decodeAudio names the file when an MP3 or WAV file is not one", async () => {
  const junk = new TextEncoder().encode("not audio at all, just text\n".repeat(20));
  await assert.rejects(
    () => decodeAudio(junk, "x.mp3"),
    (e) => e instanceof FormatError && e.message.startsWith("x.mp3: "),
  );
  await assert.rejects(() => decodeAudio(junk, "x.wav"), /x\.wav: not a WAV file/);
  assert.equal(sniffAudio(new TextEncoder().encode("ID3\u0004...."), "a.wav"), "mp3");
});
