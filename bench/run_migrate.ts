/**
 * One h5shard migrate in its own process, so each run's peak RSS is its own.
 *
 * usage: deno run -A bench/run_migrate.ts --npz-dir D --out-dir D [--workers N] [--shuffle]
 * Prints one JSON line: samples, failed, shards, workers, input_bytes, output_bytes, seconds (measured
 * here around migrate()), migrate_seconds (migrate's own), peak_rss_kib.
 */
import { parseArgs } from "../deps.ts";
import { migrate } from "../ops/migrate.ts";
import { peakRssKiB } from "./peak_rss.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "npz-dir": { type: "string" },
    "out-dir": { type: "string" },
    workers: { type: "string", default: "2" },
    shuffle: { type: "boolean", default: false },
  },
  strict: true,
});
const npzDir = values["npz-dir"];
const outDir = values["out-dir"];
if (!npzDir || !outDir) throw new TypeError("--npz-dir and --out-dir are required");
const t0 = performance.now();
const r = await migrate({
  npzDir,
  processedDir: outDir,
  plugin: "ljspeech",
  preprocessing: { num_save_workers: Number(values.workers), shuffle: values.shuffle },
});
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  samples: r.samples,
  failed: r.failed,
  shards: r.shards,
  workers: r.workers,
  input_bytes: r.inputBytes,
  output_bytes: r.outputBytes,
  seconds,
  migrate_seconds: r.seconds,
  peak_rss_kib: peakRssKiB(),
}));
