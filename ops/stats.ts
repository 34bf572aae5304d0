/**
 * Normalisation statistics of one dataset of a cache: per-dimension mean, population variance
 * and std over every frame of every sample, as the original `compute_mel_statistics.py`
 * reports them. The last axis is the feature dimension (80 for `mel_spectrogram` (1, T, 80),
 * 1024 for `hidden_states` (T, 1024)); every other axis counts frames.
 *
 * The work is cut into units of at most {@linkcode UNIT_SAMPLES} keys of one shard, which Web
 * Workers take from a queue. Each unit's moments come back as float64 state and are merged in
 * unit order, so the result is the same bits whatever the number of workers.
 *
 * @module
 */
import { CacheError, KeyError, SampleError } from "../errors.ts";
import { type CacheReader, openCache } from "./cache_reader.ts";
import { Moments, type MomentsState, type MomentSummary } from "./moments.ts";
import { WorkerPool } from "../util/worker_pool.ts";

/** Options of {@linkcode computeStats}. */
export interface StatsOptions {
  /** The dataset to summarise, e.g. `mel_spectrogram`. */
  dataset: string;
  /**
   * Web Workers reading units in parallel; 0 reads on the calling thread. Default: the number
   * of cores, at most 2 (reading is inflate-bound, as deflate is; see `pack`'s workers).
   */
  workers?: number;
  /** Shard files each reader keeps open. Default 8 (a unit reads one shard). */
  maxOpenFiles?: number;
  /** Called as samples are done. */
  onProgress?: (done: number, total: number) => void;
  /** Called once per sample that lacks the dataset. */
  onWarning?: (message: string) => void;
}

/** The result, in the schema of the original `compute_mel_statistics.py` plus a few counts. */
export interface StatsReport {
  dataset: string;
  /** Samples that hold the dataset. */
  sample_count: number;
  /** Frames over those samples (product of every axis but the last). */
  total_frames: number;
  /** The feature dimension (last axis), whatever the dataset. */
  mel_dim: number;
  per_dimension_stats: { mean: number[]; variance: number[]; std: number[] };
  /**
   * As `compute_mel_statistics.py` defines it: the mean over dimensions of the per-dimension
   * mean, variance and std (what its users paste into a config as `mel_mean` / `mel_var`).
   */
  global_stats: MomentSummary;
  /** Mean, variance and std over every finite value of every dimension pooled (not the original's). */
  pooled_stats: MomentSummary;
  /** NaN values found; left out of the moments. */
  nan_count: number;
  /** +inf and -inf values found; left out of the moments. */
  inf_count: number;
  /** Indexed samples without the dataset (skipped, each named through `onWarning`). */
  samples_without_dataset: number;
}

/** Keys per unit of work. Fixed, so the merge order never depends on the worker count. */
export const UNIT_SAMPLES = 64;

/** What one unit of work returns. */
export interface UnitResult {
  /** Undefined when no sample of the unit had the dataset. */
  moments?: MomentsState;
  /** The first key that had the dataset, to name in a dimension mismatch. */
  firstKey?: string;
  /** Keys without the dataset. */
  missing: string[];
}

/**
 * Accumulates `dataset` over `keys` of an open cache, in order. A key without the dataset is
 * listed in `missing`; a sample whose feature dimension differs from the first one's throws a
 * {@linkcode SampleError}.
 */
export async function unitMoments(
  cache: CacheReader,
  dataset: string,
  keys: readonly string[],
  onSample?: () => void,
): Promise<UnitResult> {
  let moments: Moments | undefined;
  let firstKey: string | undefined;
  const missing: string[] = [];
  for (const key of keys) {
    let tensors;
    try {
      tensors = await cache.get(key, { datasets: [dataset] });
    } catch (e) {
      if (!(e instanceof KeyError) || !cache.has(key)) throw e;
      missing.push(key);
      onSample?.();
      continue;
    }
    const t = tensors[dataset];
    const dim = t.shape.at(-1);
    if (dim === undefined || dim < 1 || t.dtype === "bool") {
      throw new SampleError(
        key,
        `${t.dtype} ${JSON.stringify(t.shape)} has no feature axis to summarise ` +
          "(expected a numeric array whose last axis is the feature dimension)",
        undefined,
        dataset,
      );
    }
    if (!moments) {
      moments = new Moments(dim);
      firstKey = key;
    } else if (dim !== moments.dim) {
      throw new SampleError(
        key,
        `feature dimension ${dim} (shape ${JSON.stringify(t.shape)}) differs from ` +
          `${moments.dim} of ${JSON.stringify(firstKey)}`,
        undefined,
        dataset,
      );
    }
    moments.add(t.data);
    onSample?.();
  }
  return { moments: moments?.state(), firstKey, missing };
}

/** The keys of the cache cut into units: index order within a shard, shards in order. */
export function statsUnits(cache: CacheReader): string[][] {
  const byShard = new Map<number, string[]>();
  for (const key of cache.keys()) {
    const idx = cache.index.sample_index[key].file_idx;
    let list = byShard.get(idx);
    if (!list) byShard.set(idx, list = []);
    list.push(key);
  }
  const units: string[][] = [];
  for (const idx of [...byShard.keys()].sort((a, b) => a - b)) {
    const keys = byShard.get(idx)!;
    for (let i = 0; i < keys.length; i += UNIT_SAMPLES) {
      units.push(keys.slice(i, i + UNIT_SAMPLES));
    }
  }
  return units;
}

/**
 * Per-dimension, across-dimension (`global_stats`) and pooled mean, variance (ddof 0) and std of `dataset` over every frame of
 * every sample of the cache in `dir`.
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { computeStats } from "./stats.ts";
 * const mel = (v: number) => ({
 *   dtype: "float32" as const,
 *   shape: [4, 2],
 *   data: new Float32Array(8).fill(v),
 * });
 * const samples = [{ key: "a", tensors: { mel: mel(1) } }, { key: "b", tensors: { mel: mel(3) } }];
 * const dir = await Deno.makeTempDir();
 * await pack(ReadableStream.from(samples), dir);
 * const stats = await computeStats(dir, { dataset: "mel", workers: 0 });
 * const { mean, variance } = stats.per_dimension_stats;
 * if (stats.total_frames !== 8 || mean.join() !== "2,2" || variance.join() !== "1,1") {
 *   throw new Error(JSON.stringify(stats.per_dimension_stats));
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function computeStats(dir: string, options: StatsOptions): Promise<StatsReport> {
  const { dataset } = options;
  if (typeof dataset !== "string" || dataset === "") {
    throw new TypeError(`computeStats: dataset must be a name, got ${JSON.stringify(dataset)}`);
  }
  const workers = options.workers ?? Math.min(2, navigator.hardwareConcurrency || 1);
  if (!Number.isSafeInteger(workers) || workers < 0) {
    throw new RangeError(`computeStats: workers must be an integer >= 0, got ${workers}`);
  }
  const maxOpenFiles = options.maxOpenFiles ?? 8;
  const cache = await openCache(dir, { maxOpenFiles });
  let results: UnitResult[];
  try {
    const units = statsUnits(cache);
    const total = units.reduce((n, u) => n + u.length, 0);
    let done = 0;
    const tick = () => options.onProgress?.(++done, total);
    options.onProgress?.(0, total);
    if (workers === 0 || units.length <= 1) {
      results = [];
      for (const keys of units) results.push(await unitMoments(cache, dataset, keys, tick));
    } else {
      results = await runOnWorkers(dir, dataset, units, workers, maxOpenFiles, tick);
    }
  } finally {
    cache.close();
  }
  return summarise(dir, dataset, results, options.onWarning);
}

function summarise(
  dir: string,
  dataset: string,
  results: UnitResult[],
  onWarning?: (message: string) => void,
): StatsReport {
  let all: Moments | undefined;
  let firstKey: string | undefined;
  let missing = 0;
  for (const r of results) {
    for (const key of r.missing) onWarning?.(`sample ${JSON.stringify(key)} has no ${dataset}`);
    missing += r.missing.length;
    if (!r.moments) continue;
    if (!all) {
      all = Moments.from(r.moments);
      firstKey = r.firstKey;
    } else if (r.moments.dim !== all.dim) {
      throw new SampleError(
        r.firstKey!,
        `feature dimension ${r.moments.dim} differs from ${all.dim} of ${JSON.stringify(firstKey)}`,
        undefined,
        dataset,
      );
    } else {
      all.merge(r.moments);
    }
  }
  if (!all) throw new CacheError(dir, `no sample has a dataset ${JSON.stringify(dataset)}`);
  return {
    dataset,
    sample_count: all.batches,
    total_frames: all.frames,
    mel_dim: all.dim,
    per_dimension_stats: all.perDimension(),
    global_stats: all.acrossDimensions(),
    pooled_stats: all.global(),
    nan_count: all.nan,
    inf_count: all.inf,
    samples_without_dataset: missing,
  };
}

/** Request to a stats worker: one unit. */
export interface StatsRequest {
  dir: string;
  dataset: string;
  keys: string[];
  maxOpenFiles: number;
}

// Units go out in order on the one worker pool; each sample done is a progress note, and a
// unit's failure comes back as the error thrown there (class, key, dataset, cause).
async function runOnWorkers(
  dir: string,
  dataset: string,
  units: string[][],
  count: number,
  maxOpenFiles: number,
  tick: () => void,
): Promise<UnitResult[]> {
  const pool = new WorkerPool<StatsRequest, UnitResult>(
    new URL("../workers/stats_worker.ts", import.meta.url),
    { size: Math.min(count, units.length), perWorker: 1, name: "h5shard stats worker" },
  );
  try {
    return await Promise.all(
      units.map((keys) => pool.run({ dir, dataset, keys, maxOpenFiles }, [], tick)),
    );
  } finally {
    pool.terminate();
  }
}
