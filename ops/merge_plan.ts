/**
 * {@linkcode planMerge}: what `merge` will do with a set of partition caches, decided before any
 * byte is written. Reads each part's index and metadata, refuses parts that do not belong
 * together (settings, overlapping keys, missing or repeated partitions), and lays out the
 * result: every full shard keeps its bytes under a new number, and the samples of partial
 * shards are combined into the shards that follow.
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";
import { INDEX_FILE, shardFileName, type ShardIndex } from "../formats/shard_index.ts";
import { join } from "../util/path.ts";
import { readCacheIndexIfAny } from "../cache/cache_index.ts";
import { METADATA_FILE, readCacheMetadata } from "../cache/cache_metadata.ts";
import { MAX_PARTITIONS, type PartitionRange } from "./partition.ts";

/** One partition cache as read. */
export interface MergePart {
  dir: string;
  /** Its index; an empty one for a partition that got no keys. */
  index: ShardIndex;
  /** Its `metadata.json`, or an empty object. */
  metadata: Record<string, unknown>;
  /** Its `partition` record from `metadata.json`, when it was written with one. */
  partition?: PartitionRange;
  /** Its `error_log.json` entries (carried into the merged cache's). */
  errors: LoggedError[];
  /** Its `error_log.json` `max_retries`. */
  maxRetries: number;
}

/** A full shard of a part, kept as it is under number `target`. */
export interface LinkStep {
  part: number;
  source: number;
  target: number;
  keys: string[];
}

/** A sample of a partial shard, copied chunk by chunk into a new shard. */
export interface TailSample {
  part: number;
  source: number;
  key: string;
}

/** A new shard made of tail samples. */
export interface TailStep {
  target: number;
  samples: TailSample[];
}

/** The whole merge. */
export interface MergePlan {
  /** Parts in merge order. */
  parts: MergePart[];
  links: LinkStep[];
  tails: TailStep[];
  samplesPerFile: number;
  useFloat16: boolean;
  totalSamples: number;
}

/** Settings in `metadata.json` that every part must share when recorded. */
const SHARED_SETTINGS = ["compression", "compression_level", "shuffle", "chunk_bytes"] as const;

/** One failure as a part's `error_log.json` records it (the original pipeline's schema). */
export interface LoggedError {
  file_path: string;
  sample_key: string;
  error_message: string;
  retry_count?: number;
}

/** Bound on the entries of one part's error log (more is not a log h5shard wrote). */
const MAX_LOGGED_ERRORS = 10_000_000;

/** A part's JSON file, parsed; undefined when absent; anything unreadable refused by name. */
export function readPartJson(dir: string, name: string): unknown {
  const path = join(dir, name);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new CacheError(dir, `cannot read ${name}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CacheError(
      dir,
      `${path} is not valid JSON (${errorMessage(e)}); nothing was merged`,
      {
        cause: e,
      },
    );
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function badField(dir: string, file: string, field: string, value: unknown, want: string) {
  const shown = JSON.stringify(value)?.slice(0, 80);
  return new CacheError(
    dir,
    `${join(dir, file)}: ${field} is ${shown}, expected ${want}; nothing was merged`,
  );
}

/** The `partition` record of a part's metadata, checked: counts bounded, ranks in order. */
function readPartition(dir: string, value: unknown): PartitionRange | undefined {
  if (value === undefined) return undefined;
  const int = (v: unknown, min: number, max: number) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
  const want = `{index, count, total, start, end}: integers, 1 <= count <= ${MAX_PARTITIONS}, ` +
    "0 <= index < count, 0 <= start <= end <= total";
  if (!isRecord(value)) throw badField(dir, "metadata.json", "partition", value, want);
  const { index, count, total, start, end } = value;
  if (
    !int(count, 1, MAX_PARTITIONS) || !int(index, 0, (count as number) - 1) ||
    !int(total, 0, Number.MAX_SAFE_INTEGER) || !int(start, 0, total as number) ||
    !int(end, start as number, total as number)
  ) throw badField(dir, "metadata.json", "partition", value, want);
  return value as unknown as PartitionRange;
}

/** A part's `error_log.json` entries (older h5shard logs: `failures`), checked. */
function readErrorLog(dir: string): { errors: LoggedError[]; maxRetries: number } {
  const file = "error_log.json";
  const log = readPartJson(dir, file);
  if (log === undefined) return { errors: [], maxRetries: 0 };
  const want = "an object with an errors list";
  if (!isRecord(log)) throw badField(dir, file, "the file", log, want);
  const maxRetries = Number.isSafeInteger(log.max_retries) ? log.max_retries as number : 0;
  const list = log.errors ?? log.failures;
  if (list === undefined) return { errors: [], maxRetries };
  if (!Array.isArray(list) || list.length > MAX_LOGGED_ERRORS) {
    throw badField(dir, file, "errors", list, `a list of at most ${MAX_LOGGED_ERRORS} entries`);
  }
  const errors = list.map((e, i): LoggedError => {
    const entry = isRecord(e) ? e : {};
    // The pipeline's schema, or the older {key, file, error}.
    const key = entry.sample_key ?? entry.key;
    const path = entry.file_path ?? entry.file ?? key;
    const message = entry.error_message ?? entry.error;
    if (typeof key !== "string" || typeof path !== "string" || typeof message !== "string") {
      throw badField(
        dir,
        file,
        `errors[${i}]`,
        e,
        "{sample_key, file_path, error_message} strings",
      );
    }
    const retries = entry.retry_count;
    return {
      file_path: path,
      sample_key: key,
      error_message: message,
      retry_count: Number.isSafeInteger(retries) ? retries as number : 0,
    };
  });
  return { errors, maxRetries };
}

function readPart(dir: string): MergePart {
  const recorded = readCacheMetadata(dir, (problem, reason, { value, cause }) => {
    if (problem === "object") {
      throw badField(dir, METADATA_FILE, "the file", value, "a JSON object");
    }
    throw new CacheError(dir, problem === "json" ? `${reason}; nothing was merged` : reason, {
      cause,
    });
  });
  const hasMetadata = recorded !== undefined;
  const metadata: Record<string, unknown> = recorded ?? {};
  let index = readCacheIndexIfAny(dir);
  if (index === undefined) {
    if (!hasMetadata) {
      throw new CacheError(dir, `not a cache: neither ${INDEX_FILE} nor metadata.json is there`);
    }
    // A finished run that stored nothing (a partition with no keys) leaves metadata only.
    const spf = metadata.samples_per_hdf5;
    if (!Number.isSafeInteger(spf) || (spf as number) < 1) {
      throw badField(dir, "metadata.json", "samples_per_hdf5", spf, "an integer >= 1");
    }
    index = {
      sample_index: {},
      current_file_idx: 0,
      current_file_count: 0,
      samples_per_file: spf as number,
      use_float16: Boolean(metadata.use_float16),
    };
  }
  const partition = readPartition(dir, metadata.partition);
  const { errors, maxRetries } = readErrorLog(dir);
  return { dir, index, metadata, partition, errors, maxRetries };
}

/**
 * The settings that decide what a part's features are, as its `metadata.json` records them:
 * parts must agree on each one both record. One place to extend when more is recorded.
 */
export function featureSettings(metadata: Record<string, unknown>): Record<string, unknown> {
  const names = [
    "extract_mel",
    "mel_config",
    "extractors",
    "semantic_model",
    "semantic_layer",
    "feature_settings",
  ];
  return Object.fromEntries(names.map((n) => [n, metadata[n]]));
}

/** JSON with object keys sorted, so equal settings compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/**
 * A part of an array job that is not finished: the keys of its partition that it neither holds
 * nor logs as failed (its task was stopped). Refused with the re-run to do.
 */
function checkComplete(part: MergePart): void {
  const r = part.partition;
  if (!r) return;
  const expected = r.end - r.start;
  const stored = new Set(Object.keys(part.index.sample_index));
  const failed = new Set(part.errors.map((e) => e.sample_key).filter((k) => !stored.has(k)));
  const accounted = stored.size + failed.size;
  if (accounted === expected) return;
  const name = `partition ${r.index}/${r.count}`;
  if (accounted > expected) {
    throw new CacheError(
      part.dir,
      `holds ${stored.size} samples and logs ${failed.size} failures, more than the ${expected} ` +
        `keys of ${name} (ranks ${r.start}..${r.end - 1} of ${r.total}); nothing was merged`,
    );
  }
  const keys = [...stored].sort();
  throw new CacheError(
    part.dir,
    `is incomplete: ${name} has ${expected} keys (ranks ${r.start}..${r.end - 1} of ${r.total}), ` +
      `but it holds ${stored.size} samples (${keys[0] ?? "none"}..${keys.at(-1) ?? "none"}) and ` +
      `logs ${failed.size} failures: ${expected - accounted} keys were never processed (its task ` +
      `was stopped?). Re-run that task (--partition ${r.index}/${r.count} into ${part.dir}; it ` +
      `resumes) and merge again. Nothing was merged`,
  );
}

function checkSettings(parts: MergePart[]): void {
  const first = parts[0];
  const settings = (p: MergePart): Record<string, unknown> => ({
    samples_per_hdf5: p.index.samples_per_file,
    use_float16: p.index.use_float16,
    ...Object.fromEntries(SHARED_SETTINGS.map((s) => [s, p.metadata[s]])),
  });
  const want = settings(first);
  const features = featureSettings(first.metadata);
  for (const part of parts.slice(1)) {
    for (const [name, value] of Object.entries(featureSettings(part.metadata))) {
      const wanted = features[name];
      if (value === undefined || wanted === undefined || canonical(value) === canonical(wanted)) {
        continue;
      }
      throw new CacheError(
        part.dir,
        `${name} is ${canonical(value)}, but ${first.dir} has ${canonical(wanted)}: merge ` +
          "joins only parts whose features were made with the same settings; nothing was merged",
      );
    }
    for (const [name, value] of Object.entries(settings(part))) {
      if (value === undefined || want[name] === undefined || value === want[name]) continue;
      throw new CacheError(
        part.dir,
        `${name} is ${JSON.stringify(value)}, but ${first.dir} has ${
          JSON.stringify(want[name])
        }: merge joins only parts written with the same settings (reshard one of them first)`,
      );
    }
  }
}

/** Orders parts by their recorded partition, refusing repeats and gaps; else keeps `parts`. */
function order(parts: MergePart[]): MergePart[] {
  if (!parts.every((p) => p.partition)) return parts;
  const { count, total } = parts[0].partition!;
  const seen = new Map<number, MergePart>();
  for (const p of parts) {
    const r = p.partition!;
    if (r.count !== count || r.total !== total) {
      throw new CacheError(
        p.dir,
        `is partition ${r.index}/${r.count} of ${r.total} keys, but ${parts[0].dir} is ` +
          `${parts[0].partition!.index}/${count} of ${total} keys: parts of different splits`,
      );
    }
    const other = seen.get(r.index);
    if (other) {
      throw new CacheError(p.dir, `partition ${r.index}/${count} is also ${other.dir}`);
    }
    seen.set(r.index, p);
  }
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length) {
    throw new CacheError(
      parts[0].dir,
      `partition(s) ${missing.map((i) => `${i}/${count}`).join(", ")} missing from the ` +
        `merge: pass every part of the array job (a failed task can be re-run first)`,
    );
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
}

/**
 * Reads and checks `dirs` and plans their merge. Throws {@linkcode CacheError} naming the part
 * and the thing at fault for: a directory that is not a cache, a setting that differs
 * (samples_per_hdf5, use_float16, compression, compression_level, shuffle, chunk_bytes), a key
 * in two parts, and parts of an array job that are repeated, missing or of different splits.
 */
export function planMerge(dirs: readonly string[]): MergePlan {
  if (dirs.length === 0) throw new RangeError("planMerge: no parts given");
  const parts = order(dirs.map(readPart));
  checkSettings(parts);
  for (const part of parts) checkComplete(part);
  const S = parts[0].index.samples_per_file;
  const owner = new Map<string, number>();
  const links: LinkStep[] = [];
  const tail: TailSample[] = [];
  parts.forEach((part, p) => {
    const byShard = new Map<number, string[]>();
    for (const [key, entry] of Object.entries(part.index.sample_index)) {
      const other = owner.get(key);
      if (other !== undefined) {
        throw new CacheError(
          part.dir,
          `key ${JSON.stringify(key)} is also in ${parts[other].dir}: parts must not overlap`,
        );
      }
      owner.set(key, p);
      if (entry.group_name !== key) {
        throw new CacheError(
          part.dir,
          `key ${JSON.stringify(key)} is stored as group ${JSON.stringify(entry.group_name)}; ` +
            `merge keeps the contract's group name = key`,
        );
      }
      const list = byShard.get(entry.file_idx) ?? [];
      list.push(key);
      byShard.set(entry.file_idx, list);
    }
    for (const [source, keys] of [...byShard.entries()].sort((a, b) => a[0] - b[0])) {
      if (keys.length === S) links.push({ part: p, source, target: links.length + 1, keys });
      else for (const key of keys) tail.push({ part: p, source, key });
    }
  });
  const tails: TailStep[] = [];
  for (let i = 0; i < tail.length; i += S) {
    tails.push({ target: links.length + tails.length + 1, samples: tail.slice(i, i + S) });
  }
  // Fails here, before any write, when the result would need a 100000th shard.
  if (links.length + tails.length > 0) shardFileName(links.length + tails.length);
  return {
    parts,
    links,
    tails,
    samplesPerFile: S,
    useFloat16: parts[0].index.use_float16,
    totalSamples: owner.size,
  };
}
