/**
 * The worker side of {@linkcode computeStats}: {@linkcode statsTask} opens the cache once, then
 * accumulates the units it is sent (a note per sample done, then the unit's moments).
 * `workers/stats_worker.ts` serves it through the one worker runtime, so a failure comes back
 * with its class, fields and cause.
 *
 * @module
 */
import { type CacheReader, openCache } from "./cache_reader.ts";
import { type StatsRequest, unitMoments, type UnitResult } from "./stats.ts";
import type { TaskResult } from "../util/worker_pool.ts";

let cache: CacheReader | undefined;

/** One unit: its moments, with `progress` called once per sample done. */
export async function statsTask(
  req: StatsRequest,
  progress: (note: unknown) => void,
): Promise<TaskResult<UnitResult>> {
  const { dir, dataset, keys, maxOpenFiles } = req;
  cache ??= await openCache(dir, { maxOpenFiles });
  return { value: await unitMoments(cache, dataset, keys, () => progress(1)) };
}
