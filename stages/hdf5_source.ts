/**
 * The mirror of the shard sink: reads a cache through its index and yields the records the sink
 * consumed, so migration, resharding and verification are pipelines of the same parts.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { KeyError, SampleError } from "../errors.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { readSample } from "../formats/read_sample.ts";
import { INDEX_FILE, shardFileName, type ShardIndex } from "../formats/shard_index.ts";
import { ShardCache } from "../formats/shard_reader.ts";
import type { Tensor } from "../formats/tensor.ts";
import { absoluteDir, readCacheIndex } from "../cache/cache_index.ts";
import { ReadPool } from "./read_pool.ts";
import type { Sample, SampleFailure } from "./record.ts";

const DEFAULT_MAX_OPEN_FILES = PREPROCESSING_DEFAULTS.max_open_files;

/** Options of {@linkcode Hdf5Source}. */
export interface Hdf5SourceOptions {
  /** Keys to read, in this order (default: every key, in index order). */
  keys?: string[];
  /** Shard files kept open at once. Default: `preprocessing.max_open_files`. */
  maxOpenFiles?: number;
  /**
   * Read on this many Web Workers, with up to two samples per worker read ahead of the
   * consumer (so memory stays bounded by that many samples). Default 0: read on this thread,
   * one sample per pull.
   */
  workers?: number;
}

/**
 * A stream of the samples of a cache: key and tensors (float16 stays float16), with origin
 * `features_00001.h5:/key`. A sample that cannot be read (missing group, corrupt chunk, key not
 * in the index) becomes a {@linkcode SampleFailure} and the stream goes on. Pull-based: one
 * sample is read per pull (with `workers`, up to two per worker ahead), in key order, so memory
 * stays bounded whatever the cache size.
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { Hdf5Source } from "./hdf5_source.ts";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array(16 * 4).fill(1);
 * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [16, 4], data } } };
 * await pack(ReadableStream.from([sample]), dir);
 * for await (const r of new Hdf5Source(dir)) {
 *   if (!("error" in r)) console.log(r.key, r.tensors.x.shape); // a [16, 4]
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Hdf5Source extends ReadableStream<Sample | SampleFailure> {
  constructor(dir: string, options: Hdf5SourceOptions = {}) {
    if (options.keys !== undefined && !Array.isArray(options.keys)) {
      throw new TypeError(`Hdf5Source: keys must be an array, got ${typeof options.keys}`);
    }
    const workers = options.workers ?? 0;
    const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    if (!Number.isSafeInteger(workers) || workers < 0) {
      throw new RangeError(`Hdf5Source: workers must be an integer >= 0, got ${workers}`);
    }
    if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 1) {
      throw new RangeError(`Hdf5Source: maxOpenFiles must be an integer >= 1, got ${maxOpenFiles}`);
    }
    const ahead = Math.max(1, 2 * workers);
    const abs = absoluteDir(dir);
    let index: ShardIndex | undefined;
    let files: ShardCache | undefined;
    let pool: ReadPool | undefined;
    let keys: string[] = [];
    let next = 0;
    // Reads started, oldest first; each settles to the record to enqueue.
    const inFlight: Promise<Sample | SampleFailure>[] = [];
    const done = () => {
      files?.clear();
      pool?.terminate();
      files = undefined;
      pool = undefined;
    };
    const tensorsOf = (key: string): Promise<Record<string, Tensor>> => {
      const entry = Object.hasOwn(index!.sample_index, key) ? index!.sample_index[key] : undefined;
      if (!entry) {
        return Promise.reject(new KeyError(key, `not in ${INDEX_FILE} of ${dir}`));
      }
      const label = shardFileName(entry.file_idx);
      const path = `${abs}/${label}`;
      if (pool) return pool.read(path, label, key, entry.group_name, {});
      try {
        return Promise.resolve(readSample(files!.get(path), key, entry.group_name, label));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    const read = (key: string): Promise<Sample | SampleFailure> => {
      const entry = Object.hasOwn(index!.sample_index, key) ? index!.sample_index[key] : undefined;
      const file = entry ? shardFileName(entry.file_idx) : undefined;
      const origin = file ? `${file}:/${entry!.group_name}` : undefined;
      return tensorsOf(key).then(
        (tensors): Sample => ({ key, tensors, origin }),
        (e): SampleFailure => {
          const reason = e instanceof Error ? e.message : String(e);
          const error = new SampleError(key, reason, file, undefined, { cause: e });
          return origin ? { key, origin, error } : { key, error };
        },
      );
    };
    super({
      async start() {
        index = await readCacheIndex(dir);
        if (workers) pool = new ReadPool(workers, maxOpenFiles);
        else files = new ShardCache(await loadH5wasm(), maxOpenFiles);
        keys = options.keys ? options.keys.slice() : Object.keys(index.sample_index);
      },
      async pull(controller) {
        while ((files || pool) && next < keys.length && inFlight.length < ahead) {
          inFlight.push(read(keys[next++]));
        }
        const record = inFlight.shift();
        if (!record) {
          done();
          controller.close();
          return;
        }
        controller.enqueue(await record);
      },
      cancel() {
        done();
      },
    }, { highWaterMark: 1 });
  }
}
