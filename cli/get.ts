/**
 * `h5shard get`: one array of one sample, to `.npy`.
 *
 * @module
 */
import { KeyError } from "../errors.ts";
import type { FrameRange } from "../formats/read_sample.ts";
import { type CacheReader, openCache } from "../ops/cache_reader.ts";
import { encodeNpy } from "../formats/npy.ts";
import { type Command, UsageError } from "./command.ts";
import { closest } from "./flags.ts";
import { checkOutFile } from "./out_file.ts";

/** The dataset names the original pipeline stores, to tell a dataset given as a key. */
const DATASET_NAMES = ["hidden_states", "mel_spectrogram"];

/**
 * The keys of `keys` a person may have meant by `key`: those whose last path component is
 * `key` (a LibriTTS basename such as `103_1240_000001_000000` for
 * `train-clean-100/103/1240/103_1240_000001_000000`), else the nearest by edit distance (or
 * holding it), at most three.
 *
 * @example
 * ```ts
 * import { nearestKeys } from "./get.ts";
 * const keys = ["train-clean-100/103/1240/103_1240_000001_000000", "LJ001-0001"];
 * if (nearestKeys(keys, "103_1240_000001_000000")[0] !== keys[0]) throw new Error();
 * if (nearestKeys(keys, "LJ001-001")[0] !== "LJ001-0001") throw new Error();
 * ```
 */
export function nearestKeys(keys: readonly string[], key: string): string[] {
  const base = key.slice(key.lastIndexOf("/") + 1);
  const byName = keys.filter((k) => k.slice(k.lastIndexOf("/") + 1) === base);
  if (byName.length) return byName.slice(0, 3);
  // Edit distance only over keys of about the same length: a large cache stays quick.
  const near = keys.filter((k) => Math.abs(k.length - key.length) <= Math.max(2, key.length / 3));
  const found = closest(key, near);
  if (found.length || key.length < 3) return found;
  return keys.filter((k) => k.includes(key)).slice(0, 3);
}

/**
 * Throws the {@linkcode KeyError} for a `key` the cache does not hold, saying what the person
 * most likely meant: the key and dataset swapped, or the nearest keys.
 */
export function unknownKey(cache: CacheReader, dir: string, key: string, dataset?: string): never {
  const keys = cache.keys();
  let hint: string;
  if (dataset !== undefined && cache.has(dataset)) {
    hint = `it looks like the key and the dataset are swapped: the key comes first ` +
      `(h5shard get ${dir} ${dataset} ${key})`;
  } else if (DATASET_NAMES.includes(key)) {
    hint = `${key} is a dataset name, not a sample key (h5shard ls ${dir} lists the keys)`;
  } else {
    const near = nearestKeys(keys, key);
    hint = near.length
      ? `did you mean ${near.join(", ")}?`
      : `h5shard ls ${dir} lists its ${keys.length} keys`;
  }
  throw new KeyError(key, `not in hdf5_index.json of ${dir}; ${hint}`);
}

/**
 * Parses a Python slice of frames: `A:B`, `A:`, `:B` or `:`, each bound an integer that may
 * be negative (counted from the end). Clamping to the frames there are happens on reading,
 * as h5py does.
 */
export function parseFrames(text: string): FrameRange {
  const m = /^(-?\d+)?:(-?\d+)?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `--frames must be a Python slice START:END (e.g. 10:60, 200:, :10, -50:), got ${
        JSON.stringify(text)
      }`,
    );
  }
  const start = m[1] === undefined ? 0 : Number(m[1]);
  return m[2] === undefined ? [start] : [start, Number(m[2])];
}

export const getCommand: Command = {
  name: "get",
  summary: "Read one dataset of one sample (optionally a frame range) into a .npy file",
  args: "<processed_dir> <key> <dataset>",
  description:
    "Looks <key> up in hdf5_index.json, reads <dataset> from its group and writes it as .npy\n" +
    "(numpy.load reads it; float16 stays float16). --frames takes a Python slice (10:60, 200:,\n" +
    ":10, -50:) of the time axis (axis 0 of (T, D), axis 1 of (1, T, D); 1-D datasets come\n" +
    "whole), clamped to the frames there are as h5py does, and decompresses only the chunks that\n" +
    "range touches. A wrong dataset name lists the datasets the sample has; a key the cache\n" +
    "lacks is answered with the nearest keys (a LibriTTS basename finds its full key), or with\n" +
    "a note that the key and the dataset are swapped. --out must end in .npy, in a folder\n" +
    "that exists.\n" +
    "Without --out, prints the dtype, shape and a few values.",
  options: {
    out: { type: "string", short: "o", value: "FILE.npy", help: "where to write the array" },
    frames: {
      type: "string",
      value: "A:B",
      help:
        "frames as a Python slice: A (inclusive) to B (exclusive), either may be left out; a negative start is written --frames=-50:",
    },
  },
  minArgs: 3,
  maxArgs: 3,
  examples: [
    "h5shard get data/processed_maskgct/ljspeech LJ001-0001 hidden_states --out hs.npy",
    "h5shard get cache train-clean-100/103/1240/103_1240_000001_000000 mel_spectrogram --frames 0:50 -o mel.npy",
  ],
  async run(ctx) {
    const [dir, key, dataset] = ctx.args;
    const framesText = ctx.values.frames;
    const frames = typeof framesText === "string" ? parseFrames(framesText) : undefined;
    const out = ctx.values.out;
    if (typeof out === "string") checkOutFile(out, ".npy", "get");
    const cache = await openCache(dir);
    try {
      if (!cache.has(key)) unknownKey(cache, dir, key, dataset);
      const tensors = await cache.get(key, { datasets: [dataset], frames });
      const t = tensors[dataset];
      if (typeof out === "string") {
        await Deno.writeFile(out, encodeNpy(t));
        ctx.out(`${out}: ${t.dtype} ${JSON.stringify(t.shape)}`);
      } else {
        const head = Array.from(t.data.slice(0, 8) as ArrayLike<number | bigint>, String);
        ctx.out(
          `${key}/${dataset}: ${t.dtype} ${JSON.stringify(t.shape)} [${head.join(", ")}${
            t.data.length > 8 ? ", ..." : ""
          }]`,
        );
      }
      return 0;
    } finally {
      cache.close();
    }
  },
};
