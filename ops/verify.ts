/**
 * Checks a cache end to end: the index against itself and the shards, every sample group
 * against the index (found by HDF5's own lookup path), every dataset by decompressing it
 * whole, and optionally every value against the source the cache was built from. Composed of
 * the named checks of `cache_checks.ts`; a cache verify calls sound is one h5py reads.
 *
 * @module
 */
import { CacheError, errorMessage, FormatError } from "../errors.ts";
import { bytesOf, type DType, DTYPES, type TypedArray } from "../formats/dtype.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { INDEX_FILE, shardFileName, shardNumber } from "../formats/shard_index.ts";
import { openShard, type ShardReader } from "../formats/shard_reader.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";
import { NpzSource } from "../stages/npz_source.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { absoluteDir, openCache, readCacheIndex } from "./cache_reader.ts";
import {
  type CacheProblem,
  type CacheProblemKind,
  type CacheWarningKind,
  checkIndex,
  checkSample,
  checkShardFiles,
  checkShardGroups,
  groupsByShard,
  problemOf,
  shardGroups,
} from "./cache_checks.ts";
import { type NonFiniteCount, NonFiniteTally } from "./non_finite.ts";

/** One thing wrong (or odd) in a cache: its `kind` says which check found it. */
export type VerifyProblem = CacheProblem;

/** The outcome of {@linkcode verifyCache}; the cache is sound when `problems` is empty. */
export interface VerifyReport {
  /** Shard files checked. */
  shards: number;
  /** Indexed samples whose group was found. */
  samples: number;
  /** Datasets decompressed. */
  datasets: number;
  /**
   * With an expected source: indexed samples whose values were compared with it. Every indexed
   * sample the source lacks is a `missing_in_source` problem.
   */
  compared?: number;
  problems: CacheProblem<CacheProblemKind>[];
  /**
   * Odd but readable: superseded copies, short shards, group names that differ from keys, NaN
   * or inf in floating datasets (kind `non_finite`; a problem instead with `strict`).
   */
  warnings: CacheProblem<CacheWarningKind>[];
  /** NaN and inf per floating dataset name that holds any, over every sample. */
  nonFinite: Record<string, NonFiniteCount>;
}

/** Options of {@linkcode verifyCache}. */
export interface VerifyOptions {
  /** The source the cache was built from: values must equal it cast to the stored dtype. */
  expected?: AsyncIterable<Sample | SampleFailure> | ReadableStream<Sample | SampleFailure>;
  /** Called after each indexed sample is checked. */
  onProgress?: (done: number, total: number) => void;
  /** Decompress on this many Web Workers (structure checks stay on this thread). Default 0. */
  workers?: number;
  /** NaN or inf in a stored floating dataset is a problem, not a warning. Default false. */
  strict?: boolean;
}

/**
 * Verifies the cache in `dir`. Throws only when there is no readable index; everything else is
 * reported in the returned {@linkcode VerifyReport}, each problem naming file, key, dataset
 * and (for damage) the byte offset.
 *
 * @example
 * ```ts
 * import { pack, verifyCache } from "../mod.ts";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array(8 * 4).fill(0.5);
 * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [8, 4], data } } };
 * await pack(ReadableStream.from([sample]), dir);
 * const report = await verifyCache(dir);
 * console.log(report.problems.length === 0 ? "OK" : report.problems);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyCache(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const index = await readCacheIndex(dir);
  const module = await loadH5wasm();
  const abs = absoluteDir(dir);
  const report: VerifyReport = {
    shards: 0,
    samples: 0,
    datasets: 0,
    problems: [],
    warnings: [],
    nonFinite: {},
  };
  const tally = new NonFiniteTally();
  const add = (r: { problems: VerifyReport["problems"]; warnings: VerifyReport["warnings"] }) => {
    report.problems.push(...r.problems);
    report.warnings.push(...r.warnings);
  };

  add(checkIndex(index));
  const present = new Set<number>();
  for await (const f of Deno.readDir(abs)) {
    const n = f.isFile ? shardNumber(f.name) : undefined;
    if (n !== undefined) present.add(n);
  }
  add(checkShardFiles(index, present));
  const byShard = groupsByShard(index);

  let checked = new Set<string>();
  if (options.expected) {
    const compared = await compareExpected(
      abs,
      index.sample_index,
      options.expected,
      report,
      tally,
    );
    checked = compared.checked;
    report.compared = compared.compared;
    for (const key of Object.keys(index.sample_index)) {
      if (compared.seen.has(key)) continue;
      report.problems.push({
        kind: "missing_in_source",
        key,
        message: `indexed sample ${JSON.stringify(key)} is not in the expected source, so its ` +
          `values were not compared`,
      });
    }
  }

  const workers = options.workers ?? 0;
  const pool = workers ? await openCache(dir, { workers }) : undefined;
  const total = Object.keys(index.sample_index).length;
  let done = 0;
  try {
    for (const n of [...new Set([...byShard.keys(), ...present])].sort((a, b) => a - b)) {
      const file = shardFileName(n);
      const indexed = byShard.get(n) ?? new Map<string, string>();
      if (!present.has(n)) {
        done += indexed.size;
        options.onProgress?.(done, total);
        continue;
      }
      let reader: ShardReader;
      try {
        reader = openShard(module, `${abs}/${file}`);
      } catch (e) {
        report.problems.push(problemOf("unreadable_shard", e, file));
        done += indexed.size;
        options.onProgress?.(done, total);
        continue;
      }
      report.shards++;
      try {
        add(checkShardGroups(shardGroups(reader, file), n, byShard));
        const check = async (group: string, key: string) => {
          // Decompressing whole is the only way to know every chunk inflates. On workers: one
          // get per sample, and only a sample that fails is gone through dataset by dataset.
          let decompressed = checked.has(key);
          if (pool && !decompressed) {
            decompressed = await pool.get(key).then((tensors) => {
              for (const [name, t] of Object.entries(tensors)) tally.add(key, name, t);
              return true;
            }, () => false);
          }
          const result = checkSample(
            reader,
            file,
            group,
            key,
            !decompressed,
            (name, t) => tally.add(key, name, t),
          );
          report.problems.push(...result.problems);
          if (result.datasets.length) {
            report.samples++;
            report.datasets += result.datasets.length;
          }
          options.onProgress?.(++done, total);
        };
        const queue = indexed.entries();
        const lane = async () => {
          for (const [group, key] of queue) await check(group, key);
        };
        // A few samples in flight per worker keep each busy while replies travel.
        await Promise.all(Array.from({ length: pool ? 2 * workers : 1 }, lane));
      } catch (e) {
        report.problems.push(problemOf("unreadable_shard", e, file));
      } finally {
        reader.close();
      }
    }
  } finally {
    pool?.close();
  }
  report.nonFinite = tally.counts;
  for (const { dataset, message } of tally.messages()) {
    const found = { kind: "non_finite" as const, dataset, message };
    if (options.strict) report.problems.push(found);
    else report.warnings.push(found);
  }
  return report;
}

/** What {@linkcode compareExpected} found. */
interface Compared {
  /** Keys whose datasets were all read (so the shard walk does not decompress them twice). */
  checked: Set<string>;
  /** Keys the source yielded, read or failed. */
  seen: Set<string>;
  /** Indexed samples compared value by value. */
  compared: number;
}

/** Reads every expected sample from the cache and compares it. */
async function compareExpected(
  abs: string,
  sampleIndex: Record<string, { file_idx: number; group_name: string }>,
  expected: AsyncIterable<Sample | SampleFailure> | ReadableStream<Sample | SampleFailure>,
  report: VerifyReport,
  tally: NonFiniteTally,
): Promise<Compared> {
  const problem = (p: CacheProblem<CacheProblemKind>) => report.problems.push(p);
  const warn = (p: CacheProblem<CacheWarningKind>) => report.warnings.push(p);
  const checked = new Set<string>();
  const seen = new Set<string>();
  let compared = 0;
  const module = await loadH5wasm();
  const files = new Map<number, ShardReader | Error>();
  try {
    for await (const record of expected as AsyncIterable<Sample | SampleFailure>) {
      const key = record.key;
      seen.add(key);
      if ("error" in record) {
        warn({
          kind: "expected_failed",
          key,
          message: `the expected source could not produce ${JSON.stringify(key)}: ${
            errorMessage(record.error)
          }`,
        });
        continue;
      }
      const entry = Object.hasOwn(sampleIndex, key) ? sampleIndex[key] : undefined;
      if (!entry) {
        problem({
          kind: "missing_sample",
          key,
          message: `expected sample ${JSON.stringify(key)} is not in ${INDEX_FILE}`,
        });
        continue;
      }
      const file = shardFileName(entry.file_idx);
      let h5 = files.get(entry.file_idx);
      if (!h5) {
        try {
          h5 = openShard(module, `${abs}/${file}`);
        } catch (e) {
          h5 = e as Error;
        }
        files.set(entry.file_idx, h5);
      }
      // A missing or unopenable shard is reported by the shard walk.
      if (h5 instanceof Error) continue;
      compared++;
      let complete = true;
      const read: [string, Tensor][] = [];
      for (const [name, want] of Object.entries(record.tensors)) {
        const path = `/${entry.group_name}/${name}`;
        let got: Tensor;
        try {
          got = h5.read(path);
        } catch (e) {
          complete = false;
          // The shard walk reports unreadable datasets; a missing one only we can see.
          if (e instanceof FormatError && kindOf(h5, path) === undefined) {
            problem({
              kind: "missing_dataset",
              file,
              key,
              dataset: name,
              message: `${file}:${path} is missing (the source has it)`,
            });
          }
          continue;
        }
        read.push([name, got]);
        const why = mismatch(got, want);
        if (why) {
          problem({
            kind: "value_mismatch",
            file,
            key,
            dataset: name,
            message: `${file}:${path} ${why}`,
          });
        }
      }
      // An incomplete sample is decompressed again by the shard walk, which counts it then.
      if (complete) {
        checked.add(key);
        for (const [name, t] of read) tally.add(key, name, t);
      }
    }
  } finally {
    for (const f of files.values()) if (!(f instanceof Error)) f.close();
  }
  return { checked, seen, compared };
}

/**
 * The samples of the legacy NPZ cache `npzDir` as `plugin` finds them, for
 * {@linkcode VerifyOptions.expected}. Throws a {@linkcode CacheError} naming `npzDir` and what
 * was looked for when the plugin finds no `.npz` there: a comparison with nothing is no check.
 */
export async function expectedNpz(npzDir: string, plugin: DatasetPlugin): Promise<NpzSource> {
  const refs = plugin.discoverNpz(npzDir)[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await refs.next();
  } catch (e) {
    throw new CacheError(npzDir, `cannot list the NPZ source: ${errorMessage(e)}`, { cause: e });
  } finally {
    await refs.return?.();
  }
  if (first.done) {
    const hdf5 = await Deno.stat(`${npzDir}/${INDEX_FILE}`).then(() => true, () => false);
    throw new CacheError(
      npzDir,
      `no .npz files found by the ${JSON.stringify(plugin.name)} plugin (its discoverNpz looks ` +
        `for <key>.npz files below ${npzDir}); --against needs the legacy NPZ cache` +
        (hdf5 ? `, but this directory holds ${INDEX_FILE}: it looks like an HDF5 cache` : ""),
    );
  }
  return new NpzSource(npzDir, { plugin });
}

/** What `path` is; "damaged" when looking it up fails (the shard walk reports that). */
function kindOf(reader: ShardReader, path: string): string | undefined {
  try {
    return reader.kind(path);
  } catch {
    return "damaged";
  }
}

const CASTS: Partial<Record<DType, (a: TypedArray) => TypedArray>> = {
  float16: (a) => Float16Array.from(a as ArrayLike<number>),
  float32: (a) => Float32Array.from(a as ArrayLike<number>),
  float64: (a) => Float64Array.from(a as ArrayLike<number>),
};

/** Why `got` (as stored) differs from `want` (the source), or "" when equal. */
function mismatch(got: Tensor, want: Tensor): string {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
    return `has shape ${JSON.stringify(got.shape)}, the source ${JSON.stringify(want.shape)}`;
  }
  let source = want.data;
  if (got.dtype !== want.dtype) {
    const cast = CASTS[got.dtype];
    const floatToFloat = DTYPES[got.dtype].kind === "float" && DTYPES[want.dtype].kind === "float";
    if (!cast || !floatToFloat) {
      return `is stored as ${got.dtype}, the source is ${want.dtype} (only floats are converted)`;
    }
    source = cast(want.data);
  }
  const a = bytesOf(got.data);
  const b = bytesOf(source);
  const size = DTYPES[got.dtype].size;
  const isFloat = DTYPES[got.dtype].kind === "float";
  let differ = 0;
  let first = -1;
  for (let i = 0; i < a.length; i += size) {
    let same = true;
    for (let j = 0; j < size; j++) {
      if (a[i + j] !== b[i + j]) {
        same = false;
        break;
      }
    }
    if (!same && isFloat) {
      const k = i / size;
      same = Number.isNaN(got.data[k] as number) && Number.isNaN(source[k] as number);
    }
    if (!same) {
      if (first < 0) first = i / size;
      differ++;
    }
  }
  if (!differ) return "";
  return `differs from the source (cast to ${got.dtype}) at ${differ} of ${got.data.length} ` +
    `elements; first at flat index ${first}: stored ${got.data[first]}, expected ${source[first]}`;
}
