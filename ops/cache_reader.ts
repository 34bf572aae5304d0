/**
 * Random access to a cache (a processed_dir of HDF5 shards and `hdf5_index.json`) by sample key,
 * as training code does it: the index says which shard holds a key, a bounded LRU keeps shard
 * handles open, and a frame range reads only the hyperslab it needs.
 *
 * Reads go through h5wasm, so caches written by h5py (any chunking, any HDF5 filter h5wasm
 * has) read as well as ours. Each Web Worker that opens a cache gets its own h5wasm instance and
 * handles, so several workers can read one cache at once.
 *
 * @module
 */
import { CacheError, FormatError, KeyError } from "../errors.ts";
import { timeAxis } from "../formats/chunks.ts";
import { H5File } from "../formats/h5wasm/h5_file.ts";
import { type H5Module, loadH5wasm } from "../formats/h5wasm/module.ts";
import {
  INDEX_FILE,
  type IndexEntry,
  parseIndex,
  shardFileName,
  type ShardIndex,
} from "../formats/shard_index.ts";
import type { Tensor } from "../formats/tensor.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";

/** Options of {@linkcode openCache}. */
export interface OpenCacheOptions {
  /** Shard files kept open at once (least recently used closes first). Default 64. */
  maxOpenFiles?: number;
  /** Maps a wav path to its key, for {@linkcode CacheReader.getByPath}. */
  plugin?: DatasetPlugin;
  /** The corpus root the plugin resolves wav paths against. */
  dataRoot?: string;
}

/** Options of {@linkcode CacheReader.get}. */
export interface GetOptions {
  /** Datasets to read (default: every dataset of the sample). */
  datasets?: string[];
  /** Frames `[start, end)` of the time axis to read, per dataset that has one. */
  frames?: [start: number, end: number];
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
   * Reads a sample's tensors; frames slices the time axis (timeAxis(shape)) of each dataset
   * that has one, reading only that hyperslab (so only the chunks it overlaps decompress).
   * Unknown key -> KeyError; missing dataset -> KeyError naming key and dataset;
   * frames out of range -> RangeError quoting them.
   */
  get(key: string, options?: GetOptions): Promise<Record<string, Tensor>>;
  /** Looks a sample up by its wav path through the plugin (plugin.keyForPath). */
  getByPath(wavPath: string, options?: GetOptions): Promise<Record<string, Tensor>>;
  /** Closes every open shard. The reader cannot be used afterwards. */
  close(): void;
}

const DEFAULT_MAX_OPEN_FILES = 64;

/** `dir` as an absolute path (h5wasm's file system resolves against the process cwd). */
export function absoluteDir(dir: string): string {
  const trimmed = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  return trimmed.startsWith("/") ? trimmed : `${Deno.cwd()}/${trimmed}`;
}

/** Reads and parses `<dir>/hdf5_index.json`; CacheError when missing, FormatError when bad. */
export async function readCacheIndex(dir: string): Promise<ShardIndex> {
  const file = `${absoluteDir(dir)}/${INDEX_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? `no ${INDEX_FILE}: not a cache directory`
      : `cannot read ${INDEX_FILE} (${(e as Error).message})`;
    throw new CacheError(dir, why, { cause: e });
  }
  return parseIndex(text, file);
}

/**
 * Opens the cache in `dir` for random access by key.
 *
 * @example
 * ```ts ignore
 * const cache = await openCache("processed/ljspeech");
 * const { hidden_states } = await cache.get("LJ001-0001", { frames: [0, 50] });
 * cache.close();
 * ```
 */
export async function openCache(dir: string, options: OpenCacheOptions = {}): Promise<CacheReader> {
  const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
  if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 1) {
    throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${maxOpenFiles}`);
  }
  const index = await readCacheIndex(dir);
  const module = await loadH5wasm();
  return new ShardCacheReader(dir, index, module, maxOpenFiles, options);
}

class ShardCacheReader implements CacheReader {
  readonly dir: string;
  readonly index: ShardIndex;
  #abs: string;
  #module: H5Module;
  #max: number;
  #plugin?: DatasetPlugin;
  #dataRoot?: string;
  #keys: string[] | undefined;
  /** Open shards by number; Map order is recency (last = most recent). */
  #open = new Map<number, H5File>();
  #closed = false;

  constructor(
    dir: string,
    index: ShardIndex,
    module: H5Module,
    max: number,
    options: OpenCacheOptions,
  ) {
    this.dir = dir;
    this.index = index;
    this.#abs = absoluteDir(dir);
    this.#module = module;
    this.#max = max;
    this.#plugin = options.plugin;
    this.#dataRoot = options.dataRoot;
  }

  keys(): string[] {
    this.#keys ??= Object.keys(this.index.sample_index);
    return this.#keys.slice();
  }

  has(key: string): boolean {
    return Object.hasOwn(this.index.sample_index, key);
  }

  #entry(key: string): IndexEntry {
    if (!this.has(key)) throw new KeyError(key, `not in ${INDEX_FILE} of ${this.dir}`);
    return this.index.sample_index[key];
  }

  #shard(fileIdx: number): H5File {
    if (this.#closed) throw new CacheError(this.dir, "cache reader is closed");
    const hit = this.#open.get(fileIdx);
    if (hit) {
      this.#open.delete(fileIdx);
      this.#open.set(fileIdx, hit);
      return hit;
    }
    const path = `${this.#abs}/${shardFileName(fileIdx)}`;
    const file = H5File.openWith(this.#module, path);
    this.#open.set(fileIdx, file);
    if (this.#open.size > this.#max) {
      const [oldest, handle] = this.#open.entries().next().value!;
      this.#open.delete(oldest);
      handle.close();
    }
    return file;
  }

  get(key: string, options: GetOptions = {}): Promise<Record<string, Tensor>> {
    try {
      return Promise.resolve(this.#read(key, options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // Synchronous underneath: h5wasm calls block anyway, and skipping an await per dataset is
  // measurable at hundreds of samples per second.
  #read(key: string, options: GetOptions): Record<string, Tensor> {
    const entry = this.#entry(key);
    const frames = options.frames;
    if (frames) checkFrames(frames);
    const file = this.#shard(entry.file_idx);
    const group = `/${entry.group_name}`;
    const names = options.datasets ?? this.#datasetNames(file, key, group);
    const out: Record<string, Tensor> = {};
    for (const name of names) {
      const path = `${group}/${name}`;
      let info;
      try {
        info = file.describe(path);
      } catch (e) {
        const kind = e instanceof FormatError ? file.kind(path) : "dataset";
        // Listing names without their kinds is cheaper; a sub-group (a nested key) is skipped here.
        if (kind === "group" && !options.datasets) continue;
        if (kind !== "dataset") {
          throw new KeyError(
            key,
            `no dataset ${JSON.stringify(name)} in ${shardFileName(entry.file_idx)}:${group}`,
            { cause: e },
          );
        }
        throw e;
      }
      const axis = timeAxis(info.shape);
      if (frames && axis >= 0) {
        const [start, end] = frames;
        const t = info.shape[axis];
        if (end > t) {
          throw new RangeError(
            `key ${JSON.stringify(key)} dataset ${
              JSON.stringify(name)
            }: frames [${start}, ${end}] ` +
              `out of range for ${t} frames (axis ${axis} of shape ${JSON.stringify(info.shape)})`,
          );
        }
        const begin = info.shape.map(() => 0);
        begin[axis] = start;
        const count = info.shape.slice();
        count[axis] = end - start;
        out[name] = file.readAs(path, info.dtype, info.shape, { start: begin, count });
      } else {
        out[name] = file.readAs(path, info.dtype, info.shape);
      }
    }
    return out;
  }

  #datasetNames(file: H5File, key: string, group: string): string[] {
    try {
      return file.names(group);
    } catch (e) {
      if (file.kind(group) === undefined) {
        throw new CacheError(
          this.dir,
          `index entry ${
            JSON.stringify(key)
          } points at ${group} in ${file.path}, which has no such group`,
          { cause: e },
        );
      }
      throw e;
    }
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
    for (const file of this.#open.values()) file.close();
    this.#open.clear();
  }
}

function checkFrames(frames: [number, number]): void {
  const [start, end] = frames;
  if (
    frames.length !== 2 || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) ||
    start < 0 || end < start
  ) {
    throw new RangeError(
      `frames must be [start, end] with 0 <= start <= end, got ${JSON.stringify(frames)}`,
    );
  }
}
