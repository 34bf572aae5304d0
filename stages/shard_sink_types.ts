/**
 * The options, counters and report of `ShardSink` (re-exported by
 * `stages/shard_sink.ts`, whose names they are).
 *
 * @module
 */
import type { ChunkEncoding } from "../config/settings.ts";
import type { FailureEntry } from "../cache/cache_dir.ts";

/** Options of `ShardSink`. */
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
  /**
   * How the chunks handed in were encoded (`compression_level`, `shuffle`, `chunk_bytes`):
   * recorded in `metadata.json` and, when resuming, checked against what the cache recorded (a
   * resumed cache keeps its settings). Left out, nothing is recorded or checked for them.
   */
  encoding?: ChunkEncoding;
  /** Store samples whose key is already indexed again (`overwrite_existing`). Default false. */
  overwriteExisting?: boolean;
  /** Checkpoint after this many new samples (`checkpoint_interval`)... */
  checkpointInterval?: number;
  /** ...or when this many seconds passed since the last checkpoint (`checkpoint_seconds`). */
  checkpointSeconds?: number;
  /** Recorded as `max_retries` in `error_log.json` (how often the source retried a file). */
  maxRetries?: number;
  /**
   * Extra fields for `metadata.json` (dataset name, pipeline settings). The settings that decide
   * stored chunks are not among them: they are `samplesPerFile`, `useFloat16` and `encoding`.
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

/** What a finished sink reports. */
export interface SinkReport extends SinkStats {
  /** Samples in the whole index after the run. */
  totalSamples: number;
  /** Number of shard files the index uses. */
  shards: number;
  failures: FailureEntry[];
  warnings: string[];
}
