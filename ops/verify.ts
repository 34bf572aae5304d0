/**
 * Checks a cache end to end: the index against itself and the shards, every sample group
 * against the index, every dataset by decompressing it whole, and optionally every value
 * against the source the cache was built from.
 *
 * @module
 */
import { errorMessage, FormatError } from "../errors.ts";
import { bytesOf, type DType, DTYPES, type TypedArray } from "../formats/dtype.ts";
import { H5File } from "../formats/h5wasm/h5_file.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { INDEX_FILE, shardFileName, shardNumber } from "../formats/shard_index.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { absoluteDir, openCache, readCacheIndex } from "./cache_reader.ts";

/** One thing wrong (or odd) in a cache. */
export interface VerifyProblem {
  /** e.g. `missing_shard`, `missing_group`, `unindexed_group`, `unreadable_dataset`. */
  kind: string;
  /** Shard file name, e.g. `features_00001.h5` (or `hdf5_index.json`). */
  file?: string;
  key?: string;
  dataset?: string;
  message: string;
}

/** The outcome of {@linkcode verifyCache}; the cache is sound when `problems` is empty. */
export interface VerifyReport {
  /** Shard files checked. */
  shards: number;
  /** Indexed samples whose group was found. */
  samples: number;
  /** Datasets decompressed. */
  datasets: number;
  problems: VerifyProblem[];
  /** Odd but readable: superseded copies, short shards, group names that differ from keys. */
  warnings: VerifyProblem[];
}

/** Options of {@linkcode verifyCache}. */
export interface VerifyOptions {
  /** The source the cache was built from: values must equal it cast to the stored dtype. */
  expected?: AsyncIterable<Sample | SampleFailure> | ReadableStream<Sample | SampleFailure>;
  /** Called after each indexed sample is checked. */
  onProgress?: (done: number, total: number) => void;
  /** Decompress on this many Web Workers (structure checks stay on this thread). Default 0. */
  workers?: number;
}

/**
 * Verifies the cache in `dir`. Throws only when there is no readable index; everything else is
 * reported in the returned {@linkcode VerifyReport}, each problem naming file, key and dataset.
 *
 * @example
 * ```ts ignore
 * const report = await verifyCache("processed/ljspeech");
 * if (report.problems.length) console.error(report.problems);
 * ```
 */
export async function verifyCache(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const index = await readCacheIndex(dir);
  const module = await loadH5wasm();
  const abs = absoluteDir(dir);
  const report: VerifyReport = { shards: 0, samples: 0, datasets: 0, problems: [], warnings: [] };
  const problem = (p: VerifyProblem) => report.problems.push(p);
  const warn = (p: VerifyProblem) => report.warnings.push(p);

  // Index against itself.
  const byShard = new Map<number, Map<string, string>>(); // file_idx -> group path -> key
  const entries = Object.entries(index.sample_index);
  for (const [key, e] of entries) {
    let groups = byShard.get(e.file_idx);
    if (!groups) byShard.set(e.file_idx, groups = new Map());
    groups.set(`/${e.group_name}`, key);
    if (e.group_name !== key) {
      warn({
        kind: "group_name_differs",
        file: shardFileName(e.file_idx),
        key,
        message: `index entry ${JSON.stringify(key)} names group ${JSON.stringify(e.group_name)}`,
      });
    }
  }
  checkCounts(index.current_file_idx, index.current_file_count, index.samples_per_file, byShard, {
    problem,
    warn,
  });

  // Shard files present versus referenced.
  const present = new Set<number>();
  for await (const f of Deno.readDir(abs)) {
    const n = f.isFile ? shardNumber(f.name) : undefined;
    if (n !== undefined) present.add(n);
  }
  for (const n of [...present].sort((a, b) => a - b)) {
    if (!byShard.has(n)) {
      warn({
        kind: "unreferenced_shard",
        file: shardFileName(n),
        message: `${shardFileName(n)} is not referenced by ${INDEX_FILE}`,
      });
    }
  }

  const checked = options.expected
    ? await compareExpected(abs, index.sample_index, options.expected, problem, warn)
    : new Set<string>();

  const workers = options.workers ?? 0;
  const reader = workers ? await openCache(dir, { workers }) : undefined;
  const total = entries.length;
  let done = 0;
  const shardOf = (group: string) => {
    for (const [n, groups] of byShard) if (groups.has(group)) return n;
    return undefined;
  };
  try {
    for (const n of [...new Set([...byShard.keys(), ...present])].sort((a, b) => a - b)) {
      const file = shardFileName(n);
      const indexed = byShard.get(n) ?? new Map<string, string>();
      if (!present.has(n)) {
        problem({
          kind: "missing_shard",
          file,
          message: `${file} is missing; ${indexed.size} indexed samples point at it`,
        });
        done += indexed.size;
        options.onProgress?.(done, total);
        continue;
      }
      let h5: H5File;
      try {
        h5 = H5File.openWith(module, `${abs}/${file}`);
      } catch (e) {
        problem({ kind: "unreadable_shard", file, message: errorMessage(e) });
        done += indexed.size;
        options.onProgress?.(done, total);
        continue;
      }
      report.shards++;
      try {
        const tree = h5.leaves();
        for (const [group, leaves] of tree) {
          if (indexed.has(group)) continue;
          // Unindexed: only its kind matters (an empty leaf group is an intermediate).
          if (!leaves.some((leaf) => h5.kind(`${group}/${leaf}`) === "dataset")) continue;
          const key = group.slice(1);
          const other = shardOf(group);
          if (other !== undefined) {
            warn({
              kind: "superseded_copy",
              file,
              key,
              message: `${file}:${group} is a superseded copy; the index points at ${
                shardFileName(other)
              }`,
            });
          } else {
            problem({
              kind: "unindexed_group",
              file,
              key,
              message: `${file}:${group} holds datasets but is not in ${INDEX_FILE}`,
            });
          }
        }
        const check = async (group: string, key: string) => {
          const leaves = tree.get(group) ?? [];
          // Decompressing whole is the only way to know every chunk inflates. On workers: one
          // get per sample, and only a sample that fails is gone through dataset by dataset.
          let workerRead = checked.has(key);
          if (reader && !workerRead && leaves.length) {
            workerRead = await reader.get(key, { datasets: leaves }).then(() => true, () => false);
          }
          let datasets = 0;
          for (const name of leaves) {
            const path = `${group}/${name}`;
            try {
              if (!workerRead) h5.read(path);
              datasets++;
            } catch (e) {
              if (h5.kind(path) === "group") continue;
              datasets++;
              problem({
                kind: "unreadable_dataset",
                file,
                key,
                dataset: name,
                message: errorMessage(e),
              });
            }
          }
          if (datasets > 0) {
            report.samples++;
            report.datasets += datasets;
          } else {
            const exists = tree.has(group) || h5.kind(group) === "group";
            problem({
              kind: exists ? "empty_group" : "missing_group",
              file,
              key,
              message: exists
                ? `${file}:${group} (indexed as ${JSON.stringify(key)}) holds no datasets`
                : `${file} has no group ${group} for indexed key ${JSON.stringify(key)}`,
            });
          }
          options.onProgress?.(++done, total);
        };
        const queue = indexed.entries();
        const lane = async () => {
          for (const [group, key] of queue) await check(group, key);
        };
        // A few samples in flight per worker keep each busy while replies travel.
        await Promise.all(Array.from({ length: reader ? 2 * workers : 1 }, lane));
      } catch (e) {
        problem({ kind: "unreadable_shard", file, message: errorMessage(e) });
      } finally {
        h5.close();
      }
    }
  } finally {
    reader?.close();
  }
  return report;
}

interface Sinks {
  problem(p: VerifyProblem): void;
  warn(p: VerifyProblem): void;
}

function checkCounts(
  currentIdx: number,
  currentCount: number,
  perFile: number,
  byShard: Map<number, Map<string, string>>,
  { problem, warn }: Sinks,
): void {
  const file = INDEX_FILE;
  const actual = byShard.get(currentIdx)?.size ?? 0;
  if (actual !== currentCount) {
    problem({
      kind: "count_mismatch",
      file,
      message:
        `current_file_count is ${currentCount} but ${actual} entries have file_idx ${currentIdx}`,
    });
  }
  for (const [n, groups] of [...byShard].sort((a, b) => a[0] - b[0])) {
    if (n > currentIdx) {
      problem({
        kind: "beyond_current_file",
        file,
        message: `${groups.size} entries point at ${
          shardFileName(n)
        }, beyond current_file_idx ${currentIdx}`,
      });
    } else if (n < currentIdx && groups.size < perFile) {
      warn({
        kind: "short_shard",
        file: shardFileName(n),
        message: `${
          shardFileName(n)
        } holds ${groups.size} indexed samples, fewer than samples_per_file ${perFile}, and is not the last shard`,
      });
    } else if (groups.size > perFile) {
      warn({
        kind: "overfull_shard",
        file: shardFileName(n),
        message: `${
          shardFileName(n)
        } holds ${groups.size} indexed samples, more than samples_per_file ${perFile}`,
      });
    }
  }
}

/**
 * Reads every expected sample from the cache and compares it; returns the keys whose datasets
 * were all read (so the shard walk does not decompress them twice).
 */
async function compareExpected(
  abs: string,
  sampleIndex: Record<string, { file_idx: number; group_name: string }>,
  expected: AsyncIterable<Sample | SampleFailure> | ReadableStream<Sample | SampleFailure>,
  problem: (p: VerifyProblem) => void,
  warn: (p: VerifyProblem) => void,
): Promise<Set<string>> {
  const checked = new Set<string>();
  const module = await loadH5wasm();
  const files = new Map<number, H5File | Error>();
  try {
    for await (const record of expected as AsyncIterable<Sample | SampleFailure>) {
      const key = record.key;
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
          h5 = H5File.openWith(module, `${abs}/${file}`);
        } catch (e) {
          h5 = e as Error;
        }
        files.set(entry.file_idx, h5);
      }
      // A missing or unopenable shard is reported by the shard walk.
      if (h5 instanceof Error) continue;
      let complete = true;
      for (const [name, want] of Object.entries(record.tensors)) {
        const path = `/${entry.group_name}/${name}`;
        let got: Tensor;
        try {
          got = h5.read(path);
        } catch (e) {
          complete = false;
          // The shard walk reports unreadable datasets; a missing one only we can see.
          if (e instanceof FormatError && h5.kind(path) === undefined) {
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
      if (complete) checked.add(key);
    }
  } finally {
    for (const f of files.values()) if (f instanceof H5File) f.close();
  }
  return checked;
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
