/**
 * {@linkcode migrate}: a legacy NPZ cache (one `.npz` per sample) to an HDF5 cache, through the
 * standard pipeline. Resumable: keys already in the target's index are not even read.
 *
 * @module
 */
import { CacheError, errorMessage, SampleError } from "../errors.ts";
import { INDEX_FILE } from "../formats/shard_index.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import { getPlugin } from "../plugins/registry.ts";
import { deflateWorkers } from "../stages/deflate_stream.ts";
import { NpzEncodedSource } from "../stages/npz_source.ts";
import { checkSamePartition, type Partition, partitionKeys } from "./partition.ts";
import { join } from "../util/path.ts";
import type { EncodedSample, SampleFailure } from "../stages/record.ts";
import { chunkSettings, resolvePreprocessing } from "../config/settings.ts";
import { indexedKeys, packEncodedWith, type PackOptions, type RunReport } from "./pack.ts";
import { type CacheOrigin, checkTargetCache, realPathOr } from "./target_check.ts";

/** Options of {@linkcode migrate}. */
export interface MigrateOptions extends PackOptions {
  /** The legacy cache: `<npzDir>/<key>.npz`. */
  npzDir: string;
  /** The HDF5 cache to create or continue. */
  processedDir: string;
  /** Dataset plugin (decides which files and their keys): a registered name, a module path, or a plugin. */
  plugin: string | DatasetPlugin;
  /** Take only partition `index` of `count` of the sorted keys (an array job's task). */
  partition?: Partition;
  /** Called once the work is counted, before the first sample is read. */
  onPlan?: (plan: MigratePlan) => void;
}

/** The work of a migrate run, counted before it starts. */
export interface MigratePlan {
  /** NPZ files the plugin found (readable or not). */
  found: number;
  /** Of those, already in the target's index (not read again). */
  skipped: number;
  /** Samples this run will read, convert and store (or record as failed). */
  total: number;
}

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

/** Refuses a processed_dir that is the source, lies inside it, or is itself an NPZ cache. */
async function checkTarget(npzDir: string, processedDir: string): Promise<void> {
  const source = (await realPath(npzDir))!;
  // A processed_dir that does not exist yet is judged by its nearest existing ancestor.
  const missing: string[] = [];
  let probe = processedDir.startsWith("/") ? processedDir : `${Deno.cwd()}/${processedDir}`;
  probe = probe.replace(/\/+$/, "") || "/";
  let target = await realPath(probe);
  while (target === undefined && probe !== "/") {
    missing.unshift(probe.slice(probe.lastIndexOf("/") + 1));
    probe = probe.slice(0, probe.lastIndexOf("/")) || "/";
    target = await realPath(probe);
  }
  const full = [target ?? "", ...missing].join("/").replace(/\/{2,}/g, "/");
  if (full === source || full.startsWith(`${source}/`)) {
    throw new CacheError(
      processedDir,
      `is ${full === source ? "" : "inside "}the NPZ cache ${npzDir}: migrate never writes into ` +
        "its source; give a processed_dir outside it",
    );
  }
  if (missing.length > 0) return;
  let hasIndex = false;
  const npz: string[] = [];
  for await (const entry of Deno.readDir(processedDir)) {
    if (entry.name === INDEX_FILE) hasIndex = true;
    else if (entry.name.endsWith(".npz")) npz.push(entry.name);
  }
  if (!hasIndex && npz.length > 0) {
    throw new CacheError(
      processedDir,
      `holds ${npz.length} .npz file(s) (${npz.sort()[0]}, ...) and no ${INDEX_FILE}: it looks ` +
        "like a legacy NPZ cache, not a processed_dir. The order is: migrate <npz_dir> <processed_dir>",
    );
  }
}

/** What a source with nothing to migrate looks like, for the error message. */
async function whyEmpty(npzDir: string, plugin: DatasetPlugin): Promise<string> {
  const hint = await Deno.stat(join(npzDir, INDEX_FILE)).then(
    () =>
      ` It holds ${INDEX_FILE}: it looks like an HDF5 cache; the order is: migrate <npz_dir> <processed_dir>.`,
    () => "",
  );
  return `no .npz files found (the ${plugin.name} plugin looks for <key>.npz files below it).${hint}`;
}

/** Failures first (files that cannot be read at all), then the samples of the NPZ source. */
async function* withFailures(
  failures: SampleFailure[],
  source: ReadableStream<EncodedSample | SampleFailure>,
): AsyncGenerator<EncodedSample | SampleFailure> {
  yield* failures;
  yield* source;
}

/**
 * Migrates a legacy NPZ cache into an HDF5 cache and reports what happened. The NPZ files are
 * listed (and counted, see `onPlan`) before anything is written; a source with none is a
 * {@linkcode CacheError} naming what was looked for. Nothing is ever written into the source:
 * a processed_dir that is (or is inside) the NPZ cache, or that holds `.npz` files and no
 * index (arguments swapped), is refused. Broken symlinks and symlink loops in the source are
 * failed samples (in `error_log.json`), not silently skipped.
 */
export async function migrate(options: MigrateOptions): Promise<RunReport> {
  // Checked first so a typo in the source path does not leave an empty processed_dir behind.
  const info = await Deno.stat(options.npzDir).catch((e) => {
    throw new CacheError(options.npzDir, `cannot read the NPZ cache: ${errorMessage(e)}`, {
      cause: e,
    });
  });
  if (!info.isDirectory) throw new CacheError(options.npzDir, "the NPZ cache is not a directory");
  await checkTarget(options.npzDir, options.processedDir);
  const plugin = typeof options.plugin === "string"
    ? await getPlugin(options.plugin)
    : options.plugin;
  // Settings are resolved here, once, and handed down.
  const p = resolvePreprocessing(options.preprocessing);
  const origin: CacheOrigin = {
    command: "migrate",
    dataset: plugin.name,
    source: realPathOr(options.npzDir),
  };
  // A processed_dir holding another cache is refused and left as it is (as merge refuses it).
  checkTargetCache(options.processedDir, {
    origin,
    overwrite: p.overwrite_existing,
    onWarning: options.onWarning,
  });
  const done = p.overwrite_existing ? new Set<string>() : indexedKeys(options.processedDir);

  const listing: SampleRef[] = [];
  for await (const ref of plugin.discoverNpz(options.npzDir)) listing.push(ref);
  if (listing.length === 0) {
    throw new CacheError(options.npzDir, await whyEmpty(options.npzDir, plugin));
  }
  let mine = listing;
  let partition: Record<string, unknown> | undefined;
  if (options.partition) {
    const keys = listing.map((r) => r.key);
    const part = partitionKeys(keys, options.partition, p.samples_per_hdf5);
    checkSamePartition(options.processedDir, part.range);
    mine = listing.slice(part.range.start, part.range.end);
    partition = { partition: part.range };
  }
  const refs: SampleRef[] = [];
  const failures: SampleFailure[] = [];
  const found = mine.length;
  for (const ref of mine) {
    if (done.has(ref.key)) continue;
    if (ref.problem === undefined) refs.push(ref);
    else {
      failures.push({
        key: ref.key,
        origin: ref.path,
        error: new SampleError(ref.key, ref.problem, ref.path),
      });
    }
  }
  const skipped = found - refs.length - failures.length;
  options.onPlan?.({ found, skipped, total: refs.length + failures.length });

  // The listing is replayed rather than walked twice.
  const listed: DatasetPlugin = {
    ...plugin,
    discoverNpz: async function* () {
      yield* refs;
    },
  };
  // One fused task per file on each worker: read, decode, float16, chunk, deflate; the chunks
  // come back in one moved buffer, and this thread only writes.
  const workers = deflateWorkers(p.num_save_workers);
  const chunk = chunkSettings(p);
  const source = new NpzEncodedSource(options.npzDir, {
    plugin: listed,
    readAhead: p.prefetch_size,
    workers,
    maxSampleBytes: p.max_sample_bytes,
    float16: p.use_float16 ? p.float16_overflow : undefined,
  }, { level: chunk.compressionLevel, shuffle: chunk.shuffle, chunkBytes: chunk.chunkBytes });
  const report = await packEncodedWith(
    ReadableStream.from(withFailures(failures, source)),
    options.processedDir,
    p,
    { dataset: plugin.name, ...options, metadata: { ...options.metadata, origin, ...partition } },
    { workers },
  );
  report.skipped += skipped;
  return report;
}
