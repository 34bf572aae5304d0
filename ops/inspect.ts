/**
 * A summary of a cache for people: shards, samples, datasets (dtypes, shape ranges, sizes) and
 * anything odd, found by the same checks as verify (cache_checks.ts) through the same
 * {@linkcode ShardReader}. Reads metadata only, never chunk data.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { DTYPES, elementCount } from "../formats/dtype.ts";
import type { H5Filter } from "../formats/h5wasm/h5_file.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { shardFileName, shardNumber } from "../formats/shard_index.ts";
import { openShard, type ShardReader } from "../formats/shard_reader.ts";
import { absoluteDir, readCacheIndex } from "./cache_reader.ts";
import {
  checkIndex,
  type CheckResult,
  checkShardFiles,
  groupsByShard,
  naming,
  shardGroups,
} from "./cache_checks.ts";
import { type NonFiniteCount, NonFiniteTally } from "./non_finite.ts";

/** One shard file. */
export interface InspectShard {
  /** File name, e.g. `features_00001.h5`. */
  name: string;
  fileIdx: number;
  /** Index entries pointing at this shard. */
  samples: number;
  /** Groups holding datasets found in the file (indexed or not). */
  groups: number;
  /** Size on disk; 0 when the file is missing. */
  bytes: number;
  /** Uncompressed bytes of the indexed samples' datasets. */
  rawBytes: number;
  /** `rawBytes / bytes` (file bytes include HDF5 metadata); absent when not computable. */
  compressionRatio?: number;
  /** False when the file is missing or cannot be opened. */
  readable: boolean;
}

/** One dataset name across all samples. */
export interface InspectDataset {
  /** Samples holding it, per stored dtype (`{"float16": 5}`). */
  dtypes: Record<string, number>;
  count: number;
  /** Ranks seen (more than one is odd). */
  ranks: number[];
  /** Smallest and largest extent per axis, over the samples of the highest rank. */
  shapeMin: number[];
  shapeMax: number[];
  /** Uncompressed bytes over all samples. */
  rawBytes: number;
  /** Chunk shapes seen, up to a few (h5py picks one per shape). */
  chunkShapes: number[][];
  /** Filter pipelines seen, e.g. `"deflate(4)"` or `"shuffle+deflate(4)"`, `"none"`. */
  filters: string[];
}

/** What {@linkcode inspectCache} returns: plain JSON-serializable data. */
export interface InspectReport {
  dir: string;
  useFloat16: boolean;
  samplesPerFile: number;
  currentFileIdx: number;
  currentFileCount: number;
  /** Index entries. */
  totalSamples: number;
  shards: InspectShard[];
  /** Sum of shard file sizes. */
  bytesOnDisk: number;
  /** Uncompressed bytes of every indexed dataset. */
  rawBytes: number;
  /** `rawBytes / bytesOnDisk`, absent when nothing is on disk. */
  compressionRatio?: number;
  datasets: Record<string, InspectDataset>;
  /** Anything unusual: unreferenced or missing shards, empty shards, unindexed groups, ... */
  oddities: string[];
  /**
   * With {@linkcode InspectOptions.nonFinite}: NaN and inf per floating dataset name that holds
   * any (each also an oddity).
   */
  nonFinite?: Record<string, NonFiniteCount>;
}

/** Options of {@linkcode inspectCache}. */
export interface InspectOptions {
  /**
   * Also decompress every floating dataset of the indexed samples and count NaN and inf per
   * dataset name. Off by default: inspect otherwise reads metadata only.
   */
  nonFinite?: boolean;
}

const MAX_CHUNK_SHAPES = 4;

/**
 * Summarizes the cache in `dir` from its index and HDF5 metadata. Throws only when the index
 * is missing or invalid; unreadable shards become oddities.
 *
 * @example
 * ```ts
 * import { inspectCache, pack } from "../mod.ts";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array(16 * 4).fill(1);
 * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [16, 4], data } } };
 * await pack(ReadableStream.from([sample]), dir);
 * const report = await inspectCache(dir);
 * console.log(report.totalSamples, report.oddities); // 1 []
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function inspectCache(
  dir: string,
  options: InspectOptions = {},
): Promise<InspectReport> {
  const tally = options.nonFinite ? new NonFiniteTally() : undefined;
  const index = await readCacheIndex(dir);
  const module = await loadH5wasm();
  const abs = absoluteDir(dir);
  const byShard = groupsByShard(index);
  const onDisk = new Map<number, number>();
  for await (const f of Deno.readDir(abs)) {
    const n = f.isFile ? shardNumber(f.name) : undefined;
    if (n !== undefined) onDisk.set(n, (await Deno.stat(`${abs}/${f.name}`)).size);
  }
  // The same checks verify runs, minus decompression; only the problems' wording is kept.
  const oddities: string[] = [];
  const note = (r: CheckResult) => {
    for (const p of [...r.problems, ...r.warnings]) {
      if (p.kind !== "short_shard" && p.kind !== "group_name_differs") oddities.push(p.message);
    }
  };
  note(checkIndex(index));
  note(checkShardFiles(index, new Set(onDisk.keys())));

  const datasets: Record<string, InspectDataset> = {};
  const shards: InspectShard[] = [];
  const numbers = [...new Set([...byShard.keys(), ...onDisk.keys()])].sort((a, b) => a - b);
  for (const n of numbers) {
    const name = shardFileName(n);
    const groups = [...(byShard.get(n)?.keys() ?? [])];
    const shard: InspectShard = {
      name,
      fileIdx: n,
      samples: groups.length,
      groups: 0,
      bytes: onDisk.get(n) ?? 0,
      rawBytes: 0,
      readable: false,
    };
    shards.push(shard);
    if (!onDisk.has(n)) continue;
    let reader: ShardReader;
    try {
      reader = openShard(module, `${abs}/${name}`);
    } catch (e) {
      oddities.push(errorMessage(e));
      continue;
    }
    try {
      shard.readable = true;
      const found = shardGroups(reader, name);
      for (const p of found.unreadable) oddities.push(p.message);
      shard.groups = found.groups.size;
      if (found.groups.size === 0) oddities.push(`${name} holds no sample groups`);
      const indexed = new Set(groups);
      const unindexed = [...found.groups.keys()].filter((g) => !indexed.has(g)).length;
      if (unindexed) oddities.push(`${name}: ${unindexed} groups are not indexed to this shard`);
      const seen = new Set<string>();
      for (const group of groups) {
        const key = byShard.get(n)!.get(group)!;
        for (const leaf of found.groups.get(group) ?? []) {
          shard.rawBytes += describe(
            reader,
            `${group}/${leaf}`,
            leaf,
            seen,
            datasets,
            oddities,
            key,
          );
          if (tally) {
            countNonFiniteIn(reader, `${group}/${leaf}`, key, leaf, tally, oddities);
          }
        }
      }
    } catch (e) {
      oddities.push(errorMessage(e));
    } finally {
      reader.close();
    }
    if (shard.bytes > 0 && shard.rawBytes > 0) {
      shard.compressionRatio = shard.rawBytes / shard.bytes;
    }
  }

  for (const [name, d] of Object.entries(datasets)) {
    if (d.ranks.length > 1) oddities.push(`dataset ${name} has ranks ${d.ranks.join(", ")}`);
    const types = Object.keys(d.dtypes);
    if (types.length > 1) oddities.push(`dataset ${name} is stored as ${types.join(" and ")}`);
    const wide = types.filter((t) => t === "float32" || t === "float64");
    if (index.use_float16 && wide.length) {
      oddities.push(`use_float16 is true but dataset ${name} is stored as ${wide.join(", ")}`);
    }
    if (!index.use_float16 && types.includes("float16")) {
      oddities.push(`use_float16 is false but dataset ${name} is stored as float16`);
    }
  }
  const bytesOnDisk = shards.reduce((a, s) => a + s.bytes, 0);
  const rawBytes = shards.reduce((a, s) => a + s.rawBytes, 0);
  const report: InspectReport = {
    dir,
    useFloat16: index.use_float16,
    samplesPerFile: index.samples_per_file,
    currentFileIdx: index.current_file_idx,
    currentFileCount: index.current_file_count,
    totalSamples: Object.keys(index.sample_index).length,
    shards,
    bytesOnDisk,
    rawBytes,
    datasets,
    oddities,
  };
  if (bytesOnDisk > 0 && rawBytes > 0) report.compressionRatio = rawBytes / bytesOnDisk;
  if (tally) {
    report.nonFinite = tally.counts;
    for (const { message } of tally.messages()) oddities.push(message);
  }
  return report;
}

/** Reads a floating dataset whole into the tally; a read that fails is an oddity. */
function countNonFiniteIn(
  h5: ShardReader,
  path: string,
  key: string,
  name: string,
  tally: NonFiniteTally,
  oddities: string[],
): void {
  let dtype;
  try {
    dtype = h5.describe(path).dtype;
  } catch {
    return; // already an oddity through describe()
  }
  if (DTYPES[dtype].kind !== "float") return;
  try {
    tally.add(key, name, h5.read(path));
  } catch (e) {
    oddities.push(naming(errorMessage(e), { key, dataset: name }));
  }
}

/** Adds one dataset to the summary; returns its raw bytes (0 when it is not a dataset). */
function describe(
  h5: ShardReader,
  path: string,
  name: string,
  seen: Set<string>,
  datasets: Record<string, InspectDataset>,
  oddities: string[],
  key: string,
): number {
  let d = datasets[name];
  let info: ReturnType<ShardReader["describe"]> & { filters?: H5Filter[] };
  try {
    // Filters cost one more HDF5 call: ask for them once per dataset name and shard.
    info = h5.describe(path);
    if (!seen.has(name)) info = { ...info, filters: h5.filters(path) };
    seen.add(name);
  } catch (e) {
    oddities.push(naming(errorMessage(e), { key, dataset: name }));
    return 0;
  }
  if (!d) {
    d = datasets[name] = {
      dtypes: {},
      count: 0,
      ranks: [],
      shapeMin: [],
      shapeMax: [],
      rawBytes: 0,
      chunkShapes: [],
      filters: [],
    };
  }
  if (info.filters) {
    const pipeline = info.filters.length
      ? info.filters.map((f) =>
        f.name === "deflate" ? `deflate(${f.cd_values[0]})` : f.name || `filter ${f.id}`
      ).join("+")
      : "none";
    if (!d.filters.includes(pipeline)) d.filters.push(pipeline);
  }
  const { dtype, shape, chunkShape } = info;
  d.count++;
  d.dtypes[dtype] = (d.dtypes[dtype] ?? 0) + 1;
  if (!d.ranks.includes(shape.length)) d.ranks.push(shape.length);
  const top = Math.max(...d.ranks);
  if (shape.length === top) {
    if (d.shapeMin.length !== top) {
      d.shapeMin = shape.slice();
      d.shapeMax = shape.slice();
    } else {
      shape.forEach((v, i) => {
        d.shapeMin[i] = Math.min(d.shapeMin[i], v);
        d.shapeMax[i] = Math.max(d.shapeMax[i], v);
      });
    }
  }
  if (
    chunkShape && d.chunkShapes.length < MAX_CHUNK_SHAPES &&
    !d.chunkShapes.some((c) => c.join() === chunkShape.join())
  ) {
    d.chunkShapes.push(chunkShape);
  }
  const raw = elementCount(shape) * DTYPES[dtype].size;
  d.rawBytes += raw;
  return raw;
}
