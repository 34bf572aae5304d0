/**
 * The named checks a cache is judged by, each returning typed {@linkcode CacheProblem}s:
 * the index against itself ({@linkcode checkIndex}), the shard files against the index
 * ({@linkcode checkShardFiles}), the groups of a shard against the index
 * ({@linkcode checkShardGroups}) and one indexed sample in its shard ({@linkcode checkSample}).
 * `verify` runs them all and decompresses every dataset; `inspect` runs the cheap ones.
 *
 * Shards are read through {@linkcode ShardReader}, whose native side looks names up the way
 * HDF5 does, so a sample a check finds is one h5py finds.
 *
 * @module
 */
import { errorMessage, FormatError } from "../errors.ts";
import { INDEX_FILE, shardFileName, type ShardIndex } from "../formats/shard_index.ts";
import type { ShardReader } from "../formats/shard_reader.ts";
import type { Tensor } from "../formats/tensor.ts";

/** What can be wrong with a cache: the cache is unsound while any of these is found. */
export type CacheProblemKind =
  | "count_mismatch"
  | "beyond_current_file"
  | "missing_shard"
  | "unreadable_shard"
  | "unreadable_group"
  | "unindexed_group"
  | "missing_group"
  | "empty_group"
  | "unreadable_dataset"
  | "missing_sample"
  | "missing_in_source"
  | "missing_dataset"
  | "value_mismatch"
  | "non_finite";

/** What is odd but readable. */
export type CacheWarningKind =
  | "group_name_differs"
  | "unreferenced_shard"
  | "short_shard"
  | "overfull_shard"
  | "superseded_copy"
  | "expected_failed"
  | "non_finite";

/** One thing wrong (or odd) in a cache, naming where. */
export interface CacheProblem<K extends string = CacheProblemKind | CacheWarningKind> {
  kind: K;
  /** Shard file name, e.g. `features_00001.h5` (or `hdf5_index.json`). */
  file?: string;
  key?: string;
  dataset?: string;
  /** Byte offset of the damaged structure in `file`, when the reader knows it. */
  offset?: number;
  message: string;
}

/** Problems and warnings found by a check. */
export interface CheckResult {
  problems: CacheProblem<CacheProblemKind>[];
  warnings: CacheProblem<CacheWarningKind>[];
}

/** Group path (`/key`) -> key, per shard number, from the index. */
export type GroupsByShard = Map<number, Map<string, string>>;

/** The index's entries grouped by shard. */
export function groupsByShard(index: ShardIndex): GroupsByShard {
  const byShard: GroupsByShard = new Map();
  for (const [key, e] of Object.entries(index.sample_index)) {
    let groups = byShard.get(e.file_idx);
    if (!groups) byShard.set(e.file_idx, groups = new Map());
    groups.set(`/${e.group_name}`, key);
  }
  return byShard;
}

/** The index against itself: counts, `current_file_*`, shard fill, group names. */
export function checkIndex(index: ShardIndex): CheckResult {
  const out: CheckResult = { problems: [], warnings: [] };
  const byShard = groupsByShard(index);
  for (const [key, e] of Object.entries(index.sample_index)) {
    if (e.group_name !== key) {
      out.warnings.push({
        kind: "group_name_differs",
        file: shardFileName(e.file_idx),
        key,
        message: `index entry ${JSON.stringify(key)} names group ${JSON.stringify(e.group_name)}`,
      });
    }
  }
  const { current_file_idx: currentIdx, current_file_count: currentCount } = index;
  const perFile = index.samples_per_file;
  const actual = byShard.get(currentIdx)?.size ?? 0;
  if (actual !== currentCount) {
    out.problems.push({
      kind: "count_mismatch",
      file: INDEX_FILE,
      message:
        `current_file_count is ${currentCount} but ${actual} entries have file_idx ${currentIdx}`,
    });
  }
  for (const [n, groups] of [...byShard].sort((a, b) => a[0] - b[0])) {
    const name = shardFileName(n);
    if (n > currentIdx) {
      out.problems.push({
        kind: "beyond_current_file",
        file: INDEX_FILE,
        message: `${groups.size} entries point at ${name}, beyond current_file_idx ${currentIdx}`,
      });
    } else if (n < currentIdx && groups.size < perFile) {
      out.warnings.push({
        kind: "short_shard",
        file: name,
        message: `${name} holds ${groups.size} indexed samples, fewer than samples_per_file ` +
          `${perFile}, and is not the last shard`,
      });
    } else if (groups.size > perFile) {
      out.warnings.push({
        kind: "overfull_shard",
        file: name,
        message:
          `${name} holds ${groups.size} indexed samples, more than samples_per_file ${perFile}`,
      });
    }
  }
  return out;
}

/** Shard files on disk (`present`, by number) against those the index names. */
export function checkShardFiles(index: ShardIndex, present: ReadonlySet<number>): CheckResult {
  const out: CheckResult = { problems: [], warnings: [] };
  const byShard = groupsByShard(index);
  for (const n of [...new Set([...byShard.keys(), ...present])].sort((a, b) => a - b)) {
    const name = shardFileName(n);
    if (!present.has(n)) {
      out.problems.push({
        kind: "missing_shard",
        file: name,
        message: `${name} is missing; ${byShard.get(n)!.size} indexed samples point at it`,
      });
    } else if (!byShard.has(n)) {
      out.warnings.push({
        kind: "unreferenced_shard",
        file: name,
        message: `${name} is not referenced by ${INDEX_FILE}`,
      });
    }
  }
  return out;
}

/** Groups of a shard that hold datasets, with their dataset names; and the parts unreadable. */
export interface ShardGroups {
  /** Group path -> dataset names, for every group holding at least one dataset. */
  groups: Map<string, string[]>;
  /** Groups whose members could not be listed (damage). */
  unreadable: CacheProblem<"unreadable_group">[];
}

/** Walks every group of the shard `reader` (named `file` in problems). */
export function shardGroups(reader: ShardReader, file: string): ShardGroups {
  const out: ShardGroups = { groups: new Map(), unreadable: [] };
  const walk = (group: string) => {
    let names: string[];
    try {
      names = reader.names(group);
    } catch (e) {
      const where = group === "/" ? {} : { key: group.slice(1) };
      out.unreadable.push(problemOf("unreadable_group", e, file, where));
      return;
    }
    const datasets: string[] = [];
    for (const name of names) {
      const path = group === "/" ? `/${name}` : `${group}/${name}`;
      let kind;
      try {
        kind = reader.kind(path);
      } catch {
        // A damaged object header: counted as a dataset here, reported by checkSample (for
        // an indexed sample) or as part of an unindexed group.
        kind = "dataset";
      }
      if (kind === "group") walk(path);
      else datasets.push(name);
    }
    if (datasets.length && group !== "/") out.groups.set(group, datasets);
  };
  walk("/");
  return out;
}

/**
 * Groups of shard `n` that hold datasets but are not indexed there: a superseded copy when
 * the index puts the key in another shard (warning), else unindexed (problem).
 */
export function checkShardGroups(
  found: ShardGroups,
  n: number,
  byShard: GroupsByShard,
): CheckResult {
  const out: CheckResult = { problems: [...found.unreadable], warnings: [] };
  const file = shardFileName(n);
  const indexed = byShard.get(n) ?? new Map<string, string>();
  for (const group of found.groups.keys()) {
    if (indexed.has(group)) continue;
    const key = group.slice(1);
    const other = [...byShard].find(([, groups]) => groups.has(group))?.[0];
    if (other !== undefined) {
      out.warnings.push({
        kind: "superseded_copy",
        file,
        key,
        message: `${file}:${group} is a superseded copy; the index points at ${
          shardFileName(other)
        }`,
      });
    } else {
      out.problems.push({
        kind: "unindexed_group",
        file,
        key,
        message: `${file}:${group} holds datasets but is not in ${INDEX_FILE}`,
      });
    }
  }
  return out;
}

/** What {@linkcode checkSample} found. */
export interface SampleCheck {
  problems: CacheProblem<CacheProblemKind>[];
  /** Datasets of the sample that read whole. */
  datasets: string[];
}

/**
 * The indexed sample `key` (group `group`) in shard `reader`: its group is found by HDF5's
 * lookup path, and each of its datasets reads whole (every chunk present, inflating to its
 * size) unless `decompress` is false, when only its header is checked. `datasets` narrows the
 * check to names already known (a walk of the shard). `onRead` sees each dataset decompressed.
 */
export function checkSample(
  reader: ShardReader,
  file: string,
  group: string,
  key: string,
  decompress = true,
  onRead?: (dataset: string, tensor: Tensor) => void,
): SampleCheck {
  const out: SampleCheck = { problems: [], datasets: [] };
  let kind;
  try {
    kind = reader.kind(group);
  } catch (e) {
    out.problems.push(problemOf("unreadable_group", e, file, { key }));
    return out;
  }
  if (kind !== "group") {
    out.problems.push({
      kind: "missing_group",
      file,
      key,
      message: `${file} has no group ${group} for indexed key ${JSON.stringify(key)}` +
        (kind ? ` (a ${kind} is there)` : ""),
    });
    return out;
  }
  let names: string[];
  try {
    names = reader.names(group);
  } catch (e) {
    out.problems.push(problemOf("unreadable_group", e, file, { key }));
    return out;
  }
  for (const name of names) {
    const path = `${group}/${name}`;
    try {
      const kind = reader.kind(path);
      if (kind === "group") continue;
      // A sample group holds datasets (and groups of nested keys): anything else is a
      // dataset whose header HDF5 cannot make sense of either.
      if (kind !== "dataset") reader.describe(path);
      if (decompress) onRead?.(name, reader.read(path));
      else reader.describe(path);
      out.datasets.push(name);
    } catch (e) {
      out.problems.push(problemOf("unreadable_dataset", e, file, { key, dataset: name }));
    }
  }
  if (!out.datasets.length && !out.problems.length) {
    out.problems.push({
      kind: "empty_group",
      file,
      key,
      message: `${file}:${group} (indexed as ${JSON.stringify(key)}) holds no datasets`,
    });
  }
  return out;
}

/** A problem of `kind` from a caught error, carrying its offset when it has one. */
export function problemOf<K extends CacheProblemKind>(
  kind: K,
  e: unknown,
  file: string,
  where: { key?: string; dataset?: string } = {},
): CacheProblem<K> {
  const located = e instanceof FormatError
    ? { key: where.key ?? e.key, dataset: where.dataset ?? e.dataset }
    : where;
  const p: CacheProblem<K> = { kind, file, ...where, message: naming(errorMessage(e), located) };
  if (e instanceof FormatError && e.offset !== undefined) p.offset = e.offset;
  return p;
}

/**
 * `message` naming the sample key and dataset it is about, when it does not already: a lower
 * layer's "object header at offset N: ..." says nothing of which sample to re-make.
 *
 * @example
 * ```ts
 * import { naming } from "./cache_checks.ts";
 * const m = naming("f.h5: chunk dims [0,16] hold a 0", { key: "a", dataset: "hidden_states" });
 * if (m !== 'f.h5: sample "a" dataset "hidden_states": chunk dims [0,16] hold a 0') throw new Error(m);
 * ```
 */
export function naming(message: string, where: { key?: string; dataset?: string }): string {
  const parts: string[] = [];
  if (where.key !== undefined && !message.includes(JSON.stringify(where.key))) {
    parts.push(`sample ${JSON.stringify(where.key)}`);
  }
  if (where.dataset !== undefined) {
    const name = where.dataset.split("/").pop()!;
    if (
      !message.includes(JSON.stringify(where.dataset)) && !message.includes(JSON.stringify(name))
    ) {
      parts.push(`dataset ${JSON.stringify(where.dataset)}`);
    }
  }
  if (parts.length === 0) return message;
  // After the file name the message starts with, when it does: "<file>: sample ...: <reason>".
  const at = message.indexOf(".h5: ");
  return at < 0
    ? `${parts.join(" ")}: ${message}`
    : `${message.slice(0, at + 5)}${parts.join(" ")}: ${message.slice(at + 5)}`;
}
