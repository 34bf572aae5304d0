/**
 * {@linkcode ShardSink}: the end of a write pipeline. Writes encoded samples into
 * `features_NNNNN.h5` shards (a new one every `samplesPerFile` samples), keeps
 * `hdf5_index.json` in step, and makes both durable at checkpoints, so a kill at any instant
 * leaves a cache that reads as of the last checkpoint and a re-run that finishes the job.
 *
 * Order at a checkpoint: the shard's metadata and superblock are made durable first, then the
 * index is replaced atomically. The index therefore never names a sample that is not durably
 * in its shard. A sample in a shard but not yet in the index (a crash between the two) is
 * dropped from the shard's tree when the writer resumes, and written again.
 *
 * @module
 */
import { CacheError, ConfigError, errorMessage, SampleError } from "../errors.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import {
  emptyIndex,
  INDEX_FILE,
  IndexBuilder,
  parseIndex,
  shardFileName,
} from "../formats/shard_index.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { DirLock } from "./dir_lock.ts";
import { join } from "./path.ts";
import { type EncodedSample, isFailure, type SampleFailure } from "./record.ts";

/** Options of {@linkcode ShardSink}. */
export interface ShardSinkOptions {
  /** Samples per shard (`preprocessing.samples_per_hdf5`), default 20000. */
  samplesPerFile?: number;
  /** Recorded in the index (`use_float16`); must match an existing index. Default true. */
  useFloat16?: boolean;
  /** Store samples whose key is already indexed again (`overwrite_existing`). Default false. */
  overwriteExisting?: boolean;
  /** Checkpoint after this many new samples (default 1000)... */
  checkpointInterval?: number;
  /** ...or when this many seconds passed since the last checkpoint (default 60). */
  checkpointSeconds?: number;
  /** Recorded as `max_retries` in `error_log.json` (how often the source retried a file). */
  maxRetries?: number;
  /** Extra fields for `metadata.json` (dataset name, pipeline settings). */
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
      write: (record) => state.write(record),
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

  constructor(dir: string, options: ShardSinkOptions) {
    this.dir = dir;
    this.options = options;
    this.samplesPerFile = positiveInt(options.samplesPerFile ?? 20000, "samplesPerFile");
    this.useFloat16 = options.useFloat16 ?? true;
    this.overwrite = options.overwriteExisting ?? false;
    this.interval = positiveInt(options.checkpointInterval ?? 1000, "checkpointInterval");
    this.seconds = options.checkpointSeconds ?? 60;
    if (!(this.seconds > 0)) {
      throw new RangeError(`ShardSink: checkpointSeconds must be > 0, got ${this.seconds}`);
    }
  }

  open(): void {
    Deno.mkdirSync(this.dir, { recursive: true });
    this.lock = DirLock.acquire(this.dir);
    try {
      this.index = new IndexBuilder(this.#readIndex());
      this.stats.shard = this.index.currentFileIdx;
      this.#resumeShard();
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  #readIndex() {
    const path = join(this.dir, INDEX_FILE);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return emptyIndex(this.samplesPerFile, this.useFloat16);
      }
      throw e;
    }
    const index = parseIndex(text, path);
    if (index.samples_per_file !== this.samplesPerFile) {
      throw new ConfigError(
        "preprocessing.samples_per_hdf5",
        this.samplesPerFile,
        `${index.samples_per_file}, the value ${path} was written with (use reshard to change it)`,
      );
    }
    if (index.use_float16 !== this.useFloat16) {
      throw new ConfigError(
        "preprocessing.use_float16",
        this.useFloat16,
        `${index.use_float16}, the value ${path} was written with (use reshard to change it)`,
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
    if (isFailure(record)) {
      this.#fail(record.key, record.origin, record.error, record.retries);
    } else if (this.index.get(record.key) && !this.overwrite) {
      this.stats.skipped++;
    } else {
      this.#store(record);
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
    this.writer = fresh ? Hdf5FileWriter.create(path) : Hdf5FileWriter.resume(path);
    this.stats.shard = idx;
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
      this.writer.checkpoint();
      const idx = this.stats.shard;
      for (const key of this.pending) this.index.set(key, { file_idx: idx, group_name: key });
      this.pending.clear();
      writeFileAtomic(join(this.dir, INDEX_FILE), this.index.serialize());
    }
    if (this.errorsChanged) this.#writeErrorLog();
    this.lastCheckpoint = Date.now();
  }

  #writeErrorLog(): void {
    writeFileAtomic(
      join(this.dir, "error_log.json"),
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
      this.#writeMetadata();
    } finally {
      this.lock?.release();
    }
  }

  #hasIndexFile(): boolean {
    try {
      Deno.statSync(join(this.dir, INDEX_FILE));
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps every complete sample: an aborted pipeline still checkpoints what it stored. */
  abort(): void {
    try {
      this.checkpoint();
      this.writer?.close();
    } catch {
      this.writer?.abort();
    } finally {
      this.writer = undefined;
      this.lock?.release();
    }
  }

  #writeMetadata(): void {
    const shards = this.index.size > 0 ? this.index.currentFileIdx : 0;
    writeFileAtomic(
      join(this.dir, "metadata.json"),
      JSON.stringify(
        {
          total_files: this.stats.written + this.stats.skipped + this.stats.failed,
          ...this.options.metadata,
          processed_files: this.stats.written,
          error_files: this.stats.failed,
          processed_dir: this.dir,
          total_samples: this.index.size,
          processed_samples: this.stats.written,
          skipped_samples: this.stats.skipped,
          failed_samples: this.stats.failed,
          storage_format: "hdf5",
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
