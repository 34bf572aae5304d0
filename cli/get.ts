/**
 * `h5shard get`: one array of one sample, to `.npy`.
 *
 * @module
 */
import { openCache } from "../ops/cache_reader.ts";
import { encodeNpy } from "../formats/npy.ts";
import { type Command, UsageError } from "./command.ts";

/** Parses `A:B`, frames A (inclusive) to B (exclusive). */
export function parseFrames(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new UsageError(
      `--frames must be START:END with START <= END (e.g. 10:60), got ${JSON.stringify(text)}`,
    );
  }
  return [Number(m[1]), Number(m[2])];
}

export const getCommand: Command = {
  name: "get",
  summary: "Read one dataset of one sample (optionally a frame range) into a .npy file",
  args: "<processed_dir> <key> <dataset>",
  description:
    "Looks <key> up in hdf5_index.json, reads <dataset> from its group and writes it as .npy\n" +
    "(numpy.load reads it; float16 stays float16). --frames A:B slices the time axis (axis 0 of\n" +
    "(T, D), axis 1 of (1, T, D)) and decompresses only the chunks that range touches.\n" +
    "Without --out, prints the dtype, shape and a few values.",
  options: {
    out: { type: "string", short: "o", value: "FILE.npy", help: "where to write the array" },
    frames: { type: "string", value: "A:B", help: "frames A (inclusive) to B (exclusive)" },
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
    const cache = await openCache(dir);
    try {
      const frames = typeof framesText === "string" ? parseFrames(framesText) : undefined;
      const tensors = await cache.get(key, { datasets: [dataset], frames });
      const t = tensors[dataset];
      const out = ctx.values.out;
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
