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
 * ours.
 *
 * The directory's contract (the lock, what a killed run left, the checks before resuming, the
 * files beside the shards) is {@linkcode CacheDir}'s; the sink keeps the stream of samples, the
 * shard being written and the roll-over to the next.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { CacheError, errorMessage, SampleError } from "../errors.ts";
import { validateDatasetSpec } from "../formats/hdf5/dataset_encoder.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import { emptyIndex, INDEX_FILE, IndexBuilder, shardFileName } from "../formats/shard_index.ts";
import { isIoError } from "../cache/atomic_write.ts";
import { CacheDir, type CacheSettings, type FailureEntry } from "../cache/cache_dir.ts";
import { refusal, releaseChunks } from "./sink_samples.ts";
import type { ShardSinkOptions, SinkReport, SinkStats } from "./shard_sink_types.ts";
import { type EncodedSample, isFailure, type SampleFailure } from "./record.ts";

export type { FailureEntry } from "../cache/cache_dir.ts";
export type { ShardSinkOptions, SinkReport, SinkStats } from "./shard_sink_types.ts";

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
  cache?: CacheDir;
  writer?: Hdf5FileWriter;
  /** Keys stored in the current shard since the last checkpoint. */
  pending = new Set<string>();
  lastCheckpoint = Date.now();
  errorsChanged = false;

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
    const metadata = this.options.metadata ?? {};
    const e = this.options.encoding;
    const settings: CacheSettings = {
      samplesPerFile: this.samplesPerFile,
      useFloat16: this.useFloat16,
      ...(e
        ? { compressionLevel: e.compressionLevel, shuffle: e.shuffle, chunkBytes: e.chunkBytes }
        : {}),
    };
    const cache = CacheDir.open(this.dir, settings, metadata, (m) => this.#warn(m));
    this.cache = cache;
    try {
      this.index = new IndexBuilder(
        cache.stored ?? emptyIndex(this.samplesPerFile, this.useFloat16),
      );
      this.stats.shard = this.index.currentFileIdx;
      this.#resumeShard();
    } catch (e) {
      cache.release();
      throw e;
    }
  }

  /** Reopens the last shard when it has room, dropping samples the index does not name. */
  #resumeShard(): void {
    const count = this.index.currentFileCount;
    if (count === 0 || count >= this.samplesPerFile) return;
    const idx = this.index.currentFileIdx;
    const path = this.cache!.shardPath(idx);
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
      if (isIoError(e)) throw this.cache!.ioError(e, writer.path);
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
    const cache = this.cache!;
    const path = cache.shardPath(idx);
    if (!cache.indexOnDisk) {
      // Before the first shard exists, so that a shard is never found without an index.
      cache.writeIndex(this.index.serialize());
      this.#writeMetadata();
    }
    try {
      this.writer = fresh
        ? Hdf5FileWriter.create(path, { exclusive: true })
        : Hdf5FileWriter.resume(path);
    } catch (e) {
      throw isIoError(e) ? cache.ioError(e, path) : e;
    }
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
    const cache = this.cache!;
    if (this.writer && this.pending.size > 0) {
      try {
        this.writer.checkpoint();
      } catch (e) {
        throw isIoError(e) ? cache.ioError(e, this.writer.path) : e;
      }
      const idx = this.stats.shard;
      for (const key of this.pending) this.index.set(key, { file_idx: idx, group_name: key });
      this.pending.clear();
      cache.writeIndex(this.index.serialize());
      // Totals as of this checkpoint, so a killed run's durable samples are counted.
      this.#writeMetadata();
    }
    if (this.errorsChanged) this.#writeErrorLog();
    this.lastCheckpoint = Date.now();
  }

  #writeErrorLog(): void {
    this.cache!.writeErrorLog(this.failures, this.options.maxRetries ?? 0);
    this.errorsChanged = false;
  }

  #writeMetadata(): void {
    this.cache!.writeMetadata({
      written: this.stats.written,
      skipped: this.stats.skipped,
      failed: this.stats.failed,
      pending: this.pending.size,
      totalSamples: this.index.size,
      shards: this.index.size > 0 ? this.index.currentFileIdx : 0,
    });
  }

  close(): void {
    const cache = this.cache!;
    try {
      this.checkpoint();
      this.writer?.close();
      this.writer = undefined;
      if (this.index.size > 0 && !cache.hasIndexFile()) cache.writeIndex(this.index.serialize());
      if (!this.errorsChanged && this.failures.length === 0 && cache.hasErrorLog()) {
        // An earlier run's failures were retried (they are never indexed): none is left.
        this.#writeErrorLog();
      }
      this.#writeMetadata();
    } finally {
      cache.release();
    }
  }

  /** After a fatal error: the shard as of its last checkpoint, and the lock let go. */
  release(): void {
    try {
      this.writer?.abort();
    } catch {
      // The error being reported already says what went wrong with this file.
    } finally {
      this.writer = undefined;
      this.cache?.release();
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
      if (this.cache?.indexOnDisk) this.#writeMetadata();
    } catch {
      this.writer?.abort();
    } finally {
      this.writer = undefined;
      this.cache?.release();
    }
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
