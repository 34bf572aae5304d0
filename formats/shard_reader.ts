/**
 * One way to read a shard, whichever HDF5 reader does it: the {@linkcode ShardReader}
 * interface that both the native reader ({@linkcode NativeH5File}) and h5wasm's
 * ({@linkcode H5File}) implement, the chooser between them ({@linkcode openShard}), and a small
 * LRU of open shards ({@linkcode ShardCache}). The cache reader, its workers, `Hdf5Source`,
 * `verify` and `inspect` all open shards here, so they see a file the same way.
 *
 * The choice: the native reader for files and objects of the "earliest" profile (ours, and
 * h5py's default files); h5wasm for whatever it reports unsupported (libver 'latest', other
 * filters, big-endian data), per file and per object. A missing file, or damage the native
 * reader finds, is an error, never a reason to try h5wasm.
 *
 * @module
 */
import type { DType } from "./dtype.ts";
import { H5File, type H5Filter, type H5ObjectKind, type H5ReadOptions } from "./h5wasm/h5_file.ts";
import { type H5Module, loadedH5wasm } from "./h5wasm/module.ts";
import { isUnsupported, NativeH5File } from "./hdf5/reader/mod.ts";
import type { ParallelInflate } from "./parallel_inflate.ts";
import type { Tensor } from "./tensor.ts";

/**
 * A file (or object) needs h5wasm, which a reader opened without it has not loaded yet: await
 * `loadH5wasm()` and retry. Only readers that can wait (the cache reader) open shards so.
 */
export class H5wasmNeeded extends Error {
  constructor(readonly path: string) {
    super(`${path} needs h5wasm, which is not loaded yet`);
    this.name = "H5wasmNeeded";
  }
}

/** `module`, or the realm's h5wasm if it has loaded meanwhile; H5wasmNeeded if neither. */
function wasmModule(module: H5Module | undefined, path: string): H5Module {
  const m = module ?? loadedH5wasm();
  if (!m) throw new H5wasmNeeded(path);
  return m;
}

/** What a link in a group points at. */
export type ShardObjectKind = H5ObjectKind;

/**
 * A hyperslab: `start` and `count` per axis (defaults: from 0, to the end); `parallel` lets the
 * native reader inflate a large read's chunks on two threads (h5wasm ignores it).
 */
export type ShardReadOptions = H5ReadOptions & { parallel?: ParallelInflate };

/** A shard open for reading. Both HDF5 readers implement it. */
export interface ShardReader {
  /** The file's path on disk. */
  readonly path: string;
  /** Dtype, shape and (chunked) chunk shape of the dataset at `path`; FormatError when none. */
  describe(path: string): { dtype: DType; shape: number[]; chunkShape?: number[] };
  /** The filter pipeline of the dataset at `path`, in write order (`deflate`, `shuffle`). */
  filters(path: string): H5Filter[];
  /** What `path` is, or undefined when nothing is linked there. */
  kind(path: string): ShardObjectKind | undefined;
  /** The members of a group, in HDF5's order; FormatError when there is no such group. */
  names(groupPath: string): string[];
  /** The dataset at `path`, whole or a hyperslab, in its own dtype. */
  read(path: string, options?: ShardReadOptions): Tensor;
  /** Releases the file. */
  close(): void;
}

/**
 * A shard read natively, with h5wasm opened on first need for whatever the native reader
 * reports unsupported.
 */
export class NativeFirstReader implements ShardReader {
  readonly path: string;
  #native: NativeH5File;
  #module: H5Module | undefined;
  #wasm?: H5File;

  /** `module` undefined: h5wasm is used once loaded (see {@linkcode H5wasmNeeded}). */
  constructor(native: NativeH5File, module: H5Module | undefined) {
    this.path = native.path;
    this.#native = native;
    this.#module = module;
  }

  #either<T>(native: (f: NativeH5File) => T, wasm: (f: H5File) => T): T {
    try {
      return native(this.#native);
    } catch (e) {
      if (!isUnsupported(e)) throw e;
      this.#wasm ??= H5File.openWith(wasmModule(this.#module, this.path), this.path);
      return wasm(this.#wasm);
    }
  }

  describe(path: string): { dtype: DType; shape: number[]; chunkShape?: number[] } {
    return this.#either((f) => f.describe(path), (f) => f.describe(path));
  }

  filters(path: string): H5Filter[] {
    return this.#either((f) => f.filters(path), (f) => f.filters(path));
  }

  kind(path: string): ShardObjectKind | undefined {
    return this.#either((f) => f.kind(path), (f) => f.kind(path));
  }

  names(groupPath: string): string[] {
    return this.#either((f) => f.names(groupPath), (f) => f.names(groupPath));
  }

  read(path: string, options?: ShardReadOptions): Tensor {
    return this.#either((f) => f.read(path, options), (f) => f.read(path, options));
  }

  close(): void {
    this.#native.close();
    this.#wasm?.close();
  }
}

/** Options of {@linkcode openShard}. */
export interface OpenShardOptions {
  /** Read natively where the file allows it (default true); false reads only through h5wasm. */
  native?: boolean;
}

/**
 * Opens `path`: natively when its superblock and root group are of the native profile, else
 * through h5wasm. A missing, truncated or damaged file throws FormatError naming it. With
 * `module` undefined, what needs an h5wasm not loaded yet throws {@linkcode H5wasmNeeded}.
 */
export function openShard(
  module: H5Module | undefined,
  path: string,
  options: OpenShardOptions = {},
): ShardReader {
  if (options.native ?? true) {
    try {
      return new NativeFirstReader(NativeH5File.open(path), module);
    } catch (e) {
      if (!isUnsupported(e)) throw e;
    }
  }
  return H5File.openWith(wasmModule(module, path), path);
}

/** Open shards by path, at most `max`; the least recently used closes first. */
export class ShardCache {
  #module: H5Module | undefined;
  #max: number;
  #options: OpenShardOptions;
  /** Map order is recency: the last entry is the most recent. */
  #open = new Map<string, ShardReader>();

  /** `module` undefined: as {@linkcode openShard}'s. */
  constructor(module: H5Module | undefined, max: number, options: OpenShardOptions = {}) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${max}`);
    }
    this.#module = module;
    this.#max = max;
    this.#options = options;
  }

  /** Files open now. */
  get size(): number {
    return this.#open.size;
  }

  /** The open file at `path`, opening it (and closing the oldest) if needed. */
  get(path: string): ShardReader {
    const hit = this.#open.get(path);
    if (hit) {
      this.#open.delete(path);
      this.#open.set(path, hit);
      return hit;
    }
    const file = openShard(this.#module, path, this.#options);
    this.#open.set(path, file);
    if (this.#open.size > this.#max) {
      const [oldest, handle] = this.#open.entries().next().value!;
      this.#open.delete(oldest);
      handle.close();
    }
    return file;
  }

  /** Closes every file. */
  clear(): void {
    for (const file of this.#open.values()) file.close();
    this.#open.clear();
  }
}
