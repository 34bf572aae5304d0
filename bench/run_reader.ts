/**
 * h5shard's reader doing what bench/h5py_reader.py does: the same plan, whole samples or 50-frame
 * windows (hidden_states rows, mel_spectrogram's time axis), in its own process.
 *
 * usage: deno run -A bench/run_reader.ts PROCESSED_DIR PLAN_JSON whole|slice
 * Prints one JSON line like bench/h5py_reader.py.
 */
import { peakRssKiB } from "./peak_rss.ts";
import type { ReadPlan } from "./data.ts";

interface Shaped {
  shape: number[];
}

interface CacheReader {
  get(
    key: string,
    options?: { datasets?: string[]; frames?: [number, number] },
  ): Promise<unknown> | unknown;
  close(): Promise<void> | void;
}

type OpenCache = (dir: string, options: { maxOpenFiles: number }) => Promise<CacheReader>;

/** Elements in whatever get() returns: a record of tensors, or an object with `tensors`. */
function elementsOf(result: unknown): number {
  const obj = result as Record<string, unknown>;
  const tensors = (obj.tensors ?? obj) as Record<string, Shaped>;
  let n = 0;
  for (const t of Object.values(tensors)) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

const [dir, planPath, mode] = Deno.args;
if (!dir || !planPath || (mode !== "whole" && mode !== "slice")) {
  throw new TypeError(`usage: run_reader.ts DIR PLAN whole|slice (got ${JSON.stringify(mode)})`);
}
const plan: ReadPlan = JSON.parse(await Deno.readTextFile(planPath));
// Until ops/cache_reader.ts lands the specifier stays opaque to the type checker.
const specifier = "../ops/cache_reader.ts";
const { openCache } = (await import(specifier)) as { openCache: OpenCache };
const t0 = performance.now();
const cache = await openCache(dir, { maxOpenFiles: 8 });
const t1 = performance.now();
let elements = 0;
for (const [key, start] of plan.reads) {
  const got = mode === "whole"
    ? await cache.get(key)
    : await cache.get(key, { frames: [start, start + plan.frames] });
  elements += elementsOf(got);
}
const seconds = (performance.now() - t1) / 1000;
await cache.close();
console.log(JSON.stringify({
  reads: plan.reads.length,
  elements,
  open_seconds: (t1 - t0) / 1000,
  seconds,
  peak_rss_kib: peakRssKiB(),
}));
