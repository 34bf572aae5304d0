/**
 * {@linkcode listCache}: the keys of a cache with their shard and their datasets' dtypes and
 * shapes, from the shards' HDF5 metadata (no chunk is decompressed).
 *
 * @module
 */
import { naming } from "./cache_checks.ts";
import { errorMessage, KeyError } from "../errors.ts";
import type { DType } from "../formats/dtype.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { shardFileName } from "../formats/shard_index.ts";
import { ShardCache } from "../formats/shard_reader.ts";
import { absoluteDir, readCacheIndex } from "./cache_reader.ts";

/** Options of {@linkcode listCache}. */
export interface ListOptions {
  /** Only keys starting with this. */
  prefix?: string;
  /** Look each sample's datasets up in its shard (default true); false reads the index alone. */
  datasets?: boolean;
  /** Called after each sample. */
  onProgress?: (done: number, total: number) => void;
}

/** One listed sample. */
export interface ListEntry {
  key: string;
  /** Shard file name, e.g. `features_00001.h5`. */
  shard: string;
  /** Dataset name -> dtype and shape (absent when not asked for, or when the lookup failed). */
  datasets?: Record<string, { dtype: DType; shape: number[] }>;
  /** Why the sample could not be looked up. */
  error?: string;
}

/**
 * The samples of the cache in `dir`, in index order; a sample that cannot be looked up is
 * listed with its `error` and the listing goes on.
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { listCache } from "./ls.ts";
 * const x = { dtype: "float32" as const, shape: [3, 2], data: new Float32Array(6) };
 * const keys = ["train/1", "train/2", "test/1"];
 * const dir = await Deno.makeTempDir();
 * await pack(ReadableStream.from(keys.map((key) => ({ key, tensors: { x } }))), dir);
 * const listed = [];
 * for await (const e of listCache(dir, { prefix: "train/" })) {
 *   listed.push(`${e.key} ${e.shard} ${e.datasets?.x.shape}`);
 * }
 * if (listed.join("; ") !== "train/1 features_00001.h5 3,2; train/2 features_00001.h5 3,2") {
 *   throw new Error(listed.join("; "));
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* listCache(
  dir: string,
  options: ListOptions = {},
): AsyncGenerator<ListEntry> {
  const prefix = options.prefix ?? "";
  const withDatasets = options.datasets ?? true;
  const index = await readCacheIndex(dir);
  const abs = absoluteDir(dir);
  const shards = withDatasets ? new ShardCache(await loadH5wasm(), 4) : undefined;
  try {
    const keys = Object.keys(index.sample_index).filter((k) => k.startsWith(prefix));
    let done = 0;
    for (const key of keys) {
      const { file_idx, group_name } = index.sample_index[key];
      const entry: ListEntry = { key, shard: shardFileName(file_idx) };
      if (shards) {
        let reading: string | undefined;
        try {
          const reader = shards.get(`${abs}/${entry.shard}`);
          const group = `/${group_name}`;
          if (reader.kind(group) !== "group") {
            throw new KeyError(key, `${entry.shard} has no group ${group}`);
          }
          const datasets: ListEntry["datasets"] = {};
          for (const name of reader.names(group)) {
            reading = name;
            const path = `${group}/${name}`;
            if (reader.kind(path) !== "dataset") continue;
            const { dtype, shape } = reader.describe(path);
            datasets[name] = { dtype, shape };
          }
          entry.datasets = datasets;
        } catch (e) {
          // The entry names the key; a damaged dataset is named too.
          entry.error = naming(errorMessage(e), { dataset: reading });
        }
      }
      yield entry;
      options.onProgress?.(++done, keys.length);
    }
  } finally {
    shards?.clear();
  }
}
