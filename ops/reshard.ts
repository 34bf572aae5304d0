/**
 * Rewriting a cache into a new one with other settings (shard size, float16, compression):
 * the source read through its index by {@linkcode Hdf5Source}, written by {@linkcode pack}.
 * When the target keeps the stored chunks (only the shard layout changes), they are copied as
 * they are ({@linkcode RawHdf5Source} into {@linkcode packEncoded}): no inflate, no deflate.
 * The source is never modified; a destination that already has an index is resumed.
 *
 * @module
 */
import { readCacheMetadata, recordedEncoding } from "../cache/cache_metadata.ts";
import { CacheError } from "../errors.ts";
import { Hdf5Source } from "../stages/hdf5_source.ts";
import { RawHdf5Source } from "../stages/raw_hdf5_source.ts";
import { readCacheIndex } from "./cache_reader.ts";
import { type ChunkSettings, chunkSettings, resolvePreprocessing } from "../config/settings.ts";
import {
  indexedKeys,
  packEncodedWith,
  type PackOptions,
  packWith,
  type RunReport,
} from "./pack.ts";
import { type CacheOrigin, checkTargetCache, realPathOr } from "./target_check.ts";

/** Options of {@linkcode reshard}: those of {@linkcode pack}, plus the source's open-file budget. */
export interface ReshardOptions extends PackOptions {
  /** Source shards kept open at once. Default: `preprocessing.max_open_files`. */
  maxOpenFiles?: number;
  /**
   * Copy the stored (compressed) chunks as they are instead of decoding and encoding again.
   * Default: when the source's `metadata.json` records the target's compression level, shuffle
   * and chunk size and its index the same `use_float16`, so only the shard layout changes.
   * Samples whose chunks the target's settings would not make are encoded afresh either way.
   */
  copyChunks?: boolean;
}

/** What {@linkcode reshard} reports. */
export interface ReshardReport extends RunReport {
  /** Samples whose compressed chunks were copied as stored. */
  copiedChunks: number;
}

/** Whether `src`'s recorded settings make the chunks the target settings would make. */
function sameChunkSettings(src: string, useFloat16: boolean, target: ChunkSettings): boolean {
  const meta = readCacheMetadata(src);
  if (meta === undefined) return false;
  const recorded = recordedEncoding(meta);
  return useFloat16 === target.useFloat16 &&
    recorded.compressionLevel === target.compressionLevel &&
    recorded.shuffle === target.shuffle && recorded.chunkBytes === target.chunkBytes;
}

/** Two runs into the same cache, reported as one. */
function addReports(a: RunReport, b: RunReport): RunReport {
  return {
    ...b,
    written: a.written + b.written,
    samples: a.samples + b.samples,
    skipped: a.skipped + b.skipped,
    failed: a.failed + b.failed,
    inputBytes: a.inputBytes + b.inputBytes,
    storedBytes: a.storedBytes + b.storedBytes,
    seconds: a.seconds + b.seconds,
    failures: [...a.failures, ...b.failures],
    warnings: [...a.warnings, ...b.warnings],
  };
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
): Promise<ReshardReport> {
  if (await sameDir(src, dst)) {
    throw new CacheError(
      dst,
      "the destination must differ from the source: reshard never modifies its source",
    );
  }
  const index = await readCacheIndex(src);
  // Settings are resolved here, once, and handed down.
  const p = resolvePreprocessing(options.preprocessing);
  const chunk = chunkSettings(p);
  const origin: CacheOrigin = { command: "reshard", source: realPathOr(src) };
  // A destination holding another cache is refused and left as it is (as merge refuses it).
  checkTargetCache(dst, {
    origin,
    overwrite: p.overwrite_existing,
    onWarning: options.onWarning,
  });
  const all = Object.keys(index.sample_index);
  const done = p.overwrite_existing ? new Set<string>() : indexedKeys(dst);
  const keys = all.filter((k) => !done.has(k));
  const already = all.length - keys.length;
  const onProgress = options.onProgress;
  const packOptions: PackOptions = {
    ...options,
    dataset: options.dataset ?? `reshard of ${src}`,
    metadata: { ...options.metadata, origin },
    // Progress counts the keys skipped up front too, so it runs to the source's size.
    onProgress: onProgress && ((s) => onProgress({ ...s, skipped: s.skipped + already })),
  };
  const maxOpenFiles = options.maxOpenFiles;
  if (!(options.copyChunks ?? sameChunkSettings(src, index.use_float16, chunk))) {
    const report = await packWith(new Hdf5Source(src, { keys, maxOpenFiles }), dst, p, packOptions);
    report.skipped += already;
    return { ...report, copiedChunks: 0 };
  }
  const raw = new RawHdf5Source(src, {
    keys,
    maxOpenFiles,
    target: {
      level: chunk.compressionLevel,
      shuffle: chunk.shuffle,
      chunkBytes: chunk.chunkBytes,
      useFloat16: chunk.useFloat16,
    },
  });
  let report = await packEncodedWith(raw, dst, p, packOptions);
  const copiedChunks = report.written;
  if (raw.deferred.length) {
    const first = report;
    const rest = new Hdf5Source(src, { keys: raw.deferred, maxOpenFiles });
    report = addReports(
      first,
      await packWith(rest, dst, p, {
        ...packOptions,
        onProgress: onProgress && ((s) =>
          onProgress({
            ...s,
            written: s.written + first.written,
            failed: s.failed + first.failed,
            skipped: s.skipped + first.skipped + already,
          })),
      }),
    );
  }
  report.skipped += already;
  return { ...report, copiedChunks };
}
