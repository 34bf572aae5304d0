/**
 * `h5shard merge`: partition caches of an array job into one cache.
 *
 * @module
 */
import { merge } from "../ops/merge.ts";
import { type Command, formatBytes, UsageError } from "./command.ts";
import { ProgressBar } from "./progress.ts";

export const mergeCommand: Command = {
  name: "merge",
  summary: "Join partition caches (one per array job task) into one cache, without recompressing",
  args: "<part_dir>... <processed_dir>",
  description:
    "Joins the caches written by 'preprocess' or 'migrate' with --partition I/N (or any caches\n" +
    "with disjoint keys and the same settings) into <processed_dir>, as if one run had written\n" +
    "it: shards numbered 1..n, only the last one partial, one hdf5_index.json and metadata.json.\n" +
    "Full shards are hard-linked (copied when the file system refuses) and renumbered; samples of\n" +
    "partial shards are combined by copying their compressed chunks as they are. Parts recorded\n" +
    "as partitions are put in partition order, and every partition must be there. The parts\n" +
    "are never modified. The index is written last: a killed merge is finished by running the\n" +
    "same command again. Refused: overlapping keys, different settings (samples_per_hdf5,\n" +
    "use_float16, compression level, shuffle, chunk size), parts locked by a live writer, and a\n" +
    "<processed_dir> that already holds another cache, or this merge made before a part changed\n" +
    "(merge into a new directory then).",
  options: {},
  minArgs: 2,
  maxArgs: Infinity,
  examples: [
    "h5shard merge parts/part_0 parts/part_1 parts/part_2 processed/libritts",
    "h5shard merge parts/part_* processed/emilia",
  ],
  async run(ctx) {
    const parts = ctx.args.slice(0, -1);
    const processedDir = ctx.args[ctx.args.length - 1];
    if (new Set(parts).size !== parts.length) {
      throw new UsageError("a <part_dir> is given twice");
    }
    const bar = new ProgressBar("merge", undefined, ctx.progress);
    const report = await merge({
      parts,
      processedDir,
      onProgress: (done, total) => {
        bar.total = total;
        bar.update(done);
      },
    });
    if (report.alreadyDone) {
      ctx.out(`${processedDir}: already merged from these parts; nothing to do`);
    } else {
      bar.finish();
      const gbps = report.bytes / 1e9 / Math.max(report.seconds, 1e-9);
      ctx.out(
        `merged ${parts.length} part(s) in ${report.seconds.toFixed(1)} s (${
          gbps.toFixed(2)
        } GB/s of shards): ${report.linked} shard(s) linked, ${report.copied} copied, ` +
          `${report.combined} combined from partial shards, ${report.resumed} already in place`,
      );
    }
    ctx.out(
      `${processedDir}: ${report.totalSamples} samples in ${report.shards} shard(s), ${
        formatBytes(report.bytes)
      }`,
    );
    return 0;
  },
};
