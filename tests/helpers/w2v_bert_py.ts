/**
 * Test helpers for the w2v-BERT path: espeak-ng speech at 16 kHz and the Python reference
 * (transformers' SeamlessM4TFeatureExtractor and Wav2Vec2BertModel) run over raw float32 files.
 *
 * @module
 */
import { join } from "../../util/path.ts";
import { runPython } from "./interop.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Speaks `text` with espeak-ng into a 16 kHz PCM16 WAV (sox resamples espeak's 22.05 kHz). */
export async function speak16k(dir: string, name: string, text: string): Promise<string> {
  const raw = join(dir, `${name}.22k.wav`);
  const out = join(dir, `${name}.wav`);
  for (
    const [cmd, args] of [
      ["espeak-ng", ["-w", raw, text]],
      ["sox", [raw, "-r", "16000", "-b", "16", "-c", "1", out]],
    ] as const
  ) {
    const r = await new Deno.Command(cmd, { args: [...args], stderr: "piped" }).output();
    if (!r.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  await Deno.remove(raw);
  return out;
}

/** The samples of a mono WAV as soundfile reads them (float32), via Python. */
export async function readWavPy(python: string, wav: string): Promise<Float32Array> {
  const out = `${wav}.f32`;
  await runPython(
    python,
    "import sys, soundfile as sf, numpy as np; " +
      "sf.read(sys.argv[1], dtype='float32')[0].astype('<f4').tofile(sys.argv[2])",
    [wav, out],
  );
  return readF32(out);
}

/** A little-endian float32 file as a Float32Array. */
export async function readF32(path: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Writes `data` as a little-endian float32 file. */
export async function writeF32(path: string, data: Float32Array): Promise<void> {
  await Deno.writeFile(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

const REFERENCE = `
import json, sys
import numpy as np
from transformers import SeamlessM4TFeatureExtractor
model_dir, listing = sys.argv[1], sys.argv[2]
fe = SeamlessM4TFeatureExtractor.from_pretrained(model_dir)
model = None
layer = None
if len(sys.argv) > 3:
    import torch
    from transformers import Wav2Vec2BertModel
    model = Wav2Vec2BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    layer = int(sys.argv[3])
    import copy
    model64 = copy.deepcopy(model).double()
for path in json.load(open(listing)):
    audio = np.fromfile(path, dtype="<f4")
    out = fe(audio, sampling_rate=16000, return_tensors="np")
    out["input_features"][0].astype("<f4").tofile(path + ".feats")
    out["attention_mask"][0].astype("<i8").tofile(path + ".mask")
    raw = fe(audio, sampling_rate=16000, return_tensors="np", do_normalize_per_mel_bins=False)
    raw["input_features"][0].astype("<f4").tofile(path + ".logmel")
    if model is not None:
        with torch.no_grad():
            hs = model(input_features=torch.from_numpy(out["input_features"]),
                       attention_mask=torch.from_numpy(out["attention_mask"]),
                       output_hidden_states=True).hidden_states[layer]
        hs[0].numpy().astype("<f4").tofile(path + ".hidden")
        # The same in float64: the truth both float32 implementations round away from.
        with torch.no_grad():
            hs64 = model64(input_features=torch.from_numpy(out["input_features"]).double(),
                           attention_mask=torch.from_numpy(out["attention_mask"]),
                           output_hidden_states=True).hidden_states[layer]
        hs64[0].numpy().astype("<f4").tofile(path + ".hidden64")
`;

/** Python's reference outputs for one utterance. */
export interface W2vBertReference {
  /** SeamlessM4TFeatureExtractor `input_features[0]`, frames x 160. */
  features: Float32Array;
  /** The same without per-bin normalisation: the log-mel values, stacked. */
  logMel: Float32Array;
  /** Its `attention_mask[0]`. */
  mask: BigInt64Array;
  /** Wav2Vec2BertModel `hidden_states[layer][0]`, when a layer was asked for. */
  hidden?: Float32Array;
  /** The same computed in float64 (stored as float32). */
  hidden64?: Float32Array;
}

/**
 * Runs the reference over raw float32 audio files with the model directory `modelDir` (its
 * preprocessor_config.json; with `layer`, also its weights), in one Python process.
 */
export async function w2vBertReference(
  python: string,
  modelDir: string,
  audioFiles: string[],
  layer?: number,
): Promise<W2vBertReference[]> {
  const listing = `${audioFiles[0]}.list.json`;
  await Deno.writeTextFile(listing, JSON.stringify(audioFiles));
  await runPython(python, REFERENCE, [modelDir, listing, ...(layer ? [String(layer)] : [])]);
  const out: W2vBertReference[] = [];
  for (const f of audioFiles) {
    const maskBytes = await Deno.readFile(`${f}.mask`);
    out.push({
      features: await readF32(`${f}.feats`),
      logMel: await readF32(`${f}.logmel`),
      mask: new BigInt64Array(maskBytes.buffer, 0, maskBytes.byteLength / 8),
      hidden: layer ? await readF32(`${f}.hidden`) : undefined,
      hidden64: layer ? await readF32(`${f}.hidden64`) : undefined,
    });
  }
  return out;
}

/** Makes the tiny random model with scripts/make_tiny_w2v_bert.py and exports it at `layer`. */
export async function tinyExport(
  python: string,
  dir: string,
  layer = 2,
): Promise<{ modelDir: string; exportDir: string }> {
  const modelDir = join(dir, "tiny_model");
  const exportDir = join(dir, "tiny_export");
  for (
    const args of [
      [join(ROOT, "scripts/make_tiny_w2v_bert.py"), modelDir],
      [join(ROOT, "scripts/export_w2v_bert.py"), modelDir, exportDir, "--layer", String(layer)],
    ]
  ) {
    const r = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
    if (!r.success) {
      throw new Error(`${args[0]} failed:\n${new TextDecoder().decode(r.stderr)}`);
    }
  }
  return { modelDir, exportDir };
}
