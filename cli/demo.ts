/**
 * `h5shard demo`: the whole job on a built-in example, with a short report.
 *
 * @module
 */
import { writeExampleCache } from "../ops/example_cache.ts";
import { migrate } from "../ops/migrate.ts";
import { join } from "../stages/path.ts";
import { ProgressBar } from "./progress.ts";
import { NPZ_KEYS, WRITE_KEYS } from "../config/schema.ts";
import { type Command, effectiveConfig, formatBytes, UsageError } from "./command.ts";
import { printVerifyReport, runVerify } from "./verify.ts";

const MARKER = ".h5shard-demo";

/** Makes `dir` ready for the demo without ever deleting anything the demo did not make. */
async function prepare(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (entries.length && !entries.includes(MARKER)) {
    throw new UsageError(
      `${dir} exists and was not made by the demo; give an empty or new directory`,
    );
  }
  for (const sub of ["npz_cache", "processed"]) {
    await Deno.remove(join(dir, sub), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, MARKER), "made by h5shard demo; safe to delete\n");
}

function pct(part: number, whole: number): string {
  return `${((1 - part / whole) * 100).toFixed(0)}%`;
}

export const demoCommand: Command = {
  name: "demo",
  summary: "Build a small LJSpeech-like NPZ cache, migrate it to HDF5, verify it, report",
  args: "[dir]",
  description:
    "Writes a legacy cache of synthetic but realistic features into [dir]/npz_cache (default\n" +
    "dir: demo_out; LJSpeech keys, hidden_states (T, 1024) and mel_spectrogram (1, T, 80) in\n" +
    "float32, half savez and half savez_compressed), migrates it into [dir]/processed with the\n" +
    "standard pipeline (float16, gzip 4, 25 samples per shard unless overridden), verifies every\n" +
    "value against the NPZ files, and prints sizes and throughput.",
  options: {
    samples: {
      type: "string",
      value: "N",
      help: "utterances to generate, 1..5000 (default 64)",
      check: (text) =>
        /^\d+$/.test(text) && +text >= 1 && +text <= 5000 ? undefined : "an integer 1..5000",
    },
  },
  config: [...WRITE_KEYS, ...NPZ_KEYS],
  minArgs: 0,
  maxArgs: 1,
  examples: ["h5shard demo", "h5shard demo /tmp/h5demo --samples 400 --num-save-workers 1"],
  async run(ctx) {
    const dir = ctx.args[0] ?? "demo_out";
    const samples = Number(ctx.values.samples ?? "64");
    const config = await effectiveConfig(ctx);
    const preprocessing = { ...config.preprocessing };
    if (!("samples-per-hdf5" in ctx.overrides)) preprocessing.samples_per_hdf5 = 25;
    await prepare(dir);
    const npzDir = join(dir, "npz_cache");
    const processed = join(dir, "processed");

    const genBar = new ProgressBar("example cache", samples, { ...ctx.progress, unit: "files" });
    const example = await writeExampleCache(npzDir, {
      samples,
      onProgress: (done) => genBar.update(done),
    });
    genBar.finish();

    const bar = new ProgressBar("migrate", samples, ctx.progress);
    const run = await migrate({
      npzDir,
      processedDir: processed,
      plugin: "ljspeech",
      preprocessing,
      onProgress: (s) => bar.update(s.written + s.skipped + s.failed),
      onWarning: (m) => ctx.err(`warning: ${m}`),
    });
    bar.finish();
    const verified = await runVerify(processed, npzDir, "ljspeech");
    const indexBytes = (await Deno.stat(join(processed, "hdf5_index.json"))).size;
    const f16Bytes = preprocessing.use_float16 ? example.float32Bytes / 2 : example.float32Bytes;

    ctx.out("");
    ctx.out("h5shard demo: legacy NPZ cache -> sharded HDF5 cache");
    ctx.out(
      `  NPZ cache    ${npzDir}: ${example.files} files, ${formatBytes(example.npzBytes)} ` +
        `(half savez, half savez_compressed)`,
    );
    ctx.out(
      `  HDF5 cache   ${processed}: ${run.totalSamples} samples in ${run.shards} shards ` +
        `(${preprocessing.samples_per_hdf5} per shard), ${formatBytes(run.outputBytes)} + index ${
          formatBytes(indexBytes)
        }`,
    );
    ctx.out(
      `  features     float32 ${formatBytes(example.float32Bytes)}` +
        (preprocessing.use_float16
          ? ` -> float16 ${formatBytes(f16Bytes)} (-${pct(f16Bytes, example.float32Bytes)})`
          : "") +
        ` -> gzip ${preprocessing.compression_level}: ${formatBytes(run.storedBytes)} ` +
        `(-${pct(run.storedBytes, f16Bytes)} more)`,
    );
    ctx.out(
      `  on disk      HDF5 cache is ${
        (run.outputBytes / example.npzBytes).toFixed(2)
      }x the NPZ cache ` +
        `(-${pct(run.outputBytes, example.npzBytes)})`,
    );
    ctx.out(
      `  migrate      ${run.seconds.toFixed(2)} s, ${
        (run.inputBytes / 1e6 / run.seconds).toFixed(0)
      } MB/s of float32 input, ${(run.written / run.seconds).toFixed(0)} samples/s, ` +
        `${run.workers} deflate worker(s); ${run.failed} failed`,
    );
    const status = printVerifyReport(ctx, `  verify       ${processed}`, verified);
    ctx.out("");
    ctx.out("Read it from Python:");
    ctx.out("  import h5py, json");
    ctx.out(`  index = json.load(open("${processed}/hdf5_index.json"))["sample_index"]`);
    ctx.out(`  e = index["LJ001-0001"]`);
    ctx.out(`  f = h5py.File("${processed}/features_%05d.h5" % e["file_idx"], "r")`);
    ctx.out(`  hs = f[e["group_name"]]["hidden_states"][:]   # (T, 1024) float16`);
    return status || (run.failed ? 1 : 0);
  },
};
