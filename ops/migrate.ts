/**
 * {@linkcode migrate}: a legacy NPZ cache (one `.npz` per sample) to an HDF5 cache, through the
 * standard pipeline. Resumable: keys already in the target's index are not even read.
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";
import { getPlugin } from "../plugins/registry.ts";
import { NpzSource } from "../stages/npz_source.ts";
import {
  indexedKeys,
  pack,
  type PackOptions,
  resolvePreprocessing,
  type RunReport,
} from "./pack.ts";

/** Options of {@linkcode migrate}. */
export interface MigrateOptions extends PackOptions {
  /** The legacy cache: `<npzDir>/<key>.npz`. */
  npzDir: string;
  /** The HDF5 cache to create or continue. */
  processedDir: string;
  /** Dataset plugin (decides which files and their keys): a registered name, a module path, or a plugin. */
  plugin: string | DatasetPlugin;
}

/** Migrates a legacy NPZ cache into an HDF5 cache and reports what happened. */
export async function migrate(options: MigrateOptions): Promise<RunReport> {
  // Checked first so a typo in the source path does not leave an empty processed_dir behind.
  const info = await Deno.stat(options.npzDir).catch((e) => {
    throw new CacheError(options.npzDir, `cannot read the NPZ cache: ${errorMessage(e)}`, {
      cause: e,
    });
  });
  if (!info.isDirectory) throw new CacheError(options.npzDir, "the NPZ cache is not a directory");
  const plugin = typeof options.plugin === "string"
    ? await getPlugin(options.plugin)
    : options.plugin;
  const p = resolvePreprocessing(options.preprocessing);
  const done = p.overwrite_existing ? new Set<string>() : indexedKeys(options.processedDir);
  let skipped = 0;
  const source = new NpzSource(options.npzDir, {
    plugin,
    // Indexed keys are not even read; the sink would skip them anyway.
    skip: (key) => done.has(key) && ++skipped > 0,
    readAhead: p.prefetch_size,
    // Converted on the decode worker, off the thread that writes the shards.
    float16: p.use_float16 ? p.float16_overflow : undefined,
  });
  const report = await pack(source, options.processedDir, { dataset: plugin.name, ...options });
  report.skipped += skipped;
  return report;
}
