/**
 * The built-in `mel` extractor: `mel_spectrogram` (1, T, n_mel) as the original pipeline
 * computes it (see {@linkcode MelSpectrogram}), at `mel_config.sample_rate`.
 *
 * @module
 */
import { keySpec, PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { type MelOptions, MelSpectrogram } from "../audio/mel.ts";
import { defineExtractor } from "./define_extractor.ts";
import type { ExtractorFactory, OptionsParser } from "./extractor.ts";
import {
  type OptionField,
  type OptionFields,
  optionsParser,
  withOptions,
} from "./extractor_options.ts";

/** The original pipeline's `mel_config`: 16 kHz, hop 320, window and FFT 1024, 80 mels, 0-8 kHz. */
export const MEL_DEFAULTS: Readonly<MelOptions> = PREPROCESSING_DEFAULTS.mel_config;

/** The fields of `mel_config`, with the config schema's rules and defaults. */
const MEL_FIELDS = Object.fromEntries(
  Object.keys(MEL_DEFAULTS).map((k) => [k, keySpec(`mel_config.${k as keyof MelOptions}`)]),
) as Record<string, OptionField> as OptionFields<MelOptions>;

/**
 * The `mel` extractor's options: `mel_config`, missing keys from {@linkcode MEL_DEFAULTS}; a
 * bad field throws a ConfigError naming `preprocessing.mel_config.<field>`. Rules between
 * fields (`win_size <= n_fft`, ...) are the mel module's, checked as it is built.
 */
export const parseMelOptions: OptionsParser<MelOptions> = optionsParser(
  MEL_FIELDS,
  (field) => `preprocessing.mel_config.${field}`,
);

/**
 * Builds the `mel` extractor from `mel_config`-shaped options ({@linkcode parseMelOptions}).
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
const createMel: ExtractorFactory<MelOptions> = withOptions(parseMelOptions, (config) => {
  const mel = new MelSpectrogram(config);
  return defineExtractor({
    name: "mel",
    sampleRate: config.sample_rate,
    outputs: ["mel_spectrogram"],
    extract: ({ key, audio }) => ({ mel_spectrogram: mel.compute(audio, key) }),
  });
});
export default createMel;
