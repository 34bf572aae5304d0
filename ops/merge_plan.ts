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
import { INDEX_FILE, parseIndex, shardFileName, type ShardIndex } from "../formats/shard_index.ts";
import { join } from "../stages/path.ts";
import type { PartitionRange } from "./partition.ts";

/** One partition cache as read. */
export interface MergePart {
  dir: string;
  /** Its index; an empty one for a partition that got no keys. */
  index: ShardIndex;
  /** Its `metadata.json`, or an empty object. */
  metadata: Record<string, unknown>;
  /** Its `partition` record from `metadata.json`, when it was written with one. */
  partition?: PartitionRange;
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

function readPart(dir: string): MergePart {
  let metadata: Record<string, unknown> = {};
  let hasMetadata = false;
  try {
    metadata = JSON.parse(Deno.readTextFileSync(join(dir, "metadata.json")));
    hasMetadata = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new CacheError(dir, `cannot read metadata.json: ${errorMessage(e)}`, { cause: e });
    }
  }
  const path = join(dir, INDEX_FILE);
  let index: ShardIndex;
  try {
    index = parseIndex(Deno.readTextFileSync(path), path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    if (!hasMetadata) {
      throw new CacheError(dir, `not a cache: neither ${INDEX_FILE} nor metadata.json is there`);
    }
    // A finished run that stored nothing (a partition with no keys) leaves metadata only.
    index = {
      sample_index: {},
      current_file_idx: 0,
      current_file_count: 0,
      samples_per_file: Number(metadata.samples_per_hdf5),
      use_float16: Boolean(metadata.use_float16),
    };
  }
  const partition = metadata.partition as PartitionRange | undefined;
  return { dir, index, metadata, partition };
}

function checkSettings(parts: MergePart[]): void {
  const first = parts[0];
  const settings = (p: MergePart): Record<string, unknown> => ({
    samples_per_hdf5: p.index.samples_per_file,
    use_float16: p.index.use_float16,
    ...Object.fromEntries(SHARED_SETTINGS.map((s) => [s, p.metadata[s]])),
  });
  const want = settings(first);
  for (const part of parts.slice(1)) {
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
