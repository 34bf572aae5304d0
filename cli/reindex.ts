/**
 * `h5shard reindex`: rebuild a lost `hdf5_index.json` from the shards.
 *
 * @module
 */
import { reindex } from "../ops/reindex.ts";
import { ProgressBar } from "./progress.ts";
import { type Command, effectiveConfig } from "./command.ts";

export const reindexCommand: Command = {
  name: "reindex",
  summary: "Rebuild a lost hdf5_index.json from the shards of a processed_dir",
  args: "<processed_dir>",
  description:
    "Reads every features_NNNNN.h5 of <processed_dir> (numbered 1..N, no gaps) and writes the\n" +
    "hdf5_index.json they imply: each sample group in its shard, use_float16 from the stored\n" +
    "float arrays (else metadata.json's), samples_per_hdf5 from --samples-per-hdf5, else the\n" +
    "value metadata.json records, else the settings (every shard but the last must hold exactly\n" +
    "that many). A directory that has an index is refused: reindex never replaces one. A key\n" +
    "found in two shards is indexed in the later one, with a warning.",
  options: {},
  config: ["samples_per_hdf5"],
  minArgs: 1,
  maxArgs: 1,
  examples: [
    "h5shard reindex data/processed_maskgct/ljspeech",
    "h5shard reindex cache --samples-per-hdf5 5000",
  ],
  async run(ctx) {
    const [dir] = ctx.args;
    const config = await effectiveConfig(ctx);
    const bar = new ProgressBar("reindex", undefined, { ...ctx.progress, unit: "shards" });
    const report = await reindex(dir, {
      samplesPerFile: "samples-per-hdf5" in ctx.overrides
        ? config.preprocessing.samples_per_hdf5
        : undefined,
      defaultSamplesPerFile: config.preprocessing.samples_per_hdf5,
      onProgress: (done, total) => {
        bar.total = total;
        bar.update(done);
      },
      onWarning: (m) => ctx.err(`warning: ${m}`),
    });
    bar.finish();
    ctx.out(
      `${dir}: indexed ${report.samples} samples in ${report.shards} shard(s) ` +
        `(use_float16 ${report.useFloat16})`,
    );
    return 0;
  },
};
