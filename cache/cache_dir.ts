/**
 * The cache directory's contract, as a writer keeps it ({@linkcode CacheDir}): one writer at a
 * time (the lock); what a killed run left removed (temporaries of atomic writes, shards that
 * never got an HDF5 signature, a next shard holding no indexed sample); shards no index covers,
 * and links where a file goes, refused; the index validated; one resume check of this run's
 * {@linkcode CacheSettings} against those the cache was written with; and the files beside the
 * shards: `hdf5_index.json`, `metadata.json`, `error_log.json` and `error_files.txt`. The
 * stream of samples into shards is `ShardSink`'s.
 *
 * @module
 */
import type { ChunkEncoding, ChunkSettings } from "../config/settings.ts";
import { CacheError, ConfigError, errorMessage, FormatError } from "../errors.ts";
import { hasHdf5Signature } from "../formats/hdf5/reader/superblock.ts";
import { readNameTree } from "../formats/hdf5/reader/name_tree_reader.ts";
import { INDEX_FILE, shardFileName, type ShardIndex, shardNumber } from "../formats/shard_index.ts";
import { codecName } from "../formats/zlib_codec.ts";
import { isTemporaryName, writeFileAtomic } from "./atomic_write.ts";
import { readCacheIndexIfAny } from "./cache_index.ts";
import { DirLock } from "./dir_lock.ts";
import { join } from "../util/path.ts";
import {
  type CacheMetadata,
  encodingFields,
  METADATA_FILE,
  readCacheMetadata,
  writeCacheMetadata,
} from "./cache_metadata.ts";

const ERROR_LOG_FILE = "error_log.json";
const ERROR_LIST_FILE = "error_files.txt";
/** Files the writer keeps besides shards. */
const OWN_FILES = [INDEX_FILE, METADATA_FILE, ERROR_LOG_FILE, ERROR_LIST_FILE];
const RESUME_RULE =
  "a resumed cache keeps the settings its chunks were stored with; write to a new processed_dir to change them";

/**
 * What a cache's stored bytes depend on ({@linkcode ChunkSettings}): a run that continues a
 * cache must bring the same. `samplesPerFile` and `useFloat16` are checked against the index,
 * the encoding against `metadata.json`; an encoding left out (a writer handed chunks it did not
 * encode and knows nothing of) is neither recorded nor checked.
 */
export type CacheSettings =
  & Pick<ChunkSettings, "samplesPerFile" | "useFloat16">
  & Partial<ChunkEncoding>;

/** One failed sample, as written to `error_log.json`. */
export interface FailureEntry {
  key: string;
  file?: string;
  error: string;
  /** Attempts after the first (`retry_count`). */
  retries: number;
}

/** The counts of a run that `metadata.json` records, as of now. */
export interface RunTotals {
  /** Samples stored by this run, `pending` ones included. */
  written: number;
  skipped: number;
  failed: number;
  /** Stored samples the index does not name yet (not counted as processed). */
  pending: number;
  /** Samples in the index. */
  totalSamples: number;
  /** Shard files the index uses. */
  shards: number;
}

/** Totals of earlier runs, from `metadata.json`. */
interface EarlierRuns {
  processed: number;
  skipped: number;
  runs: number;
}

/** A processed_dir held by one writer, from {@linkcode CacheDir.open} to `release`. */
export class CacheDir {
  /** The directory. */
  readonly dir: string;
  /**
   * The index to continue: the one on disk when it names a sample, else undefined (a fresh
   * index with this run's settings: an index that names no sample pins nothing).
   */
  readonly stored: ShardIndex | undefined;
  #settings: CacheSettings;
  #metadata: Readonly<Record<string, unknown>>;
  #earlier: EarlierRuns;
  #indexOnDisk: boolean;
  #lock: DirLock;

  private constructor(
    dir: string,
    lock: DirLock,
    settings: CacheSettings,
    metadata: Readonly<Record<string, unknown>>,
    existing: ShardIndex | undefined,
    earlier: EarlierRuns,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.#settings = settings;
    this.#metadata = metadata;
    this.#indexOnDisk = existing !== undefined;
    this.stored = existing && Object.keys(existing.sample_index).length > 0 ? existing : undefined;
    this.#earlier = earlier;
  }

  /**
   * Creates `dir` if need be, takes its lock, removes what a killed run left and refuses what
   * would be overwritten or does not match `settings`; `metadata` is what this run records in
   * `metadata.json` besides its counts. `warn` hears of each file removed. On a refusal the lock
   * is let go.
   */
  static open(
    dir: string,
    settings: CacheSettings,
    metadata: Readonly<Record<string, unknown>>,
    warn: (message: string) => void,
  ): CacheDir {
    Deno.mkdirSync(dir, { recursive: true });
    const lock = DirLock.acquire(dir);
    try {
      refuseLinks(dir);
      removeTemporaries(dir);
      const existing = readIndex(dir);
      const stored = existing && Object.keys(existing.sample_index).length > 0
        ? existing
        : undefined;
      // One that cannot be read: nothing to compare or add up.
      const recorded = stored ? readCacheMetadata(dir) : undefined;
      if (stored) checkResume(dir, settings, stored, recorded);
      checkShardFiles(dir, existing, stored, warn);
      const earlier = earlierRuns(recorded);
      return new CacheDir(dir, lock, settings, metadata, existing, earlier);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Whether `hdf5_index.json` is on disk (it must be before any shard is created). */
  get indexOnDisk(): boolean {
    return this.#indexOnDisk;
  }

  /** The path of shard `idx`. */
  shardPath(idx: number): string {
    return join(this.dir, shardFileName(idx));
  }

  /** Replaces `hdf5_index.json` atomically with `text`. */
  writeIndex(text: string): void {
    writeFileAtomic(join(this.dir, INDEX_FILE), text);
    this.#indexOnDisk = true;
  }

  /** Whether `hdf5_index.json` exists now. */
  hasIndexFile(): boolean {
    return exists(join(this.dir, INDEX_FILE));
  }

  /**
   * `metadata.json`: the settings, and counts that are totals over every run into this
   * directory (`processed_samples`, `skipped_samples`, `runs`); `failed_samples` is this run's,
   * the samples now in `error_log.json` (earlier failures are retried: they are not indexed).
   */
  writeMetadata(run: RunTotals): void {
    writeCacheMetadata(this.dir, {
      total_files: run.written + run.skipped + run.failed,
      ...this.#metadata,
      ...encodingFields(this.#settings),
      processed_files: run.written,
      error_files: run.failed,
      processed_dir: this.dir,
      total_samples: run.totalSamples,
      processed_samples: this.#earlier.processed + run.written - run.pending,
      skipped_samples: this.#earlier.skipped + run.skipped,
      failed_samples: run.failed,
      runs: this.#earlier.runs + 1,
      storage_format: "hdf5",
      compression_codec: codecName(),
      use_float16: this.#settings.useFloat16,
      samples_per_hdf5: this.#settings.samplesPerFile,
      num_hdf5_files: run.shards,
      updated: new Date().toISOString(),
    });
  }

  /** `error_log.json` (the original pipeline's schema, which users' scripts read) and `error_files.txt`. */
  writeErrorLog(failures: readonly FailureEntry[], maxRetries: number): void {
    writeFileAtomic(
      join(this.dir, ERROR_LOG_FILE),
      JSON.stringify(
        {
          total_errors: failures.length,
          max_retries: maxRetries,
          errors: failures.map((f) => ({
            file_path: f.file ?? f.key,
            sample_key: f.key,
            error_message: f.error,
            retry_count: f.retries,
          })),
        },
        null,
        2,
      ),
    );
    writeFileAtomic(
      join(this.dir, ERROR_LIST_FILE),
      failures.map((f) => f.file ?? f.key).join("\n") + (failures.length ? "\n" : ""),
    );
  }

  /** Whether an `error_log.json` (this run's or an earlier one's) exists. */
  hasErrorLog(): boolean {
    return exists(join(this.dir, ERROR_LOG_FILE));
  }

  /** A disk error (no space, read-only, ...) that stops the run, naming the file. */
  ioError(e: unknown, path: string): CacheError {
    const name = path.split("/").pop();
    return new CacheError(this.dir, `cannot write ${name}: ${errorMessage(e)}`, { cause: e });
  }

  /** Lets go of the lock. Harmless twice. */
  release(): void {
    this.#lock.release();
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The writer never follows a link out of the cache: a symlink, directory or device where the
 * index, metadata, error log or a temporary goes is refused by name before anything is written.
 */
function refuseLinks(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if ((OWN_FILES.includes(entry.name) || isTemporaryName(entry.name)) && !entry.isFile) {
      throw notRegular(dir, entry);
    }
  }
}

/** Temporaries of atomic writes left by a killed run (the caller holds the lock). */
function removeTemporaries(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && isTemporaryName(entry.name)) Deno.removeSync(join(dir, entry.name));
  }
}

/** The index on disk, `undefined` when there is none; one that names samples must add up. */
function readIndex(dir: string): ShardIndex | undefined {
  const index = readCacheIndexIfAny(dir);
  if (index && Object.keys(index.sample_index).length > 0) {
    checkIndexCounts(index, join(dir, INDEX_FILE));
  }
  return index;
}

/**
 * The one resume check: each of `settings` against what the cache recorded it as, the index
 * (`samples_per_hdf5`, `use_float16`) or `metadata.json` (the chunk settings); a difference
 * throws ConfigError naming the setting, both values and the file.
 */
function checkResume(
  dir: string,
  settings: CacheSettings,
  index: ShardIndex,
  recorded: CacheMetadata | undefined,
): void {
  const inIndex = `the value ${join(dir, INDEX_FILE)} was written with`;
  const inMetadata = `the value ${join(dir, METADATA_FILE)} records`;
  // Setting, this run's value, the recorded one, how the message shows it, and where it is.
  const rows: [string, unknown, unknown, string, string][] = [
    ["samples_per_hdf5", settings.samplesPerFile, index.samples_per_file, "", inIndex],
    ["use_float16", settings.useFloat16, index.use_float16, "", inIndex],
  ];
  for (const [key, given] of Object.entries(encodingFields(settings))) {
    if (recorded && key in recorded) {
      const value = recorded[key];
      rows.push([key, given, value, JSON.stringify(value), inMetadata]);
    }
  }
  for (const [key, given, stored, shown, where] of rows) {
    if (given !== stored) {
      throw new ConfigError(
        `preprocessing.${key}`,
        given,
        `${shown || stored}, ${where}: ${RESUME_RULE}`,
      );
    }
  }
}

function earlierRuns(recorded: CacheMetadata | undefined): EarlierRuns {
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : 0;
  return {
    processed: count(recorded?.processed_samples),
    skipped: count(recorded?.skipped_samples),
    runs: count(recorded?.runs),
  };
}

/**
 * Shard files that no index entry covers: without an index, any with an HDF5 signature is
 * someone's data, so the run is refused; one without a signature was cut short before its
 * first checkpoint and holds nothing indexed, so it is removed.
 */
function checkShardFiles(
  dir: string,
  existing: ShardIndex | undefined,
  stored: ShardIndex | undefined,
  warn: (message: string) => void,
): void {
  const kept: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const n = shardNumber(entry.name);
    if (n === undefined) continue;
    // Closed shards are only read; the last one is resumed and later ones written.
    if (!entry.isFile && (!stored || n >= stored.current_file_idx)) throw notRegular(dir, entry);
    if (stored && n <= stored.current_file_idx) continue;
    const path = join(dir, entry.name);
    if (hasHdf5Signature(path)) {
      kept.push(entry.name);
    } else {
      Deno.removeSync(path);
      warn(
        `removed ${path}: a shard with no HDF5 signature, left by a run that was stopped ` +
          "before its first checkpoint (no indexed sample was in it)",
      );
    }
  }
  if (existing === undefined && kept.length > 0) {
    kept.sort();
    throw new CacheError(
      dir,
      `holds ${kept.join(", ")} but no ${INDEX_FILE}; writing here would overwrite ${
        kept.length === 1 ? "that shard" : "those shards"
      }. Rebuild the index with "h5shard reindex ${dir}", move them away, or write to another processed_dir`,
    );
  }
  // Past the index: the next shard may be a killed run's (its first checkpoint made it durable,
  // the index naming its samples was not written yet): holding no indexed key, it is removed,
  // as main's truncation did. Anything else would be overwritten: refused.
  const next = stored ? stored.current_file_idx + 1 : 1;
  for (const name of kept) {
    const path = join(dir, name);
    if (shardNumber(name) === next && holdsNoIndexedKey(path, stored)) {
      Deno.removeSync(path);
      warn(
        `removed ${path}: a shard past ${INDEX_FILE} holding none of its samples, left by a ` +
          "run that was stopped between a shard's checkpoint and the index's",
      );
      continue;
    }
    throw new CacheError(
      dir,
      `${name} is not covered by ${INDEX_FILE} (whose last shard is ${
        shardFileName(next - 1 || 1)
      }); writing here would overwrite it: move it away, or write to another processed_dir`,
    );
  }
}

/** Whether a shard's groups name no sample of `index` (false when it cannot be read). */
function holdsNoIndexedKey(path: string, index: ShardIndex | undefined): boolean {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { read: true });
    const { tree } = readNameTree(file, path);
    return tree.sampleGroups().every((g) => !index || !Object.hasOwn(index.sample_index, g));
  } catch {
    return false;
  } finally {
    file?.close();
  }
}

/** A link, directory or device where the writer would write a file: refused by name. */
function notRegular(dir: string, entry: Deno.DirEntry): CacheError {
  const what = entry.isSymlink
    ? "a symbolic link"
    : entry.isDirectory
    ? "a directory"
    : "not a regular file";
  return new CacheError(
    dir,
    `${entry.name} is ${what}, where h5shard would write; it writes only regular files inside ` +
      "the cache and never follows a link: remove or move it, or write to another processed_dir",
  );
}

/**
 * An index whose counts contradict its own entries would make the writer start the last shard
 * afresh (truncating samples the index names) or write past shards it does not know: refuse it.
 */
function checkIndexCounts(index: ShardIndex, path: string): void {
  let inLast = 0;
  for (const [key, entry] of Object.entries(index.sample_index)) {
    if (entry.file_idx > index.current_file_idx) {
      throw new FormatError(
        path,
        `sample_index[${JSON.stringify(key)}] is in ${shardFileName(entry.file_idx)}, past ` +
          `current_file_idx ${index.current_file_idx}; run "h5shard verify" on this directory ` +
          `(or rebuild the index with "h5shard reindex")`,
      );
    }
    if (entry.file_idx === index.current_file_idx) inLast++;
  }
  if (inLast > index.current_file_count) {
    throw new FormatError(
      path,
      `current_file_count is ${index.current_file_count}, but ${inLast} samples are indexed in ` +
        `${shardFileName(index.current_file_idx)}; run "h5shard verify" on this directory ` +
        `(or rebuild the index with "h5shard reindex")`,
    );
  }
}
