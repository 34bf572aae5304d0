/**
 * Reading one sample group (its datasets, optionally a frame range of each) from a shard, and a
 * small LRU of open shards. Shared by the cache reader on the calling thread and its workers.
 *
 * @module
 */
import { FormatError, KeyError } from "../../errors.ts";
import { timeAxis } from "../chunks.ts";
import type { Tensor } from "../tensor.ts";
import { H5File } from "./h5_file.ts";
import type { H5Module } from "./module.ts";

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
  file: H5File,
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

function groupNames(file: H5File, key: string, group: string, label: string): string[] {
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

/** Open shards by path, at most `max`; the least recently used closes first. */
export class H5FileCache {
  #module: H5Module;
  #max: number;
  /** Map order is recency: the last entry is the most recent. */
  #open = new Map<string, H5File>();

  constructor(module: H5Module, max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${max}`);
    }
    this.#module = module;
    this.#max = max;
  }

  /** Files open now. */
  get size(): number {
    return this.#open.size;
  }

  /** The open file at `path`, opening it (and closing the oldest) if needed. */
  get(path: string): H5File {
    const hit = this.#open.get(path);
    if (hit) {
      this.#open.delete(path);
      this.#open.set(path, hit);
      return hit;
    }
    const file = H5File.openWith(this.#module, path);
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
