/**
 * `h5shard verify`: check a cache end to end.
 *
 * @module
 */
import {
  readCacheMetadata,
  recordedDataset as recordedDatasetOf,
} from "../cache/cache_metadata.ts";
import { CacheError } from "../errors.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";
import { getPlugin, registeredPlugin } from "../plugins/registry.ts";
import { expectedNpz, verifyCache, type VerifyReport } from "../ops/verify.ts";
import { ProgressBar } from "./progress.ts";
import type { Command, CommandContext } from "./command.ts";

/**
 * The dataset plugin `metadata.json` of `dir` records, as written (undefined when there is none).
 * Only information: a cache never decides what code runs.
 */
export function recordedDataset(dir: string): Promise<string | undefined> {
  return Promise.resolve(recordedDatasetOf(readCacheMetadata(dir)));
}

/**
 * The plugin that reads the NPZ cache of `verify --against`: `dataset` when the user names one
 * (a name or a module path: only then is a module imported), else the built-in plugin that
 * `metadata.json` records, else ljspeech. A recorded name that is not built in or registered
 * (a module path, say) is never imported: a {@linkcode CacheError} names it and asks for
 * `--dataset`.
 */
export async function againstPlugin(dir: string, dataset?: string): Promise<DatasetPlugin> {
  if (dataset !== undefined) return await getPlugin(dataset);
  const recorded = await recordedDataset(dir);
  if (recorded === undefined) return registeredPlugin("ljspeech")!;
  const plugin = registeredPlugin(recorded);
  if (plugin) return plugin;
  throw new CacheError(
    dir,
    `metadata.json records the dataset plugin ${
      JSON.stringify(recorded)
    }, which is not built in; a plugin module named by a cache is never imported: pass --dataset ` +
      `NAME|FILE to say which plugin reads the NPZ cache`,
  );
}

/**
 * Verifies `dir` (against a legacy NPZ cache when given) with a progress bar. The plugin that
 * reads the NPZ cache is `dataset`, else the built-in one `metadata.json` records, else
 * ljspeech (see {@linkcode againstPlugin}).
 */
export async function runVerify(
  dir: string,
  against?: string,
  dataset?: string,
  strict = false,
): Promise<VerifyReport> {
  const expected = against
    ? await expectedNpz(against, await againstPlugin(dir, dataset))
    : undefined;
  const bar = new ProgressBar("verify", undefined);
  const report = await verifyCache(dir, {
    expected,
    strict,
    onProgress: (done, total) => {
      bar.total = total;
      bar.update(done);
    },
  });
  bar.finish();
  return report;
}

/** Prints a verify report; returns the exit status (1 when there is any problem). */
export function printVerifyReport(ctx: CommandContext, dir: string, report: VerifyReport): number {
  for (const w of report.warnings) ctx.err(`warning: ${w.message}`);
  for (const p of report.problems) ctx.err(`problem: ${p.message}`);
  const compared = report.compared === undefined
    ? ""
    : `, ${report.compared} compared with the source`;
  ctx.out(
    `${dir}: ${report.samples} samples, ${report.datasets} datasets in ${report.shards} shard(s)` +
      `${compared}: ` +
      (report.problems.length ? `${report.problems.length} problem(s)` : "OK"),
  );
  return report.problems.length ? 1 : 0;
}

export const verifyCommand: Command = {
  name: "verify",
  summary: "Check that a cache is complete, consistent and decompresses; optionally compare values",
  args: "<processed_dir>",
  description:
    "Checks that every index entry resolves to a group in its shard, that every sample group in a\n" +
    "shard is indexed, that the counts and current_file_* fields agree, and that every dataset\n" +
    "decompresses completely. With --against, every sample also equals the legacy NPZ source\n" +
    "cast to the stored dtype. Each problem names the file, key and dataset. NaN and inf in\n" +
    "floating datasets are counted per dataset and reported as a warning (a problem with\n" +
    "--strict). Exit status 1 when anything is wrong.",
  options: {
    against: { type: "string", value: "NPZ_DIR", help: "legacy NPZ cache to compare values with" },
    dataset: {
      type: "string",
      value: "NAME|FILE",
      help:
        "plugin that finds the NPZ files and their keys (default: the built-in one metadata.json records, else ljspeech; a module path is imported only when given here)",
    },
    json: { type: "boolean", help: "print the report as JSON on stdout" },
    strict: { type: "boolean", help: "NaN or inf in a floating dataset is a problem (exit 1)" },
  },
  minArgs: 1,
  maxArgs: 1,
  examples: [
    "h5shard verify data/processed_maskgct/ljspeech",
    "h5shard verify new/libritts --against old/libritts --dataset libritts",
  ],
  async run(ctx) {
    const [dir] = ctx.args;
    const against = ctx.values.against as string | undefined;
    const report = await runVerify(
      dir,
      against,
      ctx.values.dataset as string | undefined,
      !!ctx.values.strict,
    );
    if (ctx.values.json) {
      ctx.out(JSON.stringify(report, null, 2));
      return report.problems.length ? 1 : 0;
    }
    return printVerifyReport(ctx, dir, report);
  },
};
