/**
 * The LibriTTS plugin: `<data_root>/<split>/<speaker>/<chapter>/<utterance>.wav`, key = the path
 * relative to the data root without extension (`train-clean-100/123/456/123_456_789`).
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";
import { definePlugin } from "./define_plugin.ts";
import type { DatasetPlugin, SampleRef } from "./plugin.ts";
import { joinPath, normalizePath, relativeKey, stripExtension } from "./path_key.ts";
import { walkFiles } from "./walk.ts";

/** The seven standard LibriTTS splits, in key (UTF-8 byte) order. */
export const LIBRITTS_SPLITS: readonly string[] = [
  "dev-clean",
  "dev-other",
  "test-clean",
  "test-other",
  "train-clean-100",
  "train-clean-360",
  "train-other-500",
];

/** Options of {@linkcode createLibriTTS}. */
export interface LibriTTSOptions {
  /** Where "split not found" notes go. Default: `console.warn`. */
  warn?: (message: string) => void;
}

/** `speaker/chapter/utterance.wav` below a split. */
const UTTERANCE = /^[^/]+\/[^/]+\/[^/]+\.wav$/i;

/**
 * A LibriTTS plugin. `discover` walks the standard splits in key order and skips (with a
 * warning) those missing under the data root; none at all throws a `CacheError`.
 * `keyForPath(path, dataRoot)` makes the path relative to `dataRoot`; without `dataRoot` it
 * takes the last four components (split/speaker/chapter/utterance).
 *
 * @example
 * ```ts
 * const plugin = createLibriTTS({ warn: () => {} });
 * const key = plugin.keyForPath("C:\\corpora\\LibriTTS\\dev-clean\\84\\121123\\84_121123_000007_000000.wav");
 * if (key !== "dev-clean/84/121123/84_121123_000007_000000") throw new Error(key);
 * ```
 */
export function createLibriTTS(options: LibriTTSOptions = {}): DatasetPlugin {
  const warn = options.warn ?? console.warn;
  return definePlugin({
    name: "libritts",
    description:
      "LibriTTS: <data_root>/<split>/<speaker>/<chapter>/*.wav, key = split/speaker/chapter/utterance",
    async *discover(dataRoot: string): AsyncGenerator<SampleRef> {
      try {
        await Deno.stat(dataRoot);
      } catch (error) {
        throw new CacheError(dataRoot, `cannot read data root: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      const present: string[] = [];
      for (const split of LIBRITTS_SPLITS) {
        const info = await Deno.stat(joinPath(dataRoot, split)).catch(() => undefined);
        if (info?.isDirectory) present.push(split);
        else warn(`${dataRoot}: LibriTTS split ${split} not found (skipped)`);
      }
      if (present.length === 0) {
        throw new CacheError(
          dataRoot,
          `no LibriTTS split found (expected one of ${LIBRITTS_SPLITS.join(", ")})`,
        );
      }
      // no split name is a prefix of another, so split order then key order is key order
      for (const split of present) {
        const files = walkFiles(joinPath(dataRoot, split), {
          include: (relative) => UTTERANCE.test(relative),
          key: (relative) => `${split}/${stripExtension(relative)}`,
        });
        for await (const { key, path, problem } of files) {
          yield problem === undefined ? { key, path } : { key, path, problem };
        }
      }
    },
    keyForPath(path: string, dataRoot?: string): string {
      if (dataRoot !== undefined) return relativeKey(path, dataRoot);
      const parts = normalizePath(path).split("/");
      if (parts.length < 4) {
        throw new RangeError(
          `LibriTTS path ${
            JSON.stringify(path)
          }: expected split/speaker/chapter/utterance, or pass the data root`,
        );
      }
      return stripExtension(parts.slice(-4).join("/"));
    },
  });
}

/** The built-in LibriTTS plugin (warnings to `console.warn`). */
export const libritts: DatasetPlugin = createLibriTTS();
