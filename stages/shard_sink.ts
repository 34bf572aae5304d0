/**
 * {@linkcode ShardSink}: the end of a write pipeline. Writes encoded samples into
 * `features_NNNNN.h5` shards (a new one every `samplesPerFile` samples), keeps
 * `hdf5_index.json` in step, and makes both durable at checkpoints, so a kill at any instant
 * leaves a cache that reads as of the last checkpoint and a re-run that finishes the job.
 *
 * Order at a checkpoint: the shard's metadata and superblock are made durable first, then the
 * index is replaced atomically. The index therefore never names a sample that is not durably
 * in its shard. A sample in a shard but not yet in the index (a crash between the two) is
 * dropped from the shard's tree when the writer resumes, and written again. An index (empty if
 * need be) is on disk before the first shard is created, so shards without an index are never
 * ours: the sink refuses such a directory rather than overwrite them.
 *
 * At start the sink also removes what a killed run can leave: temporaries of atomic writes
 * (`.hdf5_index.json.tmp-<pid>`) and unindexed shards that never got an HDF5 signature.
 *
 * @module
 */
import { CHUNK_KEYS, PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import {
  CacheError,
  ConfigError,
  errorMessage,
  FormatError,
  KeyError,
  SampleError,
} from "../errors.ts";
import { validateDatasetSpec } from "../formats/hdf5/dataset_encoder.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import { readNameTree } from "../formats/hdf5/reader/name_tree_reader.ts";
import { datasetNameProblem, sampleKeyProblem } from "../formats/sample_key.ts";
import { codecName } from "../formats/zlib_codec.ts";
import {
  emptyIndex,
  INDEX_FILE,
  IndexBuilder,
  parseIndex,
  shardFileName,
  type ShardIndex,
  shardNumber,
} from "../formats/shard_index.ts";
import { isIoError, isTemporaryName, writeFileAtomic } from "./atomic_write.ts";
import { DirLock } from "./dir_lock.ts";
import { releaseBuffer } from "./release_buffer.ts";
import { join } from "./path.ts";
import { type EncodedSample, isFailure, type SampleFailure } from "./record.ts";

/** Options of {@linkcode ShardSink}. */
export interface ShardSinkOptions {
  /**
   * Detach each stored sample's chunk buffers at once, so a long run's memory stays flat. Only
   * for buffers the pipeline owns (DeflateStream's output): a caller's shared or reused buffers
   * would be emptied. Default false.
   */
  releaseChunkBuffers?: boolean;
  /** Samples per shard (`preprocessing.samples_per_hdf5`, default from the config schema). */
  samplesPerFile?: number;
  /** Recorded in the index (`use_float16`); must match an existing index. Default true. */
  useFloat16?: boolean;
  /** Store samples whose key is already indexed again (`overwrite_existing`). Default false. */
  overwriteExisting?: boolean;
  /** Checkpoint after this many new samples (`checkpoint_interval`)... */
  checkpointInterval?: number;
  /** ...or when this many seconds passed since the last checkpoint (`checkpoint_seconds`). */
  checkpointSeconds?: number;
  /** Recorded as `max_retries` in `error_log.json` (how often the source retried a file). */
  maxRetries?: number;
  /**
   * Extra fields for `metadata.json` (dataset name, pipeline settings). Fields named like the
   * settings that decide stored chunks (`compression_level`, `shuffle`, `chunk_bytes`) must
   * match what an existing cache recorded: a resumed cache keeps its settings.
   */
  metadata?: Record<string, unknown>;
  /** Called after every sample (stored, skipped or failed). */
  onProgress?: (stats: Readonly<SinkStats>) => void;
  /** Called for each non-fatal warning (float16 overflow, superseded copies, ...). */
  onWarning?: (message: string) => void;
}

/** Counters of a sink run. */
export interface SinkStats {
  /** Samples stored by this run. */
  written: number;
  /** Samples skipped because their key was already indexed. */
  skipped: number;
  /** Samples that failed (see `failures`). */
  failed: number;
  /** Bytes of the stored samples as they entered the pipeline. */
  inputBytes: number;
  /** Bytes of compressed chunk data stored by this run. */
  storedBytes: number;
  /** Shard being written. */
  shard: number;
}

/** One failed sample, as written to `error_log.json`. */
export interface FailureEntry {
  key: string;
  file?: string;
  error: string;
  /** Attempts after the first (`retry_count`). */
  retries: number;
}

/** What a finished sink reports. */
export interface SinkReport extends SinkStats {
  /** Samples in the whole index after the run. */
  totalSamples: number;
  /** Number of shard files the index uses. */
  shards: number;
  failures: FailureEntry[];
  warnings: string[];
}

const METADATA_FILE = "metadata.json";
const ERROR_LOG_FILE = "error_log.json";
/** Files the sink writes besides shards. */
const OWN_FILES = [INDEX_FILE, METADATA_FILE, ERROR_LOG_FILE, "error_files.txt"];
const RESUME_RULE =
  "a resumed cache keeps the settings its chunks were stored with; write to a new processed_dir to change them";

/** Why a sample cannot be stored under its key and dataset names, checked before writing. */
function refusal(sample: EncodedSample): KeyError | undefined {
  const keyProblem = sampleKeyProblem(sample.key);
  if (keyProblem) return new KeyError(sample.key, `cannot be a sample key: ${keyProblem}`);
  for (const name of Object.keys(sample.datasets)) {
    const problem = datasetNameProblem(name);
    if (problem) {
      return new KeyError(sample.key, `dataset name ${JSON.stringify(name)}: ${problem}`);
    }
  }
  return undefined;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether the file has HDF5's signature where the format allows it (0, 512, 1024, ...). */
function hasHdf5Signature(path: string): boolean {
  const file = Deno.openSync(path, { read: true });
  try {
    const size = file.statSync().size;
    const buf = new Uint8Array(8);
    for (let at = 0; at + 8 <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      file.seekSync(at, Deno.SeekMode.Start);
      let got = 0;
      while (got < 8) {
        const n = file.readSync(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      if (got === 8 && HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    file.close();
  }
}

/**
 * Frees a stored sample's chunk buffers now: they came from worker threads, so the collector
 * does not hurry to free them and a long migrate's RSS would grow with its length. The shard
 * writer keeps no reference (it copies small writes and writes big ones at once).
 */
function releaseChunks(sample: EncodedSample): void {
  for (const spec of Object.values(sample.datasets)) {
    if (spec.layout.kind === "chunked") {
      for (const chunk of spec.layout.chunks) releaseBuffer(chunk.buffer);
    }
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`ShardSink: ${name} must be an integer >= 1, got ${value}`);
  }
  return value;
}

/** Writes encoded samples into a processed_dir of HDF5 shards plus `hdf5_index.json`. */
export class ShardSink extends WritableStream<EncodedSample | SampleFailure> {
  #state: SinkState;

  constructor(processedDir: string, options: ShardSinkOptions = {}) {
    const state = new SinkState(processedDir, options);
    super({
      start: () => state.open(),
      write: (record) => {
        try {
          state.write(record);
        } catch (e) {
          // A write that throws errors the stream without calling abort: let go here.
          state.release();
          throw e;
        }
      },
      close: () => state.close(),
      abort: () => state.abort(),
    });
    this.#state = state;
  }

  /** Counters and failures so far; complete once the stream has closed. */
  get report(): SinkReport {
    return this.#state.report();
  }
}

class SinkState {
  readonly dir: string;
  readonly samplesPerFile: number;
  readonly useFloat16: boolean;
  readonly overwrite: boolean;
  readonly interval: number;
  readonly seconds: number;
  readonly options: ShardSinkOptions;
  stats: SinkStats = { written: 0, skipped: 0, failed: 0, inputBytes: 0, storedBytes: 0, shard: 0 };
  failures: FailureEntry[] = [];
  warnings: string[] = [];
  index!: IndexBuilder;
  lock?: DirLock;
  writer?: Hdf5FileWriter;
  /** Keys stored in the current shard since the last checkpoint. */
  pending = new Set<string>();
  lastCheckpoint = Date.now();
  errorsChanged = false;
  /** Whether `hdf5_index.json` exists (it must before any shard is created). */
  indexOnDisk = false;
  /** Totals of earlier runs, from `metadata.json`. */
  earlier = { processed: 0, skipped: 0, runs: 0 };

  constructor(dir: string, options: ShardSinkOptions) {
    this.dir = dir;
    this.options = options;
    const d = PREPROCESSING_DEFAULTS;
    this.samplesPerFile = positiveInt(
      options.samplesPerFile ?? d.samples_per_hdf5,
      "samplesPerFile",
    );
    this.useFloat16 = options.useFloat16 ?? d.use_float16;
    this.overwrite = options.overwriteExisting ?? d.overwrite_existing;
    this.interval = positiveInt(
      options.checkpointInterval ?? d.checkpoint_interval,
      "checkpointInterval",
    );
    this.seconds = options.checkpointSeconds ?? d.checkpoint_seconds;
    if (!(this.seconds > 0)) {
      throw new RangeError(`ShardSink: checkpointSeconds must be > 0, got ${this.seconds}`);
    }
  }

  open(): void {
    Deno.mkdirSync(this.dir, { recursive: true });
    this.lock = DirLock.acquire(this.dir);
    try {
      this.#refuseLinks();
      this.#removeTemporaries();
      const existing = this.#readIndex();
      this.indexOnDisk = existing !== undefined;
      const stored = existing && Object.keys(existing.sample_index).length > 0
        ? existing
        : undefined;
      this.#checkShardFiles(existing, stored);
      if (stored) this.#readEarlierRuns();
      // An index that names no sample pins nothing: this run's settings apply.
      this.index = new IndexBuilder(stored ?? emptyIndex(this.samplesPerFile, this.useFloat16));
      this.stats.shard = this.index.currentFileIdx;
      this.#resumeShard();
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  /**
   * The writer never follows a link out of the cache: a symlink, directory or device where the
   * index, metadata, error log or a shard goes is refused by name before anything is written.
   */
  #refuseLinks(): void {
    for (const entry of Deno.readDirSync(this.dir)) {
      if ((OWN_FILES.includes(entry.name) || isTemporaryName(entry.name)) && !entry.isFile) {
        throw notRegular(this.dir, entry);
      }
    }
  }

  /** Temporaries of atomic writes left by a killed run (this sink holds the lock). */
  #removeTemporaries(): void {
    for (const entry of Deno.readDirSync(this.dir)) {
      if (entry.isFile && isTemporaryName(entry.name)) {
        Deno.removeSync(join(this.dir, entry.name));
      }
    }
  }

  /**
   * Shard files that no index entry covers: without an index, any with an HDF5 signature is
   * someone's data, so the run is refused; one without a signature was cut short before its
   * first checkpoint and holds nothing indexed, so it is removed.
   */
  #checkShardFiles(existing: ShardIndex | undefined, stored: ShardIndex | undefined): void {
    const kept: string[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      const n = shardNumber(entry.name);
      if (n === undefined) continue;
      // Closed shards are only read; the last one is resumed and later ones written.
      if (!entry.isFile && (!stored || n >= stored.current_file_idx)) {
        throw notRegular(this.dir, entry);
      }
      if (stored && n <= stored.current_file_idx) continue;
      const path = join(this.dir, entry.name);
      if (hasHdf5Signature(path)) {
        kept.push(entry.name);
      } else {
        Deno.removeSync(path);
        this.#warn(
          `removed ${path}: a shard with no HDF5 signature, left by a run that was stopped ` +
            "before its first checkpoint (no indexed sample was in it)",
        );
      }
    }
    if (existing === undefined && kept.length > 0) {
      kept.sort();
      throw new CacheError(
        this.dir,
        `holds ${kept.join(", ")} but no ${INDEX_FILE}; writing here would overwrite ${
          kept.length === 1 ? "that shard" : "those shards"
        }. Rebuild the index with "h5shard reindex ${this.dir}", move them away, or write to another processed_dir`,
      );
    }
    // Past the index: the next shard may be a killed run's (its first checkpoint made it durable,
    // the index naming its samples was not written yet): holding no indexed key, it is removed,
    // as main's truncation did. Anything else would be overwritten: refused.
    const next = stored ? stored.current_file_idx + 1 : 1;
    for (const name of kept) {
      const path = join(this.dir, name);
      if (shardNumber(name) === next && holdsNoIndexedKey(path, stored)) {
        Deno.removeSync(path);
        this.#warn(
          `removed ${path}: a shard past ${INDEX_FILE} holding none of its samples, left by a ` +
            "run that was stopped between a shard's checkpoint and the index's",
        );
        continue;
      }
      throw new CacheError(
        this.dir,
        `${name} is not covered by ${INDEX_FILE} (whose last shard is ${
          shardFileName(next - 1 || 1)
        }); writing here would overwrite it: move it away, or write to another processed_dir`,
      );
    }
  }

  /** Totals of earlier runs and the settings they stored chunks with, from `metadata.json`. */
  #readEarlierRuns(): void {
    const path = join(this.dir, METADATA_FILE);
    let recorded: Record<string, unknown>;
    try {
      recorded = JSON.parse(Deno.readTextFileSync(path));
    } catch {
      return; // none (or unreadable): nothing to compare or add up
    }
    if (typeof recorded !== "object" || recorded === null) return;
    const given = this.options.metadata ?? {};
    for (const key of CHUNK_KEYS) {
      if (key in given && key in recorded && given[key] !== recorded[key]) {
        throw new ConfigError(
          `preprocessing.${key}`,
          given[key],
          `${JSON.stringify(recorded[key])}, the value ${path} records: ${RESUME_RULE}`,
        );
      }
    }
    const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : 0;
    this.earlier = {
      processed: count(recorded.processed_samples),
      skipped: count(recorded.skipped_samples),
      runs: count(recorded.runs),
    };
  }

  /** The index on disk, `undefined` when there is none; settings must match it. */
  #readIndex(): ShardIndex | undefined {
    const path = join(this.dir, INDEX_FILE);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    const index = parseIndex(text, path);
    if (Object.keys(index.sample_index).length === 0) return index;
    checkIndexCounts(index, path);
    if (index.samples_per_file !== this.samplesPerFile) {
      throw new ConfigError(
        "preprocessing.samples_per_hdf5",
        this.samplesPerFile,
        `${index.samples_per_file}, the value ${path} was written with: ${RESUME_RULE}`,
      );
    }
    if (index.use_float16 !== this.useFloat16) {
      throw new ConfigError(
        "preprocessing.use_float16",
        this.useFloat16,
        `${index.use_float16}, the value ${path} was written with: ${RESUME_RULE}`,
      );
    }
    return index;
  }

  /** Reopens the last shard when it has room, dropping samples the index does not name. */
  #resumeShard(): void {
    const count = this.index.currentFileCount;
    if (count === 0 || count >= this.samplesPerFile) return;
    const idx = this.index.currentFileIdx;
    const path = join(this.dir, shardFileName(idx));
    try {
      Deno.statSync(path);
    } catch {
      throw new CacheError(
        this.dir,
        `${INDEX_FILE} lists ${count} samples in ${
          shardFileName(idx)
        }, but that file is missing; ` +
          `run "h5shard verify" on this directory`,
      );
    }
    let writer: Hdf5FileWriter;
    try {
      writer = Hdf5FileWriter.resume(path);
    } catch (e) {
      throw new CacheError(
        this.dir,
        `cannot append to ${path}: ${errorMessage(e)}; reshard the cache to continue it`,
        { cause: e },
      );
    }
    for (const group of writer.sampleGroups()) {
      if (this.index.get(group)?.file_idx !== idx) writer.unlink(group);
    }
    this.writer = writer;
  }

  write(record: EncodedSample | SampleFailure): void {
    const refused = isFailure(record) ? undefined : refusal(record);
    if (isFailure(record)) {
      this.#fail(record.key, record.origin, record.error, record.retries);
    } else if (refused) {
      this.#fail(record.key, record.origin, refused);
    } else if (this.index.get(record.key) && !this.overwrite) {
      this.stats.skipped++;
    } else {
      this.#store(record);
      if (this.options.releaseChunkBuffers) releaseChunks(record);
    }
    this.options.onProgress?.(this.stats);
    if (
      this.pending.size >= this.interval ||
      (this.pending.size > 0 && Date.now() - this.lastCheckpoint >= this.seconds * 1000)
    ) {
      this.checkpoint();
    }
  }

  #fail(key: string, file: string | undefined, error: Error, retries = 0): void {
    this.stats.failed++;
    this.failures.push({ key, file, error: error.message, retries });
    this.errorsChanged = true;
  }

  #warn(message: string): void {
    this.warnings.push(message);
    this.options.onWarning?.(message);
  }

  #store(sample: EncodedSample): void {
    if (this.pending.has(sample.key)) {
      this.#fail(
        sample.key,
        sample.origin,
        new SampleError(sample.key, "duplicate key in this run; the first copy was kept"),
      );
      return;
    }
    if (this.index.currentFileCount >= this.samplesPerFile) this.#rollOver();
    else if (!this.writer) {
      this.#openShard(this.index.currentFileIdx, this.index.currentFileCount === 0);
    }
    const writer = this.writer!;
    const idx = this.stats.shard;
    // Reaching here with an indexed key means overwrite_existing is on.
    const previous = this.index.get(sample.key);
    // A replacement that cannot be written must not cost the copy it replaces: check it first.
    try {
      for (const [name, spec] of Object.entries(sample.datasets)) {
        validateDatasetSpec(`${sample.key}/${name}`, spec);
      }
    } catch (e) {
      this.#fail(sample.key, sample.origin, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (writer.has(sample.key)) {
      writer.unlink(sample.key);
    } else if (previous) {
      this.#warn(
        `${sample.key}: overwritten; the old copy in ${
          shardFileName(previous.file_idx)
        } stays there as unindexed dead space`,
      );
    }
    let stored = 0;
    try {
      const names = Object.keys(sample.datasets);
      if (names.length === 0) writer.createGroup(sample.key);
      for (const name of names) {
        const spec = sample.datasets[name];
        writer.writeDataset(`${sample.key}/${name}`, spec);
        if (spec.layout.kind === "chunked") {
          for (const c of spec.layout.chunks) stored += c.byteLength;
        } else stored += spec.layout.bytes.byteLength;
      }
    } catch (e) {
      if (isIoError(e)) throw this.#ioError(e, writer.path);
      if (writer.has(sample.key)) writer.unlink(sample.key);
      this.#fail(sample.key, sample.origin, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const w of sample.warnings ?? []) this.#warn(`${sample.key}: ${w}`);
    this.pending.add(sample.key);
    if (!previous || previous.file_idx !== idx) this.index.currentFileCount++;
    this.stats.written++;
    this.stats.inputBytes += sample.inputBytes;
    this.stats.storedBytes += stored;
  }

  #openShard(idx: number, fresh: boolean): void {
    const path = join(this.dir, shardFileName(idx));
    if (!this.indexOnDisk) {
      // Before the first shard exists, so that a shard is never found without an index.
      writeFileAtomic(join(this.dir, INDEX_FILE), this.index.serialize());
      this.#writeMetadata();
      this.indexOnDisk = true;
    }
    try {
      this.writer = fresh
        ? Hdf5FileWriter.create(path, { exclusive: true })
        : Hdf5FileWriter.resume(path);
    } catch (e) {
      throw isIoError(e) ? this.#ioError(e, path) : e;
    }
    this.stats.shard = idx;
  }

  /** A disk error (no space, read-only, ...) stops the run, naming the file. */
  #ioError(e: unknown, path: string): CacheError {
    const name = path.split("/").pop();
    return new CacheError(this.dir, `cannot write ${name}: ${errorMessage(e)}`, { cause: e });
  }

  #rollOver(): void {
    this.checkpoint();
    this.writer?.close();
    this.writer = undefined;
    this.index.currentFileIdx++;
    this.index.currentFileCount = 0;
    this.#openShard(this.index.currentFileIdx, true);
  }

  /** Shard durable first, then the index that names its new samples. */
  checkpoint(): void {
    if (this.writer && this.pending.size > 0) {
      try {
        this.writer.checkpoint();
      } catch (e) {
        throw isIoError(e) ? this.#ioError(e, this.writer.path) : e;
      }
      const idx = this.stats.shard;
      for (const key of this.pending) this.index.set(key, { file_idx: idx, group_name: key });
      this.pending.clear();
      writeFileAtomic(join(this.dir, INDEX_FILE), this.index.serialize());
      // Totals as of this checkpoint, so a killed run's durable samples are counted.
      this.#writeMetadata();
    }
    if (this.errorsChanged) this.#writeErrorLog();
    this.lastCheckpoint = Date.now();
  }

  #writeErrorLog(): void {
    writeFileAtomic(
      join(this.dir, ERROR_LOG_FILE),
      // The original pipeline's schema, which users' scripts read.
      JSON.stringify(
        {
          total_errors: this.failures.length,
          max_retries: this.options.maxRetries ?? 0,
          errors: this.failures.map((f) => ({
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
      join(this.dir, "error_files.txt"),
      this.failures.map((f) => f.file ?? f.key).join("\n") + (this.failures.length ? "\n" : ""),
    );
    this.errorsChanged = false;
  }

  close(): void {
    try {
      this.checkpoint();
      this.writer?.close();
      this.writer = undefined;
      if (this.index.size > 0 && !this.#hasIndexFile()) {
        writeFileAtomic(join(this.dir, INDEX_FILE), this.index.serialize());
      }
      if (!this.errorsChanged && this.failures.length === 0 && this.#hasErrorLog()) {
        // An earlier run's failures were retried (they are never indexed): none is left.
        this.#writeErrorLog();
      }
      this.#writeMetadata();
    } finally {
      this.lock?.release();
    }
  }

  #hasIndexFile(): boolean {
    return exists(join(this.dir, INDEX_FILE));
  }

  #hasErrorLog(): boolean {
    return exists(join(this.dir, ERROR_LOG_FILE));
  }

  /** After a fatal error: the shard as of its last checkpoint, and the lock let go. */
  release(): void {
    try {
      this.writer?.abort();
    } catch {
      // The error being reported already says what went wrong with this file.
    } finally {
      this.writer = undefined;
      this.lock?.release();
    }
  }

  /**
   * Keeps every complete sample: an aborted pipeline (an interrupt) still checkpoints what it
   * stored, and removes the shard it opened when no indexed sample is in it.
   */
  abort(): void {
    try {
      this.checkpoint();
      this.writer?.close();
      if (this.writer && this.index.currentFileCount === 0) {
        Deno.removeSync(this.writer.path);
      }
      if (this.indexOnDisk) this.#writeMetadata();
    } catch {
      this.writer?.abort();
    } finally {
      this.writer = undefined;
      this.lock?.release();
    }
  }

  /**
   * `metadata.json`: the settings, and counts that are totals over every run into this
   * directory (`processed_samples`, `skipped_samples`, `runs`); `failed_samples` is this run's,
   * the samples now in `error_log.json` (earlier failures are retried: they are not indexed).
   */
  #writeMetadata(): void {
    const shards = this.index.size > 0 ? this.index.currentFileIdx : 0;
    writeFileAtomic(
      join(this.dir, METADATA_FILE),
      JSON.stringify(
        {
          total_files: this.stats.written + this.stats.skipped + this.stats.failed,
          ...this.options.metadata,
          processed_files: this.stats.written,
          error_files: this.stats.failed,
          processed_dir: this.dir,
          total_samples: this.index.size,
          processed_samples: this.earlier.processed + this.stats.written - this.pending.size,
          skipped_samples: this.earlier.skipped + this.stats.skipped,
          failed_samples: this.stats.failed,
          runs: this.earlier.runs + 1,
          storage_format: "hdf5",
          compression_codec: codecName(),
          use_float16: this.useFloat16,
          samples_per_hdf5: this.samplesPerFile,
          num_hdf5_files: shards,
          updated: new Date().toISOString(),
        },
        null,
        2,
      ),
    );
  }

  report(): SinkReport {
    return {
      ...this.stats,
      totalSamples: this.index?.size ?? 0,
      shards: this.index && this.index.size > 0 ? this.index.currentFileIdx : 0,
      failures: this.failures,
      warnings: this.warnings,
    };
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

/** A link, directory or device where the sink would write a file: refused by name. */
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
 * An index whose counts contradict its own entries would make the sink start the last shard
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
