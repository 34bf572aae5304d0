/**
 * {@linkcode reindex}: rebuilds `hdf5_index.json` from the shards of a processed_dir that lost
 * it, reading the shards as `verify` does ({@linkcode openShard}): every sample group of every
 * shard, in shard order.
 *
 * @module
 */
import { readCacheMetadata, recordedUseFloat16 } from "../cache/cache_metadata.ts";
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { CacheError } from "../errors.ts";
import { isFloat } from "../formats/dtype.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { openShard } from "../formats/shard_reader.ts";
import {
  emptyIndex,
  INDEX_FILE,
  IndexBuilder,
  shardFileName,
  shardNumber,
} from "../formats/shard_index.ts";
import { writeFileAtomic } from "../cache/atomic_write.ts";
import { DirLock } from "../cache/dir_lock.ts";
import { join } from "../util/path.ts";
import { shardGroups } from "./cache_checks.ts";

/** Options of {@linkcode reindex}. */
export interface ReindexOptions {
  /**
   * Samples per shard the cache was written with. Default: the `samples_per_hdf5` that
   * `metadata.json` of the directory records, else `defaultSamplesPerFile`.
   */
  samplesPerFile?: number;
  /** Used when neither `samplesPerFile` nor `metadata.json` gives one (default: the schema's). */
  defaultSamplesPerFile?: number;
  /** Called for each shard read (1-based count, total). */
  onProgress?: (done: number, total: number) => void;
  /** Called for each warning (a key found in two shards). */
  onWarning?: (message: string) => void;
}

/** What {@linkcode reindex} found. */
export interface ReindexReport {
  shards: number;
  samples: number;
  useFloat16: boolean;
}

/**
 * Rebuilds the index of `dir` from its shards and writes it atomically. Refuses (with a
 * {@linkcode CacheError} naming what is wrong) a directory that has an index, no shards, a gap
 * in the shard numbers, a shard other than the last whose sample count is not `samplesPerFile`,
 * or float arrays both in float16 and in a wider type. A key found in two shards is indexed in
 * the later one (a sample written again with `overwrite_existing` lands in a later shard).
 * `use_float16` is true when the float arrays are float16, false when they are wider, and what
 * `metadata.json` records (else the schema's default) when there is none.
 */
export async function reindex(dir: string, options: ReindexOptions = {}): Promise<ReindexReport> {
  const recorded = recordedSettings(dir, options.samplesPerFile === undefined);
  const [samplesPerFile, from] = options.samplesPerFile !== undefined
    ? [options.samplesPerFile, "given"]
    : recorded.samplesPerFile !== undefined
    ? [recorded.samplesPerFile, "from metadata.json"]
    : [
      options.defaultSamplesPerFile ?? PREPROCESSING_DEFAULTS.samples_per_hdf5,
      "the default; metadata.json records none",
    ];
  const numbers: number[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const n = shardNumber(entry.name);
    if (entry.name === INDEX_FILE) {
      throw new CacheError(dir, `already has ${INDEX_FILE}; reindex only rebuilds a lost one`);
    }
    if (n !== undefined && entry.isFile) numbers.push(n);
  }
  numbers.sort((a, b) => a - b);
  if (numbers.length === 0) throw new CacheError(dir, "holds no features_NNNNN.h5 shards");
  const gap = numbers.findIndex((n, i) => n !== i + 1);
  if (gap >= 0) {
    throw new CacheError(dir, `shard ${shardFileName(gap + 1)} is missing: shards must run 1..N`);
  }
  const lock = DirLock.acquire(dir);
  try {
    const found = new Map<string, number>();
    const counts: number[] = [];
    const floats = new Set<boolean>();
    const module = await loadH5wasm();
    for (const n of numbers) {
      const name = shardFileName(n);
      const file = openShard(module, join(dir, name));
      try {
        const { groups, unreadable } = shardGroups(file, name);
        // A group that cannot be listed may hold samples: an index without them would lose them.
        if (unreadable.length) throw new CacheError(dir, unreadable[0].message);
        let count = 0;
        for (const [group, datasets] of groups) {
          const key = group.slice(1);
          const before = found.get(key);
          if (before !== undefined) {
            options.onWarning?.(
              `${key}: in ${shardFileName(before)} and ${name}; indexed in the later`,
            );
          }
          found.set(key, n);
          count++;
          for (const dataset of datasets) {
            const { dtype } = file.describe(`${group}/${dataset}`);
            if (isFloat(dtype)) floats.add(dtype === "float16");
          }
        }
        counts.push(count);
      } finally {
        file.close();
      }
      options.onProgress?.(n, numbers.length);
    }
    const wrong = counts.findIndex((c, i) => i < counts.length - 1 && c !== samplesPerFile);
    if (wrong >= 0 || counts.at(-1)! > samplesPerFile) {
      const i = wrong >= 0 ? wrong : counts.length - 1;
      throw new CacheError(
        dir,
        `${shardFileName(i + 1)} holds ${counts[i]} samples, but samples_per_hdf5 is ` +
          `${samplesPerFile} (${from}); give the value the cache was written with ` +
          `(h5shard reindex --samples-per-hdf5 N)`,
      );
    }
    if (floats.size > 1) {
      throw new CacheError(dir, "float arrays are stored both as float16 and wider");
    }
    const useFloat16 = floats.size
      ? [...floats][0]
      : recorded.useFloat16 ?? PREPROCESSING_DEFAULTS.use_float16;
    const index = new IndexBuilder(emptyIndex(samplesPerFile, useFloat16));
    for (const [key, n] of found) index.set(key, { file_idx: n, group_name: key });
    index.currentFileIdx = numbers.length;
    index.currentFileCount = [...found.values()].filter((n) => n === numbers.length).length;
    writeFileAtomic(join(dir, INDEX_FILE), index.serialize());
    return { shards: numbers.length, samples: found.size, useFloat16 };
  } finally {
    lock.release();
  }
}

/**
 * What `metadata.json` of `dir` records of the index's settings; nothing when it is absent.
 * When `needSamples` (no value given), a metadata.json that cannot be read, or that records a
 * samples_per_hdf5 that is not a positive integer, is refused; otherwise it is not relied on.
 */
function recordedSettings(
  dir: string,
  needSamples: boolean,
): { samplesPerFile?: number; useFloat16?: boolean } {
  const hint = "give the value the cache was written with (h5shard reindex --samples-per-hdf5 N)";
  const meta = readCacheMetadata(dir, (_, reason, { cause }) => {
    if (!needSamples) return undefined;
    throw new CacheError(dir, `${reason}; ${hint}`, { cause });
  });
  if (meta === undefined) return {};
  const useFloat16 = recordedUseFloat16(meta);
  const n = meta.samples_per_hdf5;
  if (!needSamples || n === undefined) return { useFloat16 };
  if (!Number.isSafeInteger(n) || (n as number) < 1) {
    const got = JSON.stringify(n);
    throw new CacheError(
      dir,
      `metadata.json records samples_per_hdf5 ${got}, not a positive integer; ${hint}`,
    );
  }
  return { samplesPerFile: n as number, useFloat16 };
}
