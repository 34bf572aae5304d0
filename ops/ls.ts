/**
 * {@linkcode listCache}: the keys of a cache with their shard and, optionally, their datasets'
 * dtypes and shapes.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { DType } from "../formats/dtype.ts";
import { shardFileName } from "../formats/shard_index.ts";
import { openCache } from "./cache_reader.ts";

/** Options of {@linkcode listCache}. */
export interface ListOptions {
  /** Only keys starting with this. */
  prefix?: string;
  /**
   * Read each sample to report its datasets (default true). The public reader has no
   * metadata-only lookup, so this decompresses every listed sample; false lists keys and
   * shards from the index alone.
   */
  datasets?: boolean;
  /** Called after each sample. */
  onProgress?: (done: number, total: number) => void;
}

/** One listed sample. */
export interface ListEntry {
  key: string;
  /** Shard file name, e.g. `features_00001.h5`. */
  shard: string;
  /** Dataset name -> dtype and shape (absent when not asked for, or when the read failed). */
  datasets?: Record<string, { dtype: DType; shape: number[] }>;
  /** Why the sample could not be read. */
  error?: string;
}

/**
 * The samples of the cache in `dir`, in index order; a sample that cannot be read is listed
 * with its `error` and the listing goes on.
 *
 * @example
 * ```ts ignore
 * for await (const e of listCache("processed/libritts", { prefix: "train-clean-100/103/" })) {
 *   console.log(e.key, e.shard, e.datasets);
 * }
 * ```
 */
export async function* listCache(
  dir: string,
  options: ListOptions = {},
): AsyncGenerator<ListEntry> {
  const prefix = options.prefix ?? "";
  const withDatasets = options.datasets ?? true;
  const cache = await openCache(dir, { maxOpenFiles: 4 });
  try {
    const keys = cache.keys().filter((k) => k.startsWith(prefix));
    let done = 0;
    for (const key of keys) {
      const entry: ListEntry = {
        key,
        shard: shardFileName(cache.index.sample_index[key].file_idx),
      };
      if (withDatasets) {
        try {
          const tensors = await cache.get(key);
          entry.datasets = {};
          for (const [name, t] of Object.entries(tensors)) {
            entry.datasets[name] = { dtype: t.dtype, shape: t.shape };
          }
        } catch (e) {
          entry.error = errorMessage(e);
        }
      }
      yield entry;
      options.onProgress?.(++done, keys.length);
    }
  } finally {
    cache.close();
  }
}
