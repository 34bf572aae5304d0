/**
 * The worker of {@linkcode computeStats}: opens the cache once, then accumulates the units it
 * is sent (a note per sample done, then the unit's moments). Served through the one worker
 * runtime ({@linkcode serveTasks}), so a failure comes back with its class, fields and cause.
 *
 * @module
 */
import { type CacheReader, openCache } from "./cache_reader.ts";
import { type StatsRequest, unitMoments, type UnitResult } from "./stats.ts";
import { serveTasks, type TaskResult } from "../workers/worker_pool.ts";

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

serveTasks(import.meta, statsTask);
