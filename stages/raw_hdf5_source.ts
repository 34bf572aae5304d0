/**
 * {@linkcode RawHdf5Source}: the samples of a cache as they are stored, compressed chunks
 * untouched, ready for the shard sink. For rewriting a cache whose chunks stay the same (only
 * `samples_per_hdf5` or the shard layout changes): no inflate, no deflate.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { CacheError, SampleError } from "../errors.ts";
import { chooseChunkShape } from "../formats/chunks.ts";
import { DTYPES, elementCount } from "../formats/dtype.ts";
import type { DatasetSpec } from "../formats/hdf5/dataset_spec.ts";
import { filterSpecs } from "../formats/hdf5/messages/filter_pipeline.ts";
import { RawChunkReader } from "../formats/hdf5/reader/raw_chunks.ts";
import { INDEX_FILE, shardFileName, type ShardIndex } from "../formats/shard_index.ts";
import { readCacheIndexIfAny } from "../cache/cache_index.ts";
import { join } from "../util/path.ts";
import type { EncodedSample, SampleFailure } from "./record.ts";

/** Options of {@linkcode RawHdf5Source}. */
export interface RawHdf5SourceOptions {
  /** Keys to read, in this order (default: every key, in index order). */
  keys?: string[];
  /** Shard files kept open at once. Default: `preprocessing.max_open_files`. */
  maxOpenFiles?: number;
  /**
   * The target's settings. A sample whose stored chunks are not what these settings make
   * (other filters, chunk shape or float type) is not yielded but listed in
   * {@linkcode RawHdf5Source.deferred}, for the caller to encode afresh.
   */
  target?: RawCopyTarget;
}

/** What a cache's settings make of a dataset's chunks. */
export interface RawCopyTarget {
  level: number;
  shuffle: boolean;
  chunkBytes: number;
  useFloat16: boolean;
}

/** Why `spec` is not what `target` would store, or undefined when it is. */
export function rawCopyMismatch(spec: DatasetSpec, target: RawCopyTarget): string | undefined {
  const { dtype, shape, layout } = spec;
  if (target.useFloat16 && (dtype === "float32" || dtype === "float64")) {
    return `${dtype}, not float16`;
  }
  if (layout.kind === "contiguous") return undefined;
  const filters = filterSpecs(target.shuffle, target.level);
  if (JSON.stringify(layout.filters) !== JSON.stringify(filters)) {
    return `filters ${JSON.stringify(layout.filters)}, not ${JSON.stringify(filters)}`;
  }
  const chunks = chooseChunkShape(shape, DTYPES[dtype].size, target.chunkBytes);
  if (JSON.stringify(chunks) !== JSON.stringify(layout.chunkShape)) {
    return `chunk shape ${JSON.stringify(layout.chunkShape)}, not ${JSON.stringify(chunks)}`;
  }
  return undefined;
}

/**
 * A stream of a cache's samples as {@linkcode EncodedSample}s whose chunks are the stored
 * bytes. A sample that cannot be copied as stored (missing, damaged, other filters) becomes a
 * {@linkcode SampleFailure} naming it and the stream goes on. One sample per pull.
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { RawHdf5Source } from "./raw_hdf5_source.ts";
 * import { ShardSink } from "./shard_sink.ts";
 * const x = { dtype: "float32" as const, shape: [3, 2], data: new Float32Array(6) };
 * const keys = ["a", "b", "c"];
 * const dir = await Deno.makeTempDir();
 * await pack(ReadableStream.from(keys.map((key) => ({ key, tensors: { x } }))), `${dir}/cache`);
 * await new RawHdf5Source(`${dir}/cache`)
 *   .pipeTo(new ShardSink(`${dir}/by_two`, { samplesPerFile: 2 }));
 * const shards = [...Deno.readDirSync(`${dir}/by_two`)].filter((e) => e.name.endsWith(".h5"));
 * if (shards.length !== 2) throw new Error(`${shards.length} shards`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RawHdf5Source extends ReadableStream<EncodedSample | SampleFailure> {
  /** Keys held back because their stored chunks differ from `options.target` (see there). */
  readonly deferred: string[];

  constructor(dir: string, options: RawHdf5SourceOptions = {}) {
    const maxOpen = options.maxOpenFiles ?? PREPROCESSING_DEFAULTS.max_open_files;
    if (!Number.isSafeInteger(maxOpen) || maxOpen < 1) {
      throw new RangeError(`RawHdf5Source: maxOpenFiles must be >= 1, got ${maxOpen}`);
    }
    const target = options.target;
    const deferred: string[] = [];
    const open = new Map<number, RawChunkReader>();
    let index: ShardIndex;
    let keys: string[] = [];
    let next = 0;
    const closeAll = () => {
      for (const r of open.values()) r.close();
      open.clear();
    };
    const reader = (idx: number): RawChunkReader => {
      let r = open.get(idx);
      if (r) {
        // Most recently used last.
        open.delete(idx);
        open.set(idx, r);
        return r;
      }
      if (open.size >= maxOpen) {
        const [oldest, old] = open.entries().next().value!;
        old.close();
        open.delete(oldest);
      }
      r = RawChunkReader.open(join(dir, shardFileName(idx)));
      open.set(idx, r);
      return r;
    };
    const copy = (key: string): EncodedSample | SampleFailure | undefined => {
      const entry = index.sample_index[key];
      if (!entry) {
        return { key, error: new SampleError(key, `not in ${join(dir, INDEX_FILE)}`) };
      }
      const origin = `${shardFileName(entry.file_idx)}:/${entry.group_name}`;
      try {
        const { datasets } = reader(entry.file_idx).read(entry.group_name);
        let inputBytes = 0;
        for (const spec of Object.values(datasets)) {
          if (target && rawCopyMismatch(spec, target)) {
            deferred.push(key);
            return undefined;
          }
          inputBytes += elementCount(spec.shape) * DTYPES[spec.dtype].size;
        }
        return { key, datasets, inputBytes, origin };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        return { key, origin, error };
      }
    };
    super({
      start() {
        const found = readCacheIndexIfAny(dir);
        if (!found) throw new CacheError(dir, `no ${INDEX_FILE}: not a cache directory`);
        index = found;
        keys = options.keys ?? Object.keys(index.sample_index);
      },
      pull(controller) {
        while (next < keys.length) {
          const record = copy(keys[next++]);
          if (record) return controller.enqueue(record);
        }
        closeAll();
        controller.close();
      },
      cancel: closeAll,
    }, { highWaterMark: 0 });
    this.deferred = deferred;
  }
}
