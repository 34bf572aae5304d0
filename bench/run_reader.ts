/**
 * h5shard's reader doing what bench/h5py_reader.py does: the same plan, whole samples or 50-frame
 * windows (hidden_states rows, mel_spectrogram's time axis), in its own process.
 *
 * usage: deno run -A bench/run_reader.ts PROCESSED_DIR PLAN_JSON whole|slice
 * Prints one JSON line like bench/h5py_reader.py.
 */
import { openCache } from "../ops/cache_reader.ts";
import type { ReadPlan } from "./data.ts";
import { peakRssKiB } from "./peak_rss.ts";

const [dir, planPath, mode] = Deno.args;
if (!dir || !planPath || (mode !== "whole" && mode !== "slice")) {
  throw new TypeError(`usage: run_reader.ts DIR PLAN whole|slice (got ${JSON.stringify(mode)})`);
}
const plan: ReadPlan = JSON.parse(await Deno.readTextFile(planPath));
const t0 = performance.now();
const cache = await openCache(dir, { maxOpenFiles: 8 });
const t1 = performance.now();
let elements = 0;
for (const [key, start] of plan.reads) {
  const got = mode === "whole"
    ? await cache.get(key)
    : await cache.get(key, { frames: [start, start + plan.frames] });
  for (const t of Object.values(got)) elements += t.data.length;
}
const seconds = (performance.now() - t1) / 1000;
cache.close();
console.log(JSON.stringify({
  reads: plan.reads.length,
  elements,
  open_seconds: (t1 - t0) / 1000,
  seconds,
  peak_rss_kib: peakRssKiB(),
}));
