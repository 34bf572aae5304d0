/**
 * Reading one sample group (its datasets, optionally a frame range of each) from a shard, and a
 * small LRU of open shards. Shared by the cache reader on the calling thread and its workers.
 *
 * Shards are read natively ({@linkcode NativeH5File}) when they are of the "earliest" profile
 * (ours, h5py's default), and through h5wasm otherwise: per file, and per object when a file
 * mixes both (e.g. one dataset with a filter the native reader lacks).
 *
 * @module
 */
import { FormatError, KeyError } from "../../errors.ts";
import { timeAxis } from "../chunks.ts";
import type { DType } from "../dtype.ts";
import { isUnsupported, NativeH5File } from "../hdf5/reader/mod.ts";
import type { Tensor } from "../tensor.ts";
import { H5File, type H5ObjectKind, type H5ReadOptions } from "./h5_file.ts";
import type { H5Module } from "./module.ts";

/** What {@linkcode readSample} needs of an open shard; {@linkcode H5File} has it. */
export interface SampleFile {
  /** The file's path on disk. */
  readonly path: string;
  /** Dtype and shape of the dataset at `path`; FormatError when there is none. */
  describe(path: string): { dtype: DType; shape: number[] };
  /** What `path` is, or undefined when nothing is linked there. */
  kind(path: string): H5ObjectKind | undefined;
  /** The members of a group, in HDF5's order; FormatError when there is no such group. */
  names(groupPath: string): string[];
  /** The dataset at `path`, whole or a hyperslab, in its own dtype. */
  readAs(path: string, dtype: DType, shape: number[], options?: H5ReadOptions): Tensor;
  /** Releases the file. */
  close(): void;
}

/** What to read of a sample. */
export interface SampleReadOptions {
  /** Datasets to read (default: every dataset in the group). */
  datasets?: string[];
  /** Frames `[start, end)` of the time axis of each dataset that has one. */
  frames?: [start: number, end: number];
}

/** Throws RangeError quoting `frames` unless it is `[start, end]` with `0 <= start <= end`. */
export function checkFrames(frames: readonly number[]): void {
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

/**
 * Reads the datasets of the group `group` (the sample `key`) from `file`. `label` names the
 * shard in messages (`features_00001.h5`). Unknown dataset -> KeyError naming key and dataset;
 * frames past a dataset's end -> RangeError quoting them; missing group -> FormatError.
 */
export function readSample(
  file: SampleFile,
  key: string,
  group: string,
  label: string,
  options: SampleReadOptions = {},
): Record<string, Tensor> {
  const frames = options.frames;
  if (frames) checkFrames(frames);
  const g = group.startsWith("/") ? group : `/${group}`;
  const names = options.datasets ?? groupNames(file, key, g, label);
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    const path = `${g}/${name}`;
    let info;
    try {
      info = file.describe(path);
    } catch (e) {
      const kind = e instanceof FormatError ? file.kind(path) : "dataset";
      // Names come without kinds (cheaper); a sub-group (a nested key's parent) is skipped.
      if (kind === "group" && !options.datasets) continue;
      if (kind !== "dataset") {
        throw new KeyError(key, `no dataset ${JSON.stringify(name)} in ${label}:${g}`, {
          cause: e,
        });
      }
      throw e;
    }
    const axis = timeAxis(info.shape);
    if (frames && axis >= 0) {
      const [start, end] = frames;
      const t = info.shape[axis];
      if (end > t) {
        throw new RangeError(
          `key ${JSON.stringify(key)} dataset ${JSON.stringify(name)}: frames [${start}, ${end}] ` +
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

function groupNames(file: SampleFile, key: string, group: string, label: string): string[] {
  try {
    return file.names(group);
  } catch (e) {
    if (file.kind(group) === undefined) {
      throw new FormatError(
        file.path,
        `no group ${group} in ${label}, where the index puts key ${JSON.stringify(key)}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/**
 * A shard read natively, with h5wasm opened on first need for whatever the native reader
 * reports unsupported.
 */
export class NativeFirstFile implements SampleFile {
  readonly path: string;
  #native: NativeH5File;
  #module: H5Module;
  #wasm?: H5File;

  constructor(native: NativeH5File, module: H5Module) {
    this.path = native.path;
    this.#native = native;
    this.#module = module;
  }

  #either<T>(native: (f: NativeH5File) => T, wasm: (f: H5File) => T): T {
    try {
      return native(this.#native);
    } catch (e) {
      if (!isUnsupported(e)) throw e;
      this.#wasm ??= H5File.openWith(this.#module, this.path);
      return wasm(this.#wasm);
    }
  }

  describe(path: string): { dtype: DType; shape: number[] } {
    return this.#either((f) => f.describe(path), (f) => f.describe(path));
  }

  kind(path: string): H5ObjectKind | undefined {
    return this.#either((f) => f.kind(path), (f) => f.kind(path));
  }

  names(groupPath: string): string[] {
    return this.#either((f) => f.names(groupPath), (f) => f.names(groupPath));
  }

  readAs(path: string, dtype: DType, shape: number[], options?: H5ReadOptions): Tensor {
    return this.#either(
      (f) => f.readAs(path, dtype, shape, options),
      (f) => f.readAs(path, dtype, shape, options),
    );
  }

  close(): void {
    this.#native.close();
    this.#wasm?.close();
  }
}

/** Options of {@linkcode H5FileCache}. */
export interface H5FileCacheOptions {
  /** Read natively where the file allows it (default true); false reads only through h5wasm. */
  native?: boolean;
}

/**
 * Opens `path` for {@linkcode readSample}: natively when its superblock and root group are of
 * the native profile, else through h5wasm (whose errors name a missing or non-HDF5 file).
 */
export function openSampleFile(module: H5Module, path: string, native = true): SampleFile {
  if (native) {
    try {
      return new NativeFirstFile(NativeH5File.open(path), module);
    } catch (e) {
      if (!isUnsupported(e)) throw e;
    }
  }
  return H5File.openWith(module, path);
}

/** Open shards by path, at most `max`; the least recently used closes first. */
export class H5FileCache {
  #module: H5Module;
  #max: number;
  #native: boolean;
  /** Map order is recency: the last entry is the most recent. */
  #open = new Map<string, SampleFile>();

  constructor(module: H5Module, max: number, options: H5FileCacheOptions = {}) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${max}`);
    }
    this.#module = module;
    this.#max = max;
    this.#native = options.native ?? true;
  }

  /** Files open now. */
  get size(): number {
    return this.#open.size;
  }

  /** The open file at `path`, opening it (and closing the oldest) if needed. */
  get(path: string): SampleFile {
    const hit = this.#open.get(path);
    if (hit) {
      this.#open.delete(path);
      this.#open.set(path, hit);
      return hit;
    }
    const file = openSampleFile(this.#module, path, this.#native);
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
