/**
 * The mirror of the shard sink: reads a cache through its index and yields the records the sink
 * consumed, so migration, resharding and verification are pipelines of the same parts.
 *
 * @module
 */
import { SampleError } from "../errors.ts";
import { shardFileName } from "../formats/shard_index.ts";
import { type CacheReader, openCache } from "../ops/cache_reader.ts";
import type { Sample, SampleFailure } from "./record.ts";

/** Options of {@linkcode Hdf5Source}. */
export interface Hdf5SourceOptions {
  /** Keys to read, in this order (default: every key, in index order). */
  keys?: string[];
  /** Shard files kept open at once. Default 64. */
  maxOpenFiles?: number;
}

/**
 * A stream of the samples of a cache: key and tensors (float16 stays float16), with origin
 * `features_00001.h5:/key`. A sample that cannot be read (missing group, corrupt chunk, key not
 * in the index) becomes a {@linkcode SampleFailure} and the stream goes on. Pull-based: one
 * sample is read per pull, so memory stays bounded by the consumer's queue.
 *
 * @example
 * ```ts ignore
 * for await (const r of new Hdf5Source("processed/ljspeech")) {
 *   if (!("error" in r)) console.log(r.key, r.tensors.hidden_states.shape);
 * }
 * ```
 */
export class Hdf5Source extends ReadableStream<Sample | SampleFailure> {
  constructor(dir: string, options: Hdf5SourceOptions = {}) {
    if (options.keys !== undefined && !Array.isArray(options.keys)) {
      throw new TypeError(`Hdf5Source: keys must be an array, got ${typeof options.keys}`);
    }
    let cache: CacheReader | undefined;
    let keys: string[] = [];
    let next = 0;
    const done = () => {
      cache?.close();
      cache = undefined;
    };
    super({
      async start() {
        cache = await openCache(dir, { maxOpenFiles: options.maxOpenFiles });
        keys = options.keys ? options.keys.slice() : cache.keys();
      },
      async pull(controller) {
        if (!cache || next >= keys.length) {
          done();
          controller.close();
          return;
        }
        const key = keys[next++];
        const entry = cache.has(key) ? cache.index.sample_index[key] : undefined;
        const file = entry ? shardFileName(entry.file_idx) : undefined;
        const origin = file ? `${file}:/${entry!.group_name}` : undefined;
        try {
          const tensors = await cache.get(key);
          controller.enqueue({ key, tensors, origin });
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          const error = new SampleError(key, reason, file, undefined, { cause: e });
          controller.enqueue(origin ? { key, origin, error } : { key, error });
        }
      },
      cancel() {
        done();
      },
    }, { highWaterMark: 1 });
  }
}
