/**
 * The LJSpeech plugin: `<data_root>/wavs/*.wav`, key = the file's stem (`LJ001-0001`).
 *
 * @module
 */
import { definePlugin } from "./define_plugin.ts";
import type { DatasetPlugin, SampleRef } from "./plugin.ts";
import { joinPath, normalizePath, stripExtension } from "./path_key.ts";
import { walkFiles } from "./walk.ts";

const WAV = /\.wav$/i;

/**
 * LJSpeech-1.1: the `.wav` files directly in `<data_root>/wavs`, sorted by key; the key of a
 * path is its stem.
 *
 * @example
 * ```ts
 * if (ljspeech.keyForPath("data/LJSpeech-1.1/wavs/LJ001-0001.wav") !== "LJ001-0001") {
 *   throw new Error();
 * }
 * ```
 */
export const ljspeech: DatasetPlugin = definePlugin({
  name: "ljspeech",
  description: "LJSpeech-1.1: <data_root>/wavs/*.wav, key = file stem (LJ001-0001)",
  async *discover(dataRoot: string): AsyncGenerator<SampleRef> {
    const files = walkFiles(joinPath(dataRoot, "wavs"), {
      recursive: false,
      include: (name) => WAV.test(name),
      key: stripExtension,
    });
    for await (const { key, path, problem } of files) {
      yield problem === undefined ? { key, path } : { key, path, problem };
    }
  },
  keyForPath: (path: string) => stripExtension(normalizePath(path).replace(/^.*\//, "")),
});
