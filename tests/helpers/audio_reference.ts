/**
 * The original pipeline's audio front end run by the reference libraries
 * (`audio_reference.py`: soundfile, a torch port of torchaudio's resample, Amphion's mel).
 *
 * @module
 */
import { decodeNpy } from "../../formats/npy.ts";

/** The original pipeline's mel_config. */
export const MEL = {
  sample_rate: 16000,
  hop_size: 320,
  win_size: 1024,
  n_fft: 1024,
  n_mel: 80,
  fmin: 0,
  fmax: 8000,
};

/** The reference script, for Python runs of it. */
export const REFERENCE_SCRIPT = new URL("./audio_reference.py", import.meta.url).pathname;

/** One file's reference features. */
export interface ReferenceFeatures {
  /** The 16 kHz (mel_config.sample_rate) waveform. */
  wave: Float32Array;
  /** The mel spectrogram's elements, and its shape (1, T, n_mel). */
  mel: Float32Array;
  shape: number[];
}

/** Runs the reference front end over `files` with `mel` settings. */
export async function referenceFeatures(
  python: string,
  files: string[],
  mel = MEL,
): Promise<ReferenceFeatures[]> {
  const out = await Deno.makeTempDir();
  const args = [REFERENCE_SCRIPT, out, ...Object.values(mel).map(String), ...files];
  const run = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
  if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));
  const result: ReferenceFeatures[] = [];
  for (let i = 0; i < files.length; i++) {
    const wave = decodeNpy(await Deno.readFile(`${out}/${i}.wave.npy`), "wave");
    const spec = decodeNpy(await Deno.readFile(`${out}/${i}.mel.npy`), "mel");
    result.push({
      wave: wave.data as Float32Array,
      mel: spec.data as Float32Array,
      shape: spec.shape,
    });
  }
  await Deno.remove(out, { recursive: true });
  return result;
}
