/**
 * `h5shard reshard`: a cache to a new cache with other settings.
 *
 * @module
 */
import { readCacheIndex } from "../ops/cache_reader.ts";
import { reshard } from "../ops/reshard.ts";
import { type Command, effectiveConfig, UsageError } from "./command.ts";
import { printRunReport, runProgress } from "./migrate.ts";

async function sameDir(a: string, b: string): Promise<boolean> {
  try {
    return (await Deno.realPath(a)) === (await Deno.realPath(b));
  } catch {
    return false;
  }
}
export const reshardCommand: Command = {
  name: "reshard",
  summary: "Rewrite a cache into a new one (other samples_per_hdf5, float16, gzip level...)",
  args: "<src_dir> <dst_dir>",
  description:
    "Reads every sample of <src_dir> through its index (caches written by h5shard or by the\n" +
    "original h5py pipeline) and writes them through the standard pipeline into <dst_dir> with\n" +
    "the settings given (config file and overrides). <src_dir> is never modified. A <dst_dir>\n" +
    "that already has an index is resumed. Exit status 1 when any sample failed.",
  options: {},
  configurable: true,
  minArgs: 2,
  maxArgs: 2,
  examples: [
    "h5shard reshard cache_f32 cache_f16 --use-float16 true",
    "h5shard reshard cache cache_small_shards --samples-per-hdf5 5000 --compression-level 6",
  ],
  async run(ctx) {
    const [src, dst] = ctx.args;
    if (await sameDir(src, dst)) {
      throw new UsageError(
        "<dst_dir> must differ from <src_dir>: reshard never modifies its source",
      );
    }
    const config = await effectiveConfig(ctx);
    const total = Object.keys((await readCacheIndex(src)).sample_index).length;
    const progress = runProgress("reshard", total);
    const report = await reshard(src, dst, {
      preprocessing: config.preprocessing,
      maxOpenFiles: config.preprocessing.max_open_files,
      onProgress: progress.onProgress,
      onWarning: (m) => ctx.err(`warning: ${m}`),
    });
    progress.finish();
    if (report.copiedChunks) {
      ctx.out(`${report.copiedChunks} sample(s) copied with their compressed chunks as stored`);
    }
    return printRunReport(ctx, report, dst);
  },
};
