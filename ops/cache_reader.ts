/**
 * Random access to a cache (a processed_dir of HDF5 shards and `hdf5_index.json`) by sample key,
 * as training code does it: the index says which shard holds a key, a bounded LRU keeps shard
 * handles open, and a frame range reads only the hyperslab it needs.
 *
 * Shards of the "earliest" HDF5 profile (ours, and h5py's default files) are read by the native
 * TypeScript reader (formats/hdf5/reader); anything else (libver 'latest', other filters,
 * big-endian data) goes through h5wasm, so caches written by h5py read as well as ours. Each Web
 * Worker that opens a cache gets its own handles (and h5wasm instance), so several workers can
 * read one cache at once.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { CacheError, KeyError } from "../errors.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { InflateHelper, type ParallelInflate } from "../formats/parallel_inflate.ts";
import { checkFrames, type FrameRange, readSample } from "../formats/read_sample.ts";
import { H5wasmNeeded, ShardCache } from "../formats/shard_reader.ts";
import {
  INDEX_FILE,
  type IndexEntry,
  shardFileName,
  type ShardIndex,
} from "../formats/shard_index.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";
import { absoluteDir, readCacheIndex } from "../cache/cache_index.ts";
import { ReadPool } from "../stages/read_pool.ts";

/** Options of {@linkcode openCache}. */
export interface OpenCacheOptions {
  /** Shard files kept open at once (least recently used closes first). Default: `preprocessing.max_open_files`. */
  maxOpenFiles?: number;
  /** Maps a wav path to its key, for {@linkcode CacheReader.getByPath}. */
  plugin?: DatasetPlugin;
  /** The corpus root the plugin resolves wav paths against. */
  dataRoot?: string;
  /**
   * Read on this many Web Workers (each with its own shard handles) instead of the
   * calling thread. Pays off when several gets of large samples are in flight (a prefetching
   * loader); a lone awaited get, or samples of a few tens of KB, only add message round trips.
   * Default 0.
   */
  workers?: number;
  /**
   * Without `workers`: a dataset read whose chunks inflate to at least this many bytes (a
   * long utterance's hidden states, or a 50-frame window of them) is inflated on two threads,
   * this one and a helper worker that waits on a shared buffer, so the read stays one
   * synchronous call and smaller reads pay nothing. The helper starts once such reads have come
   * to 8 MiB (so a few reads never pay for a worker) and stops after a second idle (or at
   * {@linkcode CacheReader.close}). Default 64 KiB
   * ({@linkcode DEFAULT_PARALLEL_READ_BYTES}); `Infinity` reads every sample on this thread
   * alone. Only on a machine with two cores or more.
   */
  parallelReadBytes?: number;
}

/** Default {@linkcode OpenCacheOptions.parallelReadBytes}: 64 KiB. */
export const DEFAULT_PARALLEL_READ_BYTES = 64 * 1024;

// How long the inflate helper waits idle before it stops (so an unclosed reader's process
// can still end).
const HELPER_IDLE_MS = 1000;
// Large reads (inflated bytes) before the helper starts: about 20 ms of inflating on one
// thread, under what starting a worker costs (30-50 ms of this thread, measured), so a few
// reads never start one and a reader that goes on pays it once.
const HELPER_AFTER_BYTES = 8 << 20;

/** Options of {@linkcode CacheReader.get}. */
export interface GetOptions {
  /** Datasets to read (default: every dataset of the sample). */
  datasets?: string[];
  /**
   * Frames to read, as a Python slice `start:end` (end optional, negatives count from the end,
   * clamped to the frames there are, as h5py does), of each dataset with a time axis: rank 2
   * or more, `(T, D)` on axis 0, `(1, T, D)` on axis 1. One-dimensional datasets (phone ids,
   * durations) and scalars come whole.
   */
  frames?: FrameRange;
}

/** A cache open for reading. */
export interface CacheReader {
  /** The processed_dir. */
  readonly dir: string;
  /** The parsed `hdf5_index.json`. */
  readonly index: ShardIndex;
  /** Every key, in index order. */
  keys(): string[];
  /** True when the index has `key`. */
  has(key: string): boolean;
  /**
   * Reads a sample's tensors; `frames` slices the time axis of each dataset that has one
   * (see {@linkcode GetOptions.frames}), reading only that hyperslab (so only the chunks it
   * overlaps decompress). Unknown key -> KeyError; missing dataset -> KeyError naming key and
   * dataset and listing those there are; frames not integers -> RangeError quoting them;
   * a damaged shard -> FormatError naming file, key, dataset and offset.
   */
  get(key: string, options?: GetOptions): Promise<Record<string, Tensor>>;
  /** Looks a sample up by its wav path through the plugin (plugin.keyForPath). */
  getByPath(wavPath: string, options?: GetOptions): Promise<Record<string, Tensor>>;
  /** Closes every open shard. The reader cannot be used afterwards. */
  close(): void;
}

const DEFAULT_MAX_OPEN_FILES = PREPROCESSING_DEFAULTS.max_open_files;

/**
 * Opens the cache in `dir` for random access by key.
 *
 * @example
 * ```ts
 * import { openCache, pack } from "../mod.ts";
 * const dir = await Deno.makeTempDir();
 * const data = Float32Array.from({ length: 60 * 8 }, (_, i) => i);
 * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [60, 8], data } } };
 * await pack(ReadableStream.from([sample]), dir);
 * const cache = await openCache(dir);
 * const { x } = await cache.get("a", { frames: [-10] }); // the last 10 frames, as x[-10:]
 * console.log(x.dtype, x.shape); // float16 [10, 8]
 * cache.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openCache(dir: string, options: OpenCacheOptions = {}): Promise<CacheReader> {
  const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
  if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 1) {
    throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${maxOpenFiles}`);
  }
  const workers = options.workers ?? 0;
  if (!Number.isSafeInteger(workers) || workers < 0) {
    throw new RangeError(`workers must be an integer >= 0, got ${workers}`);
  }
  const parallelReadBytes = options.parallelReadBytes ?? DEFAULT_PARALLEL_READ_BYTES;
  if (typeof parallelReadBytes !== "number" || !(parallelReadBytes > 0)) {
    throw new RangeError(`parallelReadBytes must be a number > 0, got ${parallelReadBytes}`);
  }
  const index = await readCacheIndex(dir);
  // h5wasm loads only when a file needs it (seconds of start-up that native reads never use).
  const files = workers ? undefined : new ShardCache(undefined, maxOpenFiles);
  const pool = workers ? new ReadPool(workers, maxOpenFiles) : undefined;
  return new ShardCacheReader(dir, index, options, files, pool);
}

class ShardCacheReader implements CacheReader {
  readonly dir: string;
  readonly index: ShardIndex;
  #abs: string;
  #plugin?: DatasetPlugin;
  #dataRoot?: string;
  #keys: string[] | undefined;
  #files?: ShardCache;
  #pool?: ReadPool;
  #closed = false;
  #parallel?: ParallelInflate;
  #helper?: InflateHelper;
  #largeBytes = 0;
  #helperTimer?: ReturnType<typeof setTimeout>;

  constructor(
    dir: string,
    index: ShardIndex,
    options: OpenCacheOptions,
    files?: ShardCache,
    pool?: ReadPool,
  ) {
    this.dir = dir;
    this.index = index;
    this.#abs = absoluteDir(dir);
    this.#plugin = options.plugin;
    this.#dataRoot = options.dataRoot;
    this.#files = files;
    this.#pool = pool;
    const minBytes = (navigator.hardwareConcurrency || 1) > 1
      ? options.parallelReadBytes ?? DEFAULT_PARALLEL_READ_BYTES
      : Infinity;
    if (minBytes !== Infinity) {
      this.#parallel = { minBytes, helper: (bytes) => this.#helperFor(bytes) };
    }
  }

  keys(): string[] {
    this.#keys ??= Object.keys(this.index.sample_index);
    return this.#keys.slice();
  }

  has(key: string): boolean {
    return Object.hasOwn(this.index.sample_index, key);
  }

  #entry(key: string): IndexEntry {
    if (this.#closed) throw new CacheError(this.dir, "cache reader is closed");
    if (!this.has(key)) throw new KeyError(key, `not in ${INDEX_FILE} of ${this.dir}`);
    return this.index.sample_index[key];
  }

  get(key: string, options: GetOptions = {}): Promise<Record<string, Tensor>> {
    try {
      const entry = this.#entry(key);
      if (options.frames) checkFrames(options.frames);
      const label = shardFileName(entry.file_idx);
      const path = `${this.#abs}/${label}`;
      if (this.#pool) return this.#pool.read(path, label, key, entry.group_name, options);
      // Synchronous underneath: reads block anyway, and an await per dataset would cost more
      // than small reads.
      const file = this.#files!.get(path);
      const read = this.#parallel ? { ...options, parallel: this.#parallel } : options;
      return Promise.resolve(readSample(file, key, entry.group_name, label, read));
    } catch (e) {
      if (e instanceof H5wasmNeeded) return loadH5wasm().then(() => this.get(key, options));
      return Promise.reject(e);
    }
  }

  /**
   * The inflate helper for a read of `bytes`, once large reads have come to
   * HELPER_AFTER_BYTES (a one-off `get` never pays for a worker); it stops after a
   * second without large reads.
   */
  #helperFor(bytes: number): InflateHelper | undefined {
    if (!this.#helper) {
      this.#largeBytes += bytes;
      if (this.#largeBytes < HELPER_AFTER_BYTES) return undefined;
      this.#helper = new InflateHelper();
    }
    clearTimeout(this.#helperTimer);
    const timer = setTimeout(() => {
      this.#helper?.close();
      this.#helper = undefined;
      this.#largeBytes = 0;
    }, HELPER_IDLE_MS);
    Deno.unrefTimer(timer);
    this.#helperTimer = timer;
    return this.#helper.ready ? this.#helper : undefined;
  }

  getByPath(wavPath: string, options?: GetOptions): Promise<Record<string, Tensor>> {
    if (!this.#plugin) {
      return Promise.reject(
        new TypeError(`getByPath(${JSON.stringify(wavPath)}) needs openCache's options.plugin`),
      );
    }
    let key: string;
    try {
      key = this.#plugin.keyForPath(wavPath, this.#dataRoot);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.get(key, options);
  }

  close(): void {
    this.#closed = true;
    this.#files?.clear();
    this.#pool?.terminate();
    clearTimeout(this.#helperTimer);
    this.#helper?.close();
    this.#helper = undefined;
  }
}

export { absoluteDir, readCacheIndex };
