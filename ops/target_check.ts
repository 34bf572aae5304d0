/**
 * What a write run checks about its processed_dir before anything is written: that a cache
 * already there (an index naming samples) is this run's own, to resume, and not another
 * cache ({@linkcode CacheOrigin}: the command, dataset and source it was made from), and that
 * its samples were made with the feature settings this run would use
 * ({@linkcode FeatureSettings}). `metadata.json` records both, so it never describes
 * settings the stored samples were not made with.
 *
 * @module
 */
import { type CacheMetadata, readCacheMetadata } from "../cache/cache_metadata.ts";
import { CacheError, SettingsMismatchError } from "../errors.ts";
import { readCacheIndexIfAny } from "../cache/cache_index.ts";
import { join } from "../util/path.ts";

/** What a cache was made from: recorded as `origin` in `metadata.json`. */
export interface CacheOrigin {
  /** The command that made it: `preprocess`, `migrate` or `reshard`. */
  command: "preprocess" | "migrate" | "reshard";
  /** The dataset plugin's name (preprocess, migrate). */
  dataset?: string;
  /** The corpus, NPZ cache or source cache, as a real path. */
  source: string;
}

/**
 * Everything that decides the stored features of a preprocess run: recorded as
 * `feature_settings` in `metadata.json`.
 */
export interface FeatureSettings {
  /** The extractors, in order: `mel`, `w2v-bert`, user modules by path. */
  extractors: string[];
  /** The mel settings, when the mel is extracted. */
  mel_config?: Record<string, unknown>;
  /** The semantic model directory (a real path), or `"none"`. */
  semantic_model: string;
  /** The semantic model's layer, when there is a model. */
  output_layer?: number;
  /** Options given to user extractors, by name, when any. */
  extractor_options?: Record<string, unknown>;
}

/** What {@linkcode checkTargetCache} is given. */
export interface TargetCheck {
  origin: CacheOrigin;
  /** Absent for runs that copy features as they are (migrate, reshard). */
  featureSettings?: FeatureSettings;
  /** `overwrite_existing`: every sample is made again, so other feature settings are allowed. */
  overwrite: boolean;
  /** Called with a note (a cache made by an older version, compared on what it records). */
  onWarning?: (message: string) => void;
}

/** `path` as a real path when it exists, else as given. */
export function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function readMetadata(dir: string): CacheMetadata | undefined {
  return readCacheMetadata(dir);
}

/** The origin an older h5shard's `metadata.json` implies (it recorded no `origin`). */
function inferOrigin(meta: Record<string, unknown>): Partial<CacheOrigin> {
  const dataset = typeof meta.dataset === "string" ? meta.dataset : undefined;
  if (dataset?.startsWith("reshard of ")) {
    return { command: "reshard", source: realPathOr(dataset.slice("reshard of ".length)) };
  }
  if (typeof meta.data_root === "string") {
    return { command: "preprocess", dataset, source: realPathOr(meta.data_root) };
  }
  return dataset === undefined ? {} : { command: "migrate", dataset };
}

/** The feature settings an older h5shard's `metadata.json` implies (no `feature_settings`). */
function inferFeatureSettings(meta: Record<string, unknown>): Partial<FeatureSettings> {
  const inferred: Partial<FeatureSettings> = {};
  if (Array.isArray(meta.extractors)) inferred.extractors = meta.extractors as string[];
  if (typeof meta.semantic_model === "string") {
    inferred.semantic_model = meta.semantic_model === "none"
      ? "none"
      : realPathOr(meta.semantic_model);
  }
  const mel = meta.mel_config;
  if (inferred.extractors?.includes("mel") && typeof mel === "object" && mel !== null) {
    inferred.mel_config = mel as Record<string, unknown>;
  }
  return inferred;
}

/** The first leaf where `stored` and `given` differ: its dotted name and both values. */
export function firstDifference(
  stored: unknown,
  given: unknown,
  name = "",
): [string, unknown, unknown] | undefined {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isRecord(stored) && isRecord(given)) {
    for (const key of new Set([...Object.keys(stored), ...Object.keys(given)])) {
      const d = firstDifference(stored[key], given[key], name ? `${name}.${key}` : key);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(stored) === JSON.stringify(given) ? undefined : [name, stored, given];
}

/**
 * Refuses, before anything is written, a run into a processed_dir whose index names samples
 * made by another cache's run (a {@linkcode CacheError}, as `merge` refuses such a target), or
 * with other feature settings (a {@linkcode SettingsMismatchError}, exit status 2, unless
 * `overwrite`). A directory without samples passes.
 *
 * @example
 * ```ts
 * import { checkTargetCache } from "./target_check.ts";
 * const dir = await Deno.makeTempDir();
 * checkTargetCache(dir, { origin: { command: "reshard", source: "/src" }, overwrite: false });
 * await Deno.remove(dir);
 * ```
 */
export function checkTargetCache(dir: string, check: TargetCheck): void {
  let index;
  try {
    index = readCacheIndexIfAny(dir);
  } catch {
    return; // an unreadable index is the sink's to report, with its own message
  }
  if (!index || Object.keys(index.sample_index).length === 0) return;
  const meta = readMetadata(dir) ?? {};
  const recorded = meta.origin as Partial<CacheOrigin> | undefined;
  const stored = recorded ?? inferOrigin(meta);
  const given = check.origin;
  const describe = (o: Partial<CacheOrigin>) =>
    `${o.command ?? "an unknown command"}${o.dataset ? ` --dataset ${o.dataset}` : ""}${
      o.source ? ` from ${o.source}` : ""
    }`;
  const differs = (field: keyof CacheOrigin) =>
    stored[field] !== undefined && stored[field] !== given[field];
  if (differs("command") || differs("dataset") || differs("source")) {
    throw new CacheError(
      dir,
      `already holds another cache (${Object.keys(index.sample_index).length} samples made by ${
        describe(stored)
      }; this run is ${describe(given)}): ` +
        "write to a new or empty directory; it is left as it is",
    );
  }
  if (!check.featureSettings || check.overwrite) return;
  const settings = meta.feature_settings as Partial<FeatureSettings> | undefined;
  let storedSettings: Partial<FeatureSettings> = settings ?? inferFeatureSettings(meta);
  const givenSettings: Partial<FeatureSettings> = { ...check.featureSettings };
  if (settings === undefined) {
    // An older h5shard recorded only some settings: compare those, and say so.
    const known = Object.keys(storedSettings) as (keyof FeatureSettings)[];
    for (const key of Object.keys(givenSettings) as (keyof FeatureSettings)[]) {
      if (!known.includes(key)) delete givenSettings[key];
    }
    storedSettings = { ...storedSettings };
    check.onWarning?.(
      `${join(dir, "metadata.json")} has no feature_settings (an older h5shard made it): ` +
        `resuming on the settings it records (${
          known.join(", ") || "none"
        }); the others cannot be checked`,
    );
  }
  const d = firstDifference(storedSettings, givenSettings);
  if (d) {
    const [setting, was, now] = d;
    throw new SettingsMismatchError(
      dir,
      setting,
      was,
      now,
      "nothing was written. Write to another processed_dir, or pass --overwrite-existing true " +
        "to remake every sample with the new settings",
    );
  }
}
