/**
 * Rewriting a cache into a new one with other settings (shard size, float16, compression):
 * the source read through its index by {@linkcode Hdf5Source}, written by {@linkcode pack}.
 * The source is never modified; a destination that already has an index is resumed.
 *
 * @module
 */
import { CacheError } from "../errors.ts";
import { Hdf5Source } from "../stages/hdf5_source.ts";
import { readCacheIndex } from "./cache_reader.ts";
import { indexedKeys, pack, type PackOptions, type RunReport } from "./pack.ts";

/** Options of {@linkcode reshard}: those of {@linkcode pack}, plus the source's open-file budget. */
export interface ReshardOptions extends PackOptions {
  /** Source shards kept open at once. Default 64. */
  maxOpenFiles?: number;
}

/** True when `a` and `b` name the same existing directory. */
async function sameDir(a: string, b: string): Promise<boolean> {
  try {
    return (await Deno.realPath(a)) === (await Deno.realPath(b));
  } catch {
    return false;
  }
}

/**
 * Copies every sample of the cache `src` into the cache `dst` with the settings in `options`.
 * Keys already in `dst` are skipped (counted in `skipped`, in progress too) unless
 * `overwrite_existing`. A
 * sample that cannot be read (a damaged shard) is a failure, named in the report's `failures`
 * and in `dst`'s `error_log.json`; the rest are written.
 *
 * @example
 * ```ts
 * import { pack, reshard } from "../mod.ts";
 * const dir = await Deno.makeTempDir();
 * const data = new Float32Array(8 * 4).fill(0.25);
 * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [8, 4], data } } };
 * await pack(ReadableStream.from([sample]), `${dir}/src`);
 * const report = await reshard(`${dir}/src`, `${dir}/dst`, {
 *   preprocessing: { use_float16: false, compression_level: 6 },
 * });
 * console.log(report.written, report.failed); // 1 0
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function reshard(
  src: string,
  dst: string,
  options: ReshardOptions = {},
): Promise<RunReport> {
  if (await sameDir(src, dst)) {
    throw new CacheError(
      dst,
      "the destination must differ from the source: reshard never modifies its source",
    );
  }
  const index = await readCacheIndex(src);
  const all = Object.keys(index.sample_index);
  const done = options.preprocessing?.overwrite_existing ? new Set<string>() : indexedKeys(dst);
  const keys = all.filter((k) => !done.has(k));
  const already = all.length - keys.length;
  const onProgress = options.onProgress;
  const report = await pack(
    new Hdf5Source(src, { keys, maxOpenFiles: options.maxOpenFiles }),
    dst,
    {
      ...options,
      dataset: options.dataset ?? `reshard of ${src}`,
      // Progress counts the keys skipped up front too, so it runs to the source's size.
      onProgress: onProgress && ((s) => onProgress({ ...s, skipped: s.skipped + already })),
    },
  );
  report.skipped += already;
  return report;
}
