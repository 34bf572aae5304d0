/**
 * `h5shard stats`: normalisation statistics of one dataset.
 *
 * @module
 */
import { openCache } from "../ops/cache_reader.ts";
import { listCache } from "../ops/ls.ts";
import { computeStats } from "../ops/stats.ts";
import { type Command, UsageError } from "./command.ts";
import { checkOutFile } from "./out_file.ts";
import { ProgressBar } from "./progress.ts";

/** Samples without the dataset named one by one; the rest are counted in one line. */
const MISSING_NAMED = 5;

/**
 * Refuses a dataset no sample has, before any sample is read for the statistics: one error
 * (exit 2) listing the datasets the cache has. Looks at the shards' metadata only, stopping at
 * the first sample that has it.
 */
async function checkDatasetExists(dir: string, dataset: string): Promise<void> {
  // The common case, cheaply: the first sample has it.
  const cache = await openCache(dir);
  try {
    const first = cache.keys()[0];
    if (first === undefined) return;
    await cache.get(first, { datasets: [dataset], frames: [0, 1] });
    return;
  } catch {
    // It lacks it (or cannot be read): look through the shards' metadata.
  } finally {
    cache.close();
  }
  const seen = new Set<string>();
  for await (const entry of listCache(dir)) {
    if (!entry.datasets) continue;
    if (Object.hasOwn(entry.datasets, dataset)) return;
    for (const name of Object.keys(entry.datasets)) seen.add(name);
  }
  if (seen.size === 0) return; // nothing readable: computeStats names the problem
  throw new UsageError(
    `--dataset ${JSON.stringify(dataset)}: no sample of ${dir} has it; its datasets: ${
      [...seen].sort().join(", ")
    }`,
  );
}

export const statsCommand: Command = {
  name: "stats",
  summary: "Per-dimension mean, variance and std of a dataset over every frame (for normalising)",
  args: "<processed_dir>",
  description:
    "Reads every sample's <dataset> and computes, per feature dimension (the last axis: 80 for\n" +
    "mel_spectrogram (1, T, 80), 1024 for hidden_states (T, 1024)), the mean, the population\n" +
    "variance (ddof 0) and the std over every frame, in float64, plus the same over all values\n" +
    "pooled. NaN and inf are counted and left out. The JSON has the fields of the original\n" +
    "compute_mel_statistics.py (sample_count, total_frames, mel_dim, per_dimension_stats,\n" +
    "global_stats: the mean over dimensions of the per-dimension mean, variance and std) plus\n" +
    "pooled_stats (every value pooled), dataset, nan_count, inf_count and\n" +
    "samples_without_dataset. The result does not depend on --workers. A dataset no sample\n" +
    "has is refused (exit 2) with the datasets the cache holds.",
  options: {
    dataset: {
      type: "string",
      value: "NAME",
      help: "dataset to summarise (required), e.g. mel_spectrogram",
    },
    out: { type: "string", short: "o", value: "FILE", help: "write the JSON here (else stdout)" },
    workers: {
      type: "string",
      value: "N",
      help: "reader workers, 0 = this thread (default: cores, at most 2)",
      check: (text) => /^\d+$/.test(text) ? undefined : "an integer >= 0",
    },
  },
  minArgs: 1,
  maxArgs: 1,
  examples: [
    "h5shard stats data/processed_maskgct/ljspeech --dataset mel_spectrogram --out mel_stats.json",
    "h5shard stats cache --dataset hidden_states > hidden_stats.json",
  ],
  async run(ctx) {
    const [dir] = ctx.args;
    const dataset = ctx.values.dataset;
    if (typeof dataset !== "string") throw new UsageError("--dataset is required");
    const workers = typeof ctx.values.workers === "string" ? Number(ctx.values.workers) : undefined;
    const out = ctx.values.out;
    if (typeof out === "string") checkOutFile(out, undefined, "stats");
    await checkDatasetExists(dir, dataset);
    let missing = 0;
    const bar = new ProgressBar("stats", undefined, ctx.progress);
    const report = await computeStats(dir, {
      dataset,
      workers,
      onProgress: (done, total) => {
        bar.total = total;
        bar.update(done);
      },
      onWarning: (message) => {
        // "sample X has no D", once per such sample: the first few named, the rest counted.
        if (message.endsWith(` has no ${dataset}`) && ++missing > MISSING_NAMED) return;
        ctx.err(`warning: ${message}`);
      },
    });
    bar.finish();
    if (missing > MISSING_NAMED) {
      ctx.err(
        `warning: ${missing - MISSING_NAMED} more samples have no ${dataset} ` +
          `(${missing} in all: samples_without_dataset)`,
      );
    }
    const json = JSON.stringify(report, null, 2);
    if (typeof out !== "string") {
      ctx.out(json);
      return 0;
    }
    await Deno.writeTextFile(out, json + "\n");
    const g = report.global_stats;
    const odd = report.nan_count + report.inf_count
      ? `; ${report.nan_count} NaN and ${report.inf_count} inf left out`
      : "";
    ctx.out(
      `${out}: ${dataset} over ${report.sample_count} samples, ${report.total_frames} frames, ` +
        `dim ${report.mel_dim}; global mean ${g.mean.toPrecision(5)}, std ${
          g.std.toPrecision(5)
        }${odd}`,
    );
    return 0;
  },
};
