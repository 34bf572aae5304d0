/**
 * Reading one sample group from an open shard: its datasets, whole or a frame range of those
 * that have a time axis. Shared by the cache reader on the calling thread and its workers.
 *
 * @module
 */
import { FormatError, KeyError, withWhere } from "../errors.ts";
import { timeAxis } from "./chunks.ts";
import type { ParallelInflate } from "./parallel_inflate.ts";
import type { ShardReader } from "./shard_reader.ts";
import type { Tensor } from "./tensor.ts";

/**
 * A frame range as Python writes a slice `start:end`: `start` inclusive, `end` exclusive and
 * optional (to the last frame); a negative value counts from the end. Like h5py, a range past
 * the end is clamped and one that ends before it starts is empty.
 */
export type FrameRange = [start: number, end?: number];

/** What to read of a sample. */
export interface SampleReadOptions {
  /** Datasets to read (default: every dataset in the group). */
  datasets?: string[];
  /**
   * Frames to read of each dataset with a time axis: those of rank 2 or more, `(T, D)` on
   * axis 0 and `(1, T, D)` on axis 1 ({@linkcode timeAxis}). One-dimensional datasets (phone
   * ids, durations: not per frame) and scalars come whole.
   */
  frames?: FrameRange;
  /** Inflate each large dataset read's chunks on two threads (see `parallel_inflate.ts`). */
  parallel?: ParallelInflate;
}

/** Throws RangeError quoting `frames` unless it is `[start]` or `[start, end]` of integers. */
export function checkFrames(frames: readonly (number | undefined)[]): void {
  const [start, end] = frames;
  if (
    !Array.isArray(frames) || frames.length < 1 || frames.length > 2 ||
    !Number.isSafeInteger(start) || (end !== undefined && !Number.isSafeInteger(end))
  ) {
    throw new RangeError(
      `frames must be [start, end?] of integers (Python slice bounds), got ${
        JSON.stringify(frames)
      }`,
    );
  }
}

/** `[start, end)` of `frames` on an axis of `n` frames, clamped as Python slices are. */
export function resolveFrames(frames: FrameRange, n: number): [number, number] {
  const bound = (v: number) => Math.min(n, Math.max(0, v < 0 ? n + v : v));
  const start = bound(frames[0]);
  const end = frames[1] === undefined ? n : bound(frames[1]);
  return [start, Math.max(start, end)];
}

/**
 * Reads the datasets of the group `group` (the sample `key`) from `file`. `label` names the
 * shard in messages (`features_00001.h5`). Unknown dataset -> KeyError naming key and dataset
 * and listing those the sample has; missing group -> FormatError; damage -> FormatError
 * carrying file, key and dataset.
 */
export function readSample(
  file: ShardReader,
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
      const kind = e instanceof FormatError ? kindOf(file, path) : "dataset";
      // Names come without kinds (cheaper); a sub-group (a nested key's parent) is skipped.
      if (kind === "group" && !options.datasets) continue;
      if (kind === undefined || (kind === "group" && options.datasets)) {
        throw new KeyError(
          key,
          `no dataset ${JSON.stringify(name)} in ${label}:${g}; it has ${datasetList(file, g)}`,
          { cause: e },
        );
      }
      throw withWhere(e, { key, dataset: path });
    }
    const axis = info.shape.length >= 2 ? timeAxis(info.shape) : -1;
    try {
      if (frames && axis >= 0) {
        const [start, end] = resolveFrames(frames, info.shape[axis]);
        const begin = info.shape.map(() => 0);
        begin[axis] = start;
        const count = info.shape.slice();
        count[axis] = end - start;
        out[name] = file.read(path, { start: begin, count, parallel: options.parallel });
      } else {
        out[name] = file.read(path, { parallel: options.parallel });
      }
    } catch (e) {
      throw withWhere(e, { key, dataset: path });
    }
  }
  if (!options.datasets && Object.keys(out).length === 0) {
    throw new FormatError(
      file.path,
      `group ${g} of ${label}, indexed as key ${JSON.stringify(key)}, holds no datasets`,
      { key },
    );
  }
  return out;
}

/** What `path` is; "dataset" when looking it up fails too (the error at hand says why). */
function kindOf(file: ShardReader, path: string): string | undefined {
  try {
    return file.kind(path);
  } catch {
    return "dataset";
  }
}

function datasetList(file: ShardReader, group: string): string {
  try {
    const names = file.names(group).filter((n) => file.kind(`${group}/${n}`) === "dataset");
    return names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "no datasets";
  } catch {
    return "no readable datasets";
  }
}

function groupNames(file: ShardReader, key: string, group: string, label: string): string[] {
  try {
    return file.names(group);
  } catch (e) {
    if (!(e instanceof FormatError) || file.kind(group) !== undefined) throw withWhere(e, { key });
    throw new FormatError(
      file.path,
      `no group ${group} in ${label}, where the index puts key ${JSON.stringify(key)}`,
      { cause: e, key },
    );
  }
}
