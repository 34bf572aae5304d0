/**
 * The built-in `mel` extractor: `mel_spectrogram` (1, T, n_mel) as the original pipeline
 * computes it (see {@linkcode MelSpectrogram}), at `mel_config.sample_rate`.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { type MelOptions, MelSpectrogram } from "../audio/mel.ts";
import { defineExtractor } from "./define_extractor.ts";
import type { ExtractorFactory } from "./extractor.ts";

/** The original pipeline's `mel_config`: 16 kHz, hop 320, window and FFT 1024, 80 mels, 0-8 kHz. */
export const MEL_DEFAULTS: Readonly<MelOptions> = PREPROCESSING_DEFAULTS.mel_config;

/**
 * Builds the `mel` extractor from `mel_config`-shaped options (missing keys take
 * {@linkcode MEL_DEFAULTS}).
 *
 * @example
 * ```ts
 * import createMel from "./mel.ts";
 *
 * const mel = await createMel({ n_mel: 40 });
 * const out = await mel.extract({ key: "beep", audio: new Float32Array(16000).fill(0.1) });
 * if (out.mel_spectrogram.shape.join() !== "1,50,40") throw new Error();
 * ```
 */
const createMel: ExtractorFactory = (options) => {
  const config = { ...MEL_DEFAULTS, ...options } as MelOptions;
  const mel = new MelSpectrogram(config);
  return defineExtractor({
    name: "mel",
    sampleRate: config.sample_rate,
    outputs: ["mel_spectrogram"],
    extract: ({ key, audio }) => ({ mel_spectrogram: mel.compute(audio, key) }),
  });
};
export default createMel;
