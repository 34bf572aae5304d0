/**
 * The dataset plugin API. A plugin knows one corpus layout: where its samples are under a data
 * root, where they are in a legacy NPZ cache, and how a file path becomes a sample key. It knows
 * nothing of HDF5 or streams.
 *
 * @module
 */

/** One discovered sample: its key and the file it comes from. */
export interface SampleRef {
  key: string;
  path: string;
  /** Why the file cannot be read (a broken symlink, a symlink loop, not a regular file): a failure to record. */
  problem?: string;
}

/** A dataset plugin. Build one with {@linkcode definePlugin}. */
export interface DatasetPlugin {
  /** Registry name, e.g. `ljspeech`. */
  readonly name: string;
  /** One line for `--help` and listings. */
  readonly description: string;
  /** The audio files of a corpus under `dataRoot`, sorted by key. */
  discover(dataRoot: string): AsyncIterable<SampleRef>;
  /** The `.npz` files of a legacy cache under `npzDir` (`<npzDir>/<key>.npz`), sorted by key. */
  discoverNpz(npzDir: string): AsyncIterable<SampleRef>;
  /** The key of an audio (or feature) file path; `dataRoot` is the corpus root when known. */
  keyForPath(path: string, dataRoot?: string): string;
}

/** What a plugin author writes; omitted members get the defaults described on each. */
export interface PluginDefinition {
  name: string;
  description?: string;
  discover: (dataRoot: string) => AsyncIterable<SampleRef>;
  /** Default: every `*.npz` below `npzDir`, key = relative path without `.npz`, sorted by key. */
  discoverNpz?: (npzDir: string) => AsyncIterable<SampleRef>;
  keyForPath: (path: string, dataRoot?: string) => string;
}
