/**
 * Partitions of a run for array jobs (Kubernetes Indexed Jobs, Slurm arrays): task `i` of `N`
 * takes a contiguous range of the sorted key list. Ranges are whole multiples of
 * `samples_per_hdf5` (only the last may hold less), so every partition but the last fills its
 * shards exactly and `merge` can link those shards as they are. Pure: every task computes the
 * same split from the same key list, with no coordination.
 *
 * @module
 */
import { readCacheMetadata } from "../cache/cache_metadata.ts";
import { ConfigError } from "../errors.ts";

/** Partition `index` of `count`, 0-based as Kubernetes and Slurm count array tasks. */
export interface Partition {
  index: number;
  count: number;
}

/** The share of one partition: ranks `start` (inclusive) to `end` (exclusive) of `total` keys. */
export interface PartitionRange extends Partition {
  /** Keys in the whole sorted list. */
  total: number;
  start: number;
  end: number;
}

/** Largest accepted partition count (a shard number has 5 digits: no run needs more tasks). */
export const MAX_PARTITIONS = 99999;

/**
 * Parses `"i/N"` (as in `--partition $JOB_COMPLETION_INDEX/4`). `what` names the option in
 * the {@linkcode ConfigError} thrown for anything else.
 *
 * @example
 * ```ts
 * import { parsePartition } from "./partition.ts";
 *
 * const p = parsePartition("2/8");
 * if (p.index !== 2 || p.count !== 8) throw new Error("parsed wrong");
 * ```
 */
export function parsePartition(text: string, what = "--partition"): Partition {
  const problem = partitionProblem(text);
  if (problem) throw new ConfigError(what, text, problem);
  const [index, count] = String(text).split("/").map(Number);
  return { index, count };
}

/** What `"i/N"` text should be when `text` is not that, else undefined (for option checks). */
export function partitionProblem(text: string): string | undefined {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(String(text));
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_PARTITIONS) {
    return `i/N with N from 1 to ${MAX_PARTITIONS} and 0 <= i < N, e.g. "0/4" ` +
      `(Kubernetes: $JOB_COMPLETION_INDEX/N; Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)`;
  }
  if (index >= count) {
    return `an index from 0 to ${count - 1} (tasks count from 0; got index ${index} of ${count})`;
  }
  return undefined;
}

/**
 * The range of partition `p` over `total` sorted keys: the ceil(total / samplesPerShard) shard
 * blocks are dealt out as evenly as whole blocks allow; a partition may be empty when there
 * are fewer blocks than partitions.
 *
 * @example
 * ```ts
 * import { partitionRange } from "./partition.ts";
 *
 * // 10 shards of 100 over 3 tasks: 3, 3 and 4 shards, the last one partial.
 * const r = partitionRange(950, { index: 2, count: 3 }, 100);
 * if (r.start !== 600 || r.end !== 950) throw new Error(`${r.start}..${r.end}`);
 * ```
 */
export function partitionRange(
  total: number,
  p: Partition,
  samplesPerShard: number,
): PartitionRange {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new RangeError(`partitionRange: total must be an integer >= 0, got ${total}`);
  }
  if (!Number.isSafeInteger(samplesPerShard) || samplesPerShard < 1) {
    throw new RangeError(
      `partitionRange: samplesPerShard must be an integer >= 1, got ${samplesPerShard}`,
    );
  }
  if (
    !Number.isSafeInteger(p.count) || p.count < 1 || !Number.isSafeInteger(p.index) ||
    p.index < 0 || p.index >= p.count
  ) {
    throw new RangeError(`partitionRange: expected 0 <= index < count, got ${p.index}/${p.count}`);
  }
  const blocks = Math.ceil(total / samplesPerShard);
  const first = Math.floor(p.index * blocks / p.count);
  const last = Math.floor((p.index + 1) * blocks / p.count);
  return {
    ...p,
    total,
    start: Math.min(first * samplesPerShard, total),
    end: Math.min(last * samplesPerShard, total),
  };
}

/**
 * The keys of partition `p` of `sortedKeys` (the list every task of the array sees in the same
 * order), with its range for `metadata.json`.
 *
 * @example
 * ```ts
 * import { partitionKeys } from "./partition.ts";
 *
 * const keys = ["a", "b", "c", "d", "e"];
 * const { keys: mine } = partitionKeys(keys, { index: 1, count: 2 }, 2);
 * // Three shard blocks (ab, cd, e) over two tasks: one, then two.
 * if (mine.join() !== "c,d,e") throw new Error(mine.join());
 * ```
 */
export function partitionKeys(
  sortedKeys: readonly string[],
  p: Partition,
  samplesPerShard: number,
): { keys: string[]; range: PartitionRange } {
  const range = partitionRange(sortedKeys.length, p, samplesPerShard);
  return { keys: sortedKeys.slice(range.start, range.end), range };
}

/**
 * Refuses to continue a processed_dir with another partition than the one it was written
 * with (another `i/N`, or the same one over a key list that changed and so moved the range):
 * `metadata.json` records it. A directory without one passes.
 */
export function checkSamePartition(processedDir: string, range: PartitionRange): void {
  const previous = readCacheMetadata(processedDir)?.partition as PartitionRange | undefined;
  if (!previous) return;
  const same = previous.index === range.index && previous.count === range.count &&
    previous.start === range.start && previous.end === range.end;
  if (!same) {
    throw new ConfigError(
      "--partition",
      `${range.index}/${range.count}`,
      `${previous.index}/${previous.count} (keys ${previous.start}..${previous.end} of ` +
        `${previous.total}), as ${processedDir} was written with; now keys ${range.start}..` +
        `${range.end} of ${range.total}: write a changed split into new directories`,
    );
  }
}

/**
 * The line saying a partition got no keys and why (whole shard blocks are dealt to the
 * partitions, and there are fewer blocks than partitions), or `undefined` when it got some.
 *
 * @example
 * ```ts
 * import { emptyPartitionNote, partitionRange } from "./partition.ts";
 *
 * const note = emptyPartitionNote(partitionRange(5, { index: 0, count: 8 }, 20000), 20000, "files");
 * if (!note?.startsWith("partition 0/8 got no files")) throw new Error(note);
 * ```
 */
export function emptyPartitionNote(
  range: PartitionRange,
  samplesPerShard: number,
  what = "samples",
): string | undefined {
  if (range.end > range.start) return undefined;
  const blocks = Math.ceil(range.total / samplesPerShard);
  return `partition ${range.index}/${range.count} got no ${what}: the ${range.total} ${what} ` +
    `fill ${blocks} shard(s) of samples_per_hdf5 = ${samplesPerShard}, and whole shards are ` +
    `dealt to the ${range.count} partitions, so ${range.count - blocks} of them get none. ` +
    `Its cache holds no samples; merge takes it as it is`;
}
