/**
 * `h5shard migrate`: a legacy NPZ cache to an HDF5 cache.
 *
 * @module
 */
import { migrate } from "../ops/migrate.ts";
import { partitionOption, partitionValue } from "./partition_option.ts";
import type { RunReport } from "../ops/pack.ts";
import { allowedFailures, type FailureLimit, NPZ_KEYS, WRITE_KEYS } from "../config/schema.ts";
import { ProgressBar, type ProgressOptions } from "./progress.ts";
import {
  type Command,
  type CommandContext,
  datasetOption,
  effectiveConfig,
  formatBytes,
  UsageError,
} from "./command.ts";
import { withSubject } from "./print_error.ts";
import { watchInterrupts } from "./interrupt.ts";

/**
 * Prints a run's summary and failures; returns the exit status: 1 when more samples failed than
 * `maxFailures` allows (`preprocessing.max_failures`, default 0), else 0.
 */
export function printRunReport(
  ctx: CommandContext,
  report: RunReport,
  dir: string,
  maxFailures: FailureLimit = 0,
  interruptStatus?: number,
): number {
  const mbps = report.inputBytes / 1e6 / Math.max(report.seconds, 1e-9);
  ctx.out(
    `stored ${report.written} samples (${report.skipped} already there, ${report.failed} failed) ` +
      `in ${report.seconds.toFixed(1)} s, ${mbps.toFixed(1)} MB/s of input`,
  );
  ctx.out(
    `${dir}: ${report.totalSamples} samples in ${report.shards} shard(s), ${
      formatBytes(report.outputBytes)
    }`,
  );
  for (const f of report.failures) ctx.err(`failed: ${withSubject(f.file ?? f.key, f.error)}`);
  if (report.interrupted) {
    ctx.err(`interrupted: ${report.written} samples stored; the same command resumes`);
    return interruptStatus ?? 130;
  }
  if (!report.failed) return 0;
  const allowed = allowedFailures(maxFailures, report.written + report.skipped + report.failed);
  const within = report.failed <= allowed;
  ctx.err(
    `${report.failed} sample(s) failed, ${
      within ? "within" : "more than"
    } --max-failures ${maxFailures} (${allowed} allowed here): see ${dir}/error_log.json and error_files.txt`,
  );
  return within ? 0 : 1;
}

/** Progress wiring shared by commands that run the write pipeline. */
export function runProgress(label: string, total?: number, options?: ProgressOptions) {
  const bar = new ProgressBar(label, total, options);
  return {
    /** Sets the total once the work is counted. */
    setTotal: (n: number) => {
      bar.total = n;
    },
    onProgress: (s: { written: number; skipped: number; failed: number }) =>
      bar.update(s.written + s.skipped + s.failed, s.failed ? `${s.failed} failed` : ""),
    finish: () => bar.finish(),
  };
}

export const migrateCommand: Command = {
  name: "migrate",
  summary: "Convert a legacy NPZ cache (one .npz per sample) into an HDF5 cache",
  args: "<npz_dir> <processed_dir>",
  description:
    "Reads <npz_dir>/<key>.npz in key order (the dataset plugin decides which files and their\n" +
    "keys), converts floats to float16 (unless --use-float16 false), compresses, and writes\n" +
    "features_NNNNN.h5 shards plus hdf5_index.json into <processed_dir>. A processed_dir that\n" +
    "already has an index is resumed: indexed keys are skipped (unless --overwrite-existing true)\n" +
    "and new samples continue the last shard. Samples that fail are listed in error_log.json and\n" +
    "error_files.txt; the rest are stored. Exit status 1 when more samples failed than\n" +
    "--max-failures allows (a count, or a percentage like 1%; default 0).",
  options: {
    dataset: datasetOption(
      "dataset plugin: ljspeech, libritts, or a module path like ./my_plugin.ts (required)",
    ),
    partition: partitionOption(),
  },
  // The zip-bomb cap guards files of unknown origin; the demo's own example needs no flag.
  config: [...WRITE_KEYS, ...NPZ_KEYS, "max_sample_bytes", "max_failures"],
  minArgs: 2,
  maxArgs: 2,
  examples: [
    "h5shard migrate data/npz_cache/ljspeech data/processed_maskgct/ljspeech --dataset ljspeech",
    "h5shard migrate old/libritts new/libritts --dataset libritts --samples-per-hdf5 5000 --num-save-workers 2",
    "h5shard migrate old new --dataset ./my_plugin.ts --config my_config.json --use-float16 false",
    "h5shard migrate old parts/part_$JOB_COMPLETION_INDEX --dataset libritts --partition $JOB_COMPLETION_INDEX/8",
  ],
  async run(ctx) {
    const [npzDir, processedDir] = ctx.args;
    const dataset = ctx.values.dataset;
    if (typeof dataset !== "string") {
      throw new UsageError("--dataset is required (ljspeech, libritts or ./plugin.ts)");
    }
    const partition = partitionValue(ctx);
    const config = await effectiveConfig(ctx);
    const progress = runProgress("migrate", undefined, ctx.progress);
    const interrupts = watchInterrupts();
    const report = await migrate({
      signal: interrupts.signal,
      npzDir,
      processedDir,
      plugin: dataset,
      partition,
      preprocessing: config.preprocessing,
      onPlan: (plan) => progress.setTotal(plan.total),
      onProgress: progress.onProgress,
      onWarning: (m) => ctx.err(`warning: ${m}`),
    }).finally(() => interrupts.dispose());
    progress.finish();
    return printRunReport(
      ctx,
      report,
      processedDir,
      config.preprocessing.max_failures,
      interrupts.status(),
    );
  },
};
