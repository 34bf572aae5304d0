/**
 * One h5shard migrate in its own process, so each run's peak RSS is its own.
 *
 * usage: deno run -A bench/run_migrate.ts --npz-dir D --out-dir D [--workers N] [--shuffle]
 * Prints one JSON line: samples, failed, shards, input_bytes, output_bytes, seconds (measured
 * here around migrate()), migrate_seconds (migrate's own), peak_rss_kib.
 */
import { parseArgs } from "../deps.ts";
import { peakRssKiB } from "./peak_rss.ts";

interface MigrateResult {
  samples: number;
  failed: number;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  shards: number;
}

type Migrate = (options: {
  npzDir: string;
  processedDir: string;
  plugin: string;
  overrides: Record<string, unknown>;
}) => Promise<MigrateResult>;

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
// Until ops/migrate.ts lands the specifier stays opaque to the type checker.
const specifier = "../ops/migrate.ts";
const { migrate } = (await import(specifier)) as { migrate: Migrate };
const t0 = performance.now();
const r = await migrate({
  npzDir,
  processedDir: outDir,
  plugin: "ljspeech",
  overrides: { num_save_workers: Number(values.workers), shuffle: values.shuffle },
});
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  samples: r.samples,
  failed: r.failed,
  shards: r.shards,
  input_bytes: r.inputBytes,
  output_bytes: r.outputBytes,
  seconds,
  migrate_seconds: r.seconds,
  peak_rss_kib: peakRssKiB(),
}));
