/**
 * `h5shard ls`: keys with their shard, datasets and shapes.
 *
 * @module
 */
import { listCache } from "../ops/ls.ts";
import type { Command } from "./command.ts";
import { ProgressBar } from "./progress.ts";

export const lsCommand: Command = {
  name: "ls",
  summary: "List keys with their shard, datasets, dtypes and shapes",
  args: "<processed_dir>",
  description:
    "Lists the samples of a cache in index order, one per line: key, shard file, and each\n" +
    "dataset's dtype and shape. --prefix keeps the keys that start with P (a LibriTTS split,\n" +
    "speaker or chapter: train-clean-100/103/). Shapes come from the shards' HDF5 metadata (no\n" +
    "data is decompressed); --keys-only lists keys and shards from the index alone. A sample\n" +
    "that cannot be looked up is listed with the reason, and the exit status is 1.",
  options: {
    prefix: { type: "string", value: "P", help: "only keys starting with P" },
    "keys-only": { type: "boolean", help: "keys and shards only (no shard is opened)" },
    json: { type: "boolean", help: "a JSON array of {key, shard, datasets} on stdout" },
  },
  minArgs: 1,
  maxArgs: 1,
  examples: [
    "h5shard ls data/processed_maskgct/ljspeech --prefix LJ001-",
    "h5shard ls cache --prefix train-clean-100/103/1240/ --json > keys.json",
  ],
  async run(ctx) {
    const [dir] = ctx.args;
    const prefix = typeof ctx.values.prefix === "string" ? ctx.values.prefix : undefined;
    const datasets = !ctx.values["keys-only"];
    const json = !!ctx.values.json;
    const bar = new ProgressBar("ls", undefined, ctx.progress);
    let failed = 0;
    let count = 0;
    for await (
      const e of listCache(dir, {
        prefix,
        datasets,
        onProgress: datasets
          ? (done, total) => {
            bar.total = total;
            bar.update(done);
          }
          : undefined,
      })
    ) {
      if (e.error) failed++;
      if (json) {
        ctx.out(`${count ? "," : "["}${JSON.stringify(e)}`);
      } else {
        const parts = Object.entries(e.datasets ?? {}).map(([name, d]) =>
          `${name} ${d.dtype} (${d.shape.join(", ")})`
        );
        if (e.error) parts.push(`ERROR ${e.error}`);
        ctx.out([e.key, e.shard, ...parts].join("  "));
      }
      count++;
    }
    if (json) ctx.out(count ? "]" : "[]");
    if (datasets) bar.finish();
    if (!json) ctx.err(`${count} sample(s)${failed ? `, ${failed} unreadable` : ""}`);
    return failed ? 1 : 0;
  },
};
