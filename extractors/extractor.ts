/**
 * The feature-extractor plugin API. An extractor turns one utterance of mono audio at its own
 * sample rate into named tensors (`mel_spectrogram`, `hidden_states`, a user's `pitch`, ...).
 * It knows nothing of HDF5, shards or streams.
 *
 * Extractors may run inside Web Workers, where functions cannot be sent: so a plugin is a
 * module whose default export is an {@linkcode ExtractorFactory}, and what travels to a worker is
 * its registry name (or module path) and plain JSON options. The factory builds the extractor
 * inside whichever realm runs it.
 *
 * @module
 */
import type { Tensor } from "../formats/tensor.ts";

/** What an extractor is given for one utterance. */
export interface ExtractorInput {
  /** The sample key, for messages. */
  key: string;
  /** Mono audio at the extractor's `sampleRate`, nominally in [-1, 1). */
  audio: Float32Array;
}

/** A feature extractor, built by a factory from JSON options. */
export interface Extractor {
  /** Registry name, e.g. `mel`, `w2v-bert`. */
  readonly name: string;
  /** The sample rate (Hz) its audio must have; the audio front end resamples to it. */
  readonly sampleRate: number;
  /** The tensor names it returns, e.g. `["mel_spectrogram"]`. */
  readonly outputs: readonly string[];
  /** Features of one utterance: one tensor per name of `outputs`. */
  extract(input: ExtractorInput): Promise<Record<string, Tensor>> | Record<string, Tensor>;
  /** Releases what it holds (a model session, workers); called once at the end of a run. */
  close?(): Promise<void> | void;
}

/**
 * Parses an extractor's plain JSON options into its typed options `O` (as Lhotse's
 * `config_type`): defaults filled in, every field checked; a bad field throws a `ConfigError`
 * naming its config path (e.g. `preprocessing.mel_config.n_fft`). Build one with
 * `optionsParser` (extractors/extractor_options.ts).
 */
export type OptionsParser<O> = (raw: object) => O;

/**
 * Builds an extractor from plain JSON options (they may cross a worker boundary). A factory
 * may declare `options`, the parser of its typed options (`withOptions` makes such a factory):
 * the factory then parses with it before building, and a run checks a spec's options with it
 * before any audio is read. One without takes its options as they come.
 */
export interface ExtractorFactory<O = Record<string, unknown>> {
  (options: Record<string, unknown>): Extractor | Promise<Extractor>;
  /** The parser of this extractor's typed options, when it declares one. */
  readonly options?: OptionsParser<O>;
}

/**
 * A model run in one place per process on batches of clips (one copy in memory, e.g. on a GPU),
 * fed by a front end that runs as an extractor on the workers and outputs its `inputs`.
 */
export interface BatchModel {
  /** Tensor names the front end makes for it; they are taken out of the sample. */
  readonly inputs: readonly string[];
  /** The tensor name it puts in their place. */
  readonly output: string;
  /** A clip's length (frames), by which clips are grouped into batches. */
  length(inputs: Record<string, Tensor>): number;
  /** The output of each clip of `batch`, in order. */
  runBatch(batch: readonly Record<string, Tensor>[]): Promise<Tensor[]>;
  /** Releases the model. */
  close(): Promise<void>;
}
