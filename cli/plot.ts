/**
 * `h5shard plot`: one dataset of one sample as a PNG.
 *
 * @module
 */
import { openCache } from "../ops/cache_reader.ts";
import { plotSample } from "../ops/plot.ts";
import { type Command, UsageError } from "./command.ts";
import { parseFrames, unknownKey } from "./get.ts";
import { checkOutFile } from "./out_file.ts";

export const plotCommand: Command = {
  name: "plot",
  summary: "Draw a sample's mel spectrogram (or any (T, D) dataset as a heat map) to a PNG",
  args: "<processed_dir> <key>",
  description:
    "Reads <key>'s dataset (mel_spectrogram by default) and draws it: time on x in seconds\n" +
    "(frames per second from metadata.json's mel_config when recorded, else 50), bins or\n" +
    "dimensions on y with 0 at the bottom (low frequencies low), a viridis-like colour map\n" +
    "spanning the 0.5th..99.5th percentiles, and a colour bar. Long utterances and wide\n" +
    "features are averaged down to fit about 960 x 480 pixels; NaN and inf show as magenta.\n" +
    "A title longer than the image is cut with '...'. --out must end in .png.",
  options: {
    dataset: {
      type: "string",
      value: "NAME",
      help: "dataset to draw (default mel_spectrogram), e.g. hidden_states",
    },
    frames: {
      type: "string",
      value: "A:B",
      help: "frames as a Python slice (10:60, 200:, -100:), clamped",
    },
    out: {
      type: "string",
      short: "o",
      value: "FILE.png",
      help: "where to write the PNG (required)",
    },
  },
  minArgs: 2,
  maxArgs: 2,
  examples: [
    "h5shard plot data/processed_maskgct/ljspeech LJ001-0001 --out LJ001-0001.png",
    "h5shard plot cache train-clean-100/103/1240/103_1240_000001_000000 --dataset hidden_states --frames 0:200 -o hs.png",
  ],
  async run(ctx) {
    const [dir, key] = ctx.args;
    const out = ctx.values.out;
    if (typeof out !== "string") throw new UsageError("--out FILE.png is required");
    checkOutFile(out, ".png", "plot");
    const frames = typeof ctx.values.frames === "string"
      ? parseFrames(ctx.values.frames)
      : undefined;
    const dataset = typeof ctx.values.dataset === "string" ? ctx.values.dataset : undefined;
    const cache = await openCache(dir);
    try {
      if (!cache.has(key)) unknownKey(cache, dir, key);
    } finally {
      cache.close();
    }
    const plot = await plotSample(dir, key, { dataset, frames });
    await Deno.writeFile(out, plot.png);
    ctx.out(
      `${out}: ${plot.width}x${plot.height} PNG of ${key} (${plot.shape.join(", ")}), ` +
        `${plot.framesPerSecond} frames/s, colours ${plot.layout.vmin.toPrecision(4)}..${
          plot.layout.vmax.toPrecision(4)
        }`,
    );
    return 0;
  },
};
