/**
 * `hdf5_index.json`: the map from sample key to shard that Python training code reads, and the
 * shard file names. Pure: text in, objects out, and back.
 *
 * @module
 */
import { FormatError } from "../errors.ts";

/** File name of the index inside a processed_dir. */
export const INDEX_FILE = "hdf5_index.json";

/** Where one sample lives. */
export interface IndexEntry {
  /** 1-based shard number (`features_00001.h5` is 1). */
  file_idx: number;
  /** Group path inside the shard: the key itself. */
  group_name: string;
}

/** The index as stored (field names are the on-disk contract). */
export interface ShardIndex {
  sample_index: Record<string, IndexEntry>;
  /** Number of the last shard. */
  current_file_idx: number;
  /** Samples in the last shard. */
  current_file_count: number;
  samples_per_file: number;
  use_float16: boolean;
}

/** `features_00001.h5` for shard 1. */
export function shardFileName(fileIdx: number): string {
  if (!Number.isSafeInteger(fileIdx) || fileIdx < 1 || fileIdx > 99999) {
    throw new RangeError(`shard number must be 1..99999, got ${fileIdx}`);
  }
  return `features_${String(fileIdx).padStart(5, "0")}.h5`;
}

/** The shard number of a file name like `features_00001.h5`, or undefined. */
export function shardNumber(fileName: string): number | undefined {
  const m = /^features_(\d{5})\.h5$/.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

function positiveInt(v: unknown, min: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min;
}

/**
 * Parses and validates index text; `file` names it in errors. An entry whose `group_name` is not
 * its key is refused, naming the key.
 */
export function parseIndex(text: string, file: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new FormatError(file, "expected a JSON object at the top level");
  }
  const o = json as Record<string, unknown>;
  const field = (name: string, ok: boolean, expected: string) => {
    if (!ok) {
      throw new FormatError(file, `${name}: expected ${expected}, got ${JSON.stringify(o[name])}`);
    }
  };
  field("current_file_idx", positiveInt(o.current_file_idx, 0), "an integer >= 0");
  field("current_file_count", positiveInt(o.current_file_count, 0), "an integer >= 0");
  field("samples_per_file", positiveInt(o.samples_per_file, 1), "an integer >= 1");
  field("use_float16", typeof o.use_float16 === "boolean", "true or false");
  const si = o.sample_index;
  field("sample_index", typeof si === "object" && si !== null && !Array.isArray(si), "an object");
  for (const [key, entry] of Object.entries(si as Record<string, unknown>)) {
    const e = entry as Record<string, unknown> | null;
    if (
      typeof e !== "object" || e === null || !positiveInt(e.file_idx, 1) ||
      typeof e.group_name !== "string"
    ) {
      throw new FormatError(
        file,
        `sample_index[${
          JSON.stringify(key)
        }]: expected {"file_idx": n >= 1, "group_name": string}, got ${JSON.stringify(entry)}`,
      );
    }
    // The contract: a sample's group is its key. An entry pointing elsewhere would read (and
    // copy) another sample's arrays under this key, so it is damage, not a variant.
    if (e.group_name !== key) {
      throw new FormatError(
        file,
        `sample_index[${JSON.stringify(key)}]: group_name ${
          JSON.stringify(e.group_name)
        } is not the key (damaged or tampered index: the entry would read another group; ` +
          `move the index aside and run \`h5shard reindex\` to rebuild it from the shards)`,
      );
    }
  }
  return o as unknown as ShardIndex;
}

/** An empty index for a new cache. */
export function emptyIndex(samplesPerFile: number, useFloat16: boolean): ShardIndex {
  return {
    sample_index: {},
    current_file_idx: 1,
    current_file_count: 0,
    samples_per_file: samplesPerFile,
    use_float16: useFloat16,
  };
}

/** Serializes an index exactly as the original pipeline did: JSON, 2-space indent. */
export function serializeIndex(index: ShardIndex): string {
  return JSON.stringify(index, null, 2);
}

const SEGMENT = 1024;

/**
 * An index that grows as samples are stored and serializes cheaply again and again: the text of
 * every run of {@linkcode SEGMENT} entries is cached until one of them changes, so a checkpoint
 * of a cache with a million samples does not re-stringify all of them. Output is byte-identical
 * to {@linkcode serializeIndex}.
 */
export class IndexBuilder {
  #keys: string[] = [];
  #entries = new Map<string, { pos: number; entry: IndexEntry }>();
  #segments: (string | undefined)[] = [];
  samplesPerFile: number;
  useFloat16: boolean;
  currentFileIdx: number;
  currentFileCount: number;

  constructor(index: ShardIndex) {
    this.samplesPerFile = index.samples_per_file;
    this.useFloat16 = index.use_float16;
    this.currentFileIdx = index.current_file_idx;
    this.currentFileCount = index.current_file_count;
    for (const [key, entry] of Object.entries(index.sample_index)) this.set(key, entry);
  }

  /** Number of samples indexed. */
  get size(): number {
    return this.#keys.length;
  }

  /** The entry of `key`, if indexed. */
  get(key: string): IndexEntry | undefined {
    return this.#entries.get(key)?.entry;
  }

  /** Keys in index order. */
  keys(): readonly string[] {
    return this.#keys;
  }

  /** Adds or updates `key` (an update keeps the key's position, as a Python dict does). */
  set(key: string, entry: IndexEntry): void {
    const found = this.#entries.get(key);
    const pos = found ? found.pos : this.#keys.push(key) - 1;
    this.#entries.set(key, {
      pos,
      entry: { file_idx: entry.file_idx, group_name: entry.group_name },
    });
    this.#segments[Math.floor(pos / SEGMENT)] = undefined;
  }

  /** The index as a plain object. */
  toJSON(): ShardIndex {
    const sample_index: Record<string, IndexEntry> = {};
    for (const key of this.#keys) sample_index[key] = this.#entries.get(key)!.entry;
    return {
      sample_index,
      current_file_idx: this.currentFileIdx,
      current_file_count: this.currentFileCount,
      samples_per_file: this.samplesPerFile,
      use_float16: this.useFloat16,
    };
  }

  /** The index text, identical to `serializeIndex(this.toJSON())`. */
  serialize(): string {
    const parts: string[] = [];
    const segments = Math.ceil(this.#keys.length / SEGMENT);
    for (let s = 0; s < segments; s++) {
      let text = this.#segments[s];
      if (text === undefined) {
        const lines: string[] = [];
        for (const key of this.#keys.slice(s * SEGMENT, (s + 1) * SEGMENT)) {
          const { entry } = this.#entries.get(key)!;
          lines.push(
            `    ${
              JSON.stringify(key)
            }: {\n      "file_idx": ${entry.file_idx},\n      "group_name": ${
              JSON.stringify(entry.group_name)
            }\n    }`,
          );
        }
        text = lines.join(",\n");
        this.#segments[s] = text;
      }
      parts.push(text);
    }
    const body = parts.length ? `{\n${parts.join(",\n")}\n  }` : "{}";
    return `{\n  "sample_index": ${body},\n  "current_file_idx": ${this.currentFileIdx},\n` +
      `  "current_file_count": ${this.currentFileCount},\n  "samples_per_file": ${this.samplesPerFile},\n` +
      `  "use_float16": ${this.useFloat16}\n}`;
  }
}
