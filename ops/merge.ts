/**
 * {@linkcode merge}: partition caches (one per task of an array job) into one cache that keeps
 * the whole contract, as if one run had made it. Full shards are hard-linked (copied across
 * file systems) under their new numbers; samples of partial shards are combined into new
 * shards by copying their compressed chunks as they are, with no inflate or deflate.
 *
 * Crash safety: the plan is recorded in the target first, every shard reaches its final name
 * only when complete, and `hdf5_index.json` is written last, atomically. A killed merge leaves
 * no index, so no reader takes it for a cache, and running the same merge again finishes it.
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import { readNameTree } from "../formats/hdf5/reader/name_tree_reader.ts";
import { RawChunkReader } from "../formats/hdf5/reader/raw_chunks.ts";
import {
  INDEX_FILE,
  IndexBuilder,
  shardFileName,
  type ShardIndex,
  shardNumber,
} from "../formats/shard_index.ts";
import { syncDir, writeFileAtomic } from "../cache/atomic_write.ts";
import { DirLock } from "../cache/dir_lock.ts";
import { join } from "../util/path.ts";
import { readCacheIndexIfAny } from "../cache/cache_index.ts";
import {
  type CacheMetadata,
  readCacheMetadata,
  writeCacheMetadata,
} from "../cache/cache_metadata.ts";
import {
  type MergePart,
  type MergePlan,
  planMerge,
  readPartJson,
  type TailStep,
} from "./merge_plan.ts";

/** The plan of an unfinished merge, kept in the target until its index is written. */
export const MERGE_PLAN_FILE = ".h5shard_merge.json";

/** Options of {@linkcode merge}. */
export interface MergeOptions {
  /** The partition caches, in partition order (reordered by their recorded partition if any). */
  parts: string[];
  /** The cache to create: a new or empty directory, or the target of an unfinished merge. */
  processedDir: string;
  /** Called as samples reach the target (linked shards count all their samples at once). */
  onProgress?: (done: number, total: number) => void;
}

/** What a merge did. */
export interface MergeReport {
  /** Samples in the merged cache. */
  totalSamples: number;
  /** Shards in the merged cache. */
  shards: number;
  /** Full shards hard-linked from the parts. */
  linked: number;
  /** Full shards copied byte for byte (when a hard link was refused, e.g. across devices). */
  copied: number;
  /** Shards written from the samples of partial shards, chunks copied as stored. */
  combined: number;
  /** Shards found already in place from an earlier, killed run of this merge. */
  resumed: number;
  /** Bytes of shard files in the merged cache. */
  bytes: number;
  seconds: number;
  /** True when the target already held this finished merge (nothing was done). */
  alreadyDone: boolean;
}

interface PlanRecord {
  parts: string[];
  shards: number;
  samples: number;
}

/** A JSON object the merge reads in its target; anything else refused, naming the file. */
function readJson(path: string): Record<string, unknown> | undefined {
  const name = path.split("/").pop()!;
  const dir = path.slice(0, -name.length - 1);
  const value = readPartJson(dir, name);
  if (
    value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))
  ) {
    throw new CacheError(dir, `${path} is not a JSON object; nothing was merged`);
  }
  return value as Record<string, unknown> | undefined;
}

/** The target's `metadata.json`, undefined when absent; one that cannot be used is refused. */
function readMetadataToMerge(dir: string): CacheMetadata | undefined {
  return readCacheMetadata(dir, (problem, reason, { cause }) => {
    throw new CacheError(
      dir,
      problem === "unreadable" ? reason : `${reason}; nothing was merged`,
      { cause },
    );
  });
}

/** The plan record of an unfinished merge, checked field by field. */
function readPlanRecord(path: string): PlanRecord | undefined {
  const v = readJson(path);
  if (v === undefined) return undefined;
  if (
    !Array.isArray(v.parts) || !v.parts.every((p) => typeof p === "string") ||
    !Number.isSafeInteger(v.shards) || !Number.isSafeInteger(v.samples)
  ) {
    throw new CacheError(
      path.slice(0, path.lastIndexOf("/")),
      `${path} is not a merge plan ({parts: [dirs], shards, samples}); delete it if no merge ` +
        "is running here, then merge again. Nothing was merged",
    );
  }
  return v as unknown as PlanRecord;
}

function exists(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Merges `options.parts` into `options.processedDir`.
 *
 * Refuses, with a {@linkcode CacheError} naming the part: parts that are not caches, settings
 * that differ, overlapping keys, repeated or missing partitions; a part still locked by a live
 * writer raises `LockError`; a target that already holds another cache, or another unfinished
 * merge, is refused and left as it is; so is a finished merge of the same parts when a part has
 * changed since (merge into a new directory then). The parts are never modified (their lock
 * files aside).
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { merge } from "./merge.ts";
 * const x = { dtype: "float32" as const, shape: [3, 2], data: new Float32Array(6) };
 * const root = await Deno.makeTempDir();
 * await pack(ReadableStream.from([{ key: "a", tensors: { x } }]), `${root}/part_0`);
 * await pack(ReadableStream.from([{ key: "b", tensors: { x } }]), `${root}/part_1`);
 * const report = await merge({ parts: [`${root}/part_0`, `${root}/part_1`], processedDir: `${root}/all` });
 * if (report.totalSamples !== 2) throw new Error(`${report.totalSamples} samples`);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function merge(options: MergeOptions): Promise<MergeReport> {
  return Promise.resolve().then(() => mergeSync(options));
}

function mergeSync(options: MergeOptions): MergeReport {
  const started = performance.now();
  const target = options.processedDir;
  const parts = options.parts.map((d) => {
    const info = exists(d);
    if (!info?.isDirectory) throw new CacheError(d, "no such directory (a merge part)");
    return Deno.realPathSync(d);
  });
  const twice = parts.find((d, i) => parts.indexOf(d) !== i);
  if (twice) throw new CacheError(twice, "is given twice as a part");
  const created = missingDirs(target);
  Deno.mkdirSync(target, { recursive: true });
  try {
    return mergeInto(options, parts, started);
  } catch (e) {
    // A refused merge leaves no empty folder behind (one holding a merge plan stays, to resume).
    for (const dir of created) {
      try {
        Deno.removeSync(dir);
      } catch {
        break;
      }
    }
    throw e;
  }
}

/** The folders `mkdir -p dir` would create, deepest first. */
function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  let path = dir.replace(/\/+$/, "");
  while (path && path !== "." && exists(path) === undefined) {
    missing.push(path);
    const slash = path.lastIndexOf("/");
    if (slash <= 0) break;
    path = path.slice(0, slash);
  }
  return missing;
}

function mergeInto(options: MergeOptions, parts: string[], started: number): MergeReport {
  const target = options.processedDir;
  const targetReal = Deno.realPathSync(target);
  if (parts.includes(targetReal)) {
    throw new CacheError(target, "is also one of the parts: merge into a new directory");
  }
  const locks: DirLock[] = [];
  try {
    for (const dir of parts) locks.push(DirLock.acquire(dir));
    locks.push(DirLock.acquire(target));
    const plan = planMerge(parts);
    const record: PlanRecord = {
      parts: plan.parts.map((p) => p.dir),
      shards: plan.links.length + plan.tails.length,
      samples: plan.totalSamples,
    };
    const state = checkTarget(target, record, plan);
    if (state === "done") return finishedReport(plan, target, started, true);
    writeFileAtomic(join(target, MERGE_PLAN_FILE), JSON.stringify(record, null, 2));
    const report = new MergeRun(plan, target, options.onProgress).run();
    writeResult(plan, target);
    Deno.removeSync(join(target, MERGE_PLAN_FILE));
    return { ...finishedReport(plan, target, started, false), ...report };
  } finally {
    for (const lock of locks.reverse()) lock.release();
  }
}

/** "fresh" (nothing there yet), "resume" (our unfinished merge) or "done" (this merge, finished). */
function checkTarget(
  dir: string,
  record: PlanRecord,
  plan: MergePlan,
): "fresh" | "resume" | "done" {
  const planPath = join(dir, MERGE_PLAN_FILE);
  const previous = readPlanRecord(planPath);
  const same = (p: PlanRecord | undefined) =>
    p !== undefined && JSON.stringify(p.parts) === JSON.stringify(record.parts) &&
    p.shards === record.shards && p.samples === record.samples;
  const indexPath = join(dir, INDEX_FILE);
  if (exists(indexPath)) {
    const recorded = readMetadataToMerge(dir)?.merged_from;
    const merged = Array.isArray(recorded) &&
        recorded.every((m) => typeof m?.dir === "string" && Number.isSafeInteger(m?.samples))
      ? recorded as MergedFrom[]
      : undefined;
    const sameParts = JSON.stringify(merged?.map((m) => m.dir)) === JSON.stringify(record.parts);
    if (!sameParts || (previous !== undefined && !same(previous))) {
      throw new CacheError(
        dir,
        `already holds a cache (${INDEX_FILE}): merge into a new or empty directory`,
      );
    }
    const index = readCacheIndexIfAny(dir);
    if (!index) throw new CacheError(dir, `${INDEX_FILE} went away while merging`);
    checkUnchanged(dir, merged!, index, plan);
    // Killed after the index was written: only the plan file was left to remove.
    if (previous) Deno.removeSync(planPath);
    return "done";
  }
  if (previous) {
    if (same(previous)) return "resume";
    throw new CacheError(
      dir,
      `holds an unfinished merge of other parts (${previous.parts.join(", ")}): ` +
        `re-run that merge to finish it, or delete ${dir}`,
    );
  }
  const stray = [...Deno.readDirSync(dir)].find((e) => shardNumber(e.name) !== undefined);
  if (stray) {
    throw new CacheError(
      dir,
      `holds ${stray.name} but no ${INDEX_FILE} and no merge plan: not a merge target; ` +
        `use a new or empty directory`,
    );
  }
  return "fresh";
}

/** A part as `metadata.json` records it under `merged_from`. */
interface MergedFrom {
  dir: string;
  samples: number;
  partition?: string;
}

/**
 * Refuses a finished merge of the same parts when a part has changed since: its sample count
 * differs from `merged_from`, or a key of it is not in the merged index. Merging again in place
 * would replace a working cache, and saying "done" would leave the new samples out.
 */
function checkUnchanged(
  dir: string,
  merged: MergedFrom[],
  index: ShardIndex,
  plan: MergePlan,
): void {
  const changed = plan.parts.flatMap((p, i) => {
    const keys = Object.keys(p.index.sample_index);
    const was = merged[i].samples;
    if (keys.length !== was) {
      return [`${p.dir} now holds ${keys.length} samples (${was} when merged)`];
    }
    const missing = keys.find((k) => !Object.hasOwn(index.sample_index, k));
    return missing === undefined ? [] : [`${p.dir} holds ${JSON.stringify(missing)}, not merged`];
  });
  const size = Object.keys(index.sample_index).length;
  if (changed.length === 0 && size === plan.totalSamples) return;
  const why = changed.length
    ? `part(s) changed since: ${changed.join("; ")}`
    : `its ${INDEX_FILE} holds ${size} samples, but the parts hold ${plan.totalSamples}`;
  throw new CacheError(
    dir,
    `was merged from these parts, but ${why}. Merge into a new directory; the merged cache ` +
      `here is left as it is`,
  );
}

type Counts = Pick<MergeReport, "linked" | "copied" | "combined" | "resumed">;

class MergeRun {
  #plan: MergePlan;
  #dir: string;
  #onProgress?: (done: number, total: number) => void;
  #done = 0;
  counts: Counts = { linked: 0, copied: 0, combined: 0, resumed: 0 };

  constructor(plan: MergePlan, dir: string, onProgress?: (done: number, total: number) => void) {
    this.#plan = plan;
    this.#dir = dir;
    this.#onProgress = onProgress;
  }

  #progress(samples: number): void {
    this.#done += samples;
    this.#onProgress?.(this.#done, this.#plan.totalSamples);
  }

  run(): Counts {
    const { parts, links, tails } = this.#plan;
    for (const step of links) {
      const source = join(parts[step.part].dir, shardFileName(step.source));
      this.#place(source, join(this.#dir, shardFileName(step.target)));
      this.#progress(step.keys.length);
    }
    const readers = new Map<string, RawChunkReader>();
    try {
      for (const step of tails) {
        const path = join(this.#dir, shardFileName(step.target));
        if (exists(path)) {
          this.counts.resumed++;
          this.#progress(step.samples.length);
          continue;
        }
        const lone = this.#loneSource(step);
        if (lone) {
          // The one partial shard of all the parts: its file is already what combining makes.
          this.#copy(lone, path);
          this.#progress(step.samples.length);
          continue;
        }
        const tmp = join(this.#dir, `.${shardFileName(step.target)}.partial`);
        const writer = Hdf5FileWriter.create(tmp);
        try {
          for (const s of step.samples) {
            const file = join(parts[s.part].dir, shardFileName(s.source));
            let reader = readers.get(file);
            if (!reader) {
              readers.set(file, reader = RawChunkReader.open(file, { reuseBuffer: true }));
            }
            const { datasets } = reader.read(s.key);
            const names = Object.keys(datasets);
            if (names.length === 0) writer.createGroup(s.key);
            for (const name of names) writer.writeDataset(`${s.key}/${name}`, datasets[name]);
            this.#progress(1);
          }
          writer.close();
        } catch (e) {
          writer.abort();
          throw e;
        }
        Deno.renameSync(tmp, path);
        this.counts.combined++;
      }
    } finally {
      for (const r of readers.values()) r.close();
    }
    syncDir(this.#dir);
    return this.counts;
  }

  /** `target` becomes the bytes of `source`: a hard link, else a copy renamed into place. */
  #place(source: string, target: string): void {
    const have = exists(target);
    const src = Deno.statSync(source);
    if (have) {
      if (
        (have.ino !== null && have.ino === src.ino && have.dev === src.dev) ||
        have.size === src.size
      ) {
        this.counts.resumed++;
        return;
      }
      Deno.removeSync(target);
    }
    try {
      Deno.linkSync(source, target);
      this.counts.linked++;
      return;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) throw e;
    }
    this.#copy(source, target);
  }

  /**
   * The source shard when `step` is all of the parts' only partial shard and that file holds
   * exactly the indexed samples, nothing after its last checkpoint; else undefined (combine).
   */
  #loneSource(step: TailStep): string | undefined {
    const { parts, tails } = this.#plan;
    const [first] = step.samples;
    if (
      tails.length !== 1 ||
      step.samples.some((s) => s.part !== first.part || s.source !== first.source)
    ) return undefined;
    const path = join(parts[first.part].dir, shardFileName(first.source));
    const file = Deno.openSync(path, { read: true });
    try {
      const { eof, tree } = readNameTree(file, path);
      const groups = tree.sampleGroups();
      const keys = new Set(step.samples.map((s) => s.key));
      const exact = eof === file.statSync().size && groups.length === keys.size &&
        groups.every((g) => keys.has(g));
      return exact ? path : undefined;
    } finally {
      file.close();
    }
  }

  /** A byte copy of `source` (in-kernel where the OS can), made durable, renamed to `target`. */
  #copy(source: string, target: string): void {
    const tmp = join(this.#dir, `.${target.split("/").pop()}.partial`);
    try {
      // A leftover temporary is replaced by name: copying onto it would follow a link.
      try {
        Deno.removeSync(tmp);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      Deno.copyFileSync(source, tmp);
      const f = Deno.openSync(tmp, { write: true });
      f.syncSync();
      f.close();
    } catch (e) {
      throw new CacheError(this.#dir, `cannot link or copy ${source}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    Deno.renameSync(tmp, target);
    this.counts.copied++;
  }
}

/** `metadata.json` counts of the parts that the merged cache records as their sums. */
const SUMMED_COUNTS = ["total_files", "processed_files", "error_files", "runs"] as const;

/** Metadata, error log and, last, the index of the merged cache. */
function writeResult(plan: MergePlan, dir: string): void {
  const index = new IndexBuilder({
    sample_index: {},
    current_file_idx: 1,
    current_file_count: 0,
    samples_per_file: plan.samplesPerFile,
    use_float16: plan.useFloat16,
  });
  for (const step of plan.links) {
    for (const key of step.keys) index.set(key, { file_idx: step.target, group_name: key });
  }
  for (const step of plan.tails) {
    for (const s of step.samples) index.set(s.key, { file_idx: step.target, group_name: s.key });
  }
  const shards = plan.links.length + plan.tails.length;
  const last = plan.tails.at(-1)?.samples.length ?? plan.links.at(-1)?.keys.length ?? 0;
  index.currentFileIdx = Math.max(shards, 1);
  index.currentFileCount = last;

  // Each part's error log (read and checked when planned), in the original pipeline's schema.
  const maxRetries = Math.max(0, ...plan.parts.map((p) => p.maxRetries));
  const errors = plan.parts.flatMap((p) => p.errors);
  if (errors.length) {
    writeFileAtomic(
      join(dir, "error_log.json"),
      JSON.stringify({ total_errors: errors.length, max_retries: maxRetries, errors }, null, 2),
    );
    writeFileAtomic(
      join(dir, "error_files.txt"),
      errors.map((e) => e.file_path).join("\n") + "\n",
    );
  }
  const sum = (name: string) => plan.parts.reduce((n, p) => n + (Number(p.metadata[name]) || 0), 0);
  // Counts the parts record, as totals; part 0's settings and names otherwise.
  const totals = Object.fromEntries(
    SUMMED_COUNTS.filter((name) => plan.parts.some((p) => name in p.metadata))
      .map((name) => [name, sum(name)]),
  );
  const { partition: _, ...base } = plan.parts[0].metadata;
  writeCacheMetadata(dir, {
    ...base,
    ...totals,
    processed_dir: dir,
    total_samples: plan.totalSamples,
    processed_samples: sum("processed_samples"),
    skipped_samples: sum("skipped_samples"),
    failed_samples: errors.length,
    storage_format: "hdf5",
    use_float16: plan.useFloat16,
    samples_per_hdf5: plan.samplesPerFile,
    num_hdf5_files: plan.totalSamples > 0 ? shards : 0,
    merged_from: plan.parts.map((p: MergePart): MergedFrom => ({
      dir: p.dir,
      samples: Object.keys(p.index.sample_index).length,
      ...(p.partition ? { partition: `${p.partition.index}/${p.partition.count}` } : {}),
    })),
    updated: new Date().toISOString(),
  });
  if (plan.totalSamples > 0) writeFileAtomic(join(dir, INDEX_FILE), index.serialize());
}

function finishedReport(
  plan: MergePlan,
  dir: string,
  started: number,
  alreadyDone: boolean,
): MergeReport {
  let bytes = 0;
  const shards = plan.links.length + plan.tails.length;
  for (let i = 1; i <= shards; i++) bytes += exists(join(dir, shardFileName(i)))?.size ?? 0;
  return {
    totalSamples: plan.totalSamples,
    shards,
    linked: 0,
    copied: 0,
    combined: 0,
    resumed: 0,
    bytes,
    seconds: (performance.now() - started) / 1000,
    alreadyDone,
  };
}
