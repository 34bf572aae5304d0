/**
 * {@linkcode pack}: the default write pipeline from a configuration. Any source of samples goes
 * through Float16Stream, DeflateStream and a ShardSink into a processed_dir.
 *
 * @module
 */
import type { Preprocessing } from "../config.ts";
import { chunkSettings, resolvePreprocessing } from "../config/settings.ts";
import { shardNumber } from "../formats/shard_index.ts";
import { readCacheIndexIfAny } from "../cache/cache_index.ts";
import { DeflateStream, deflateWorkers } from "../stages/deflate_stream.ts";
import { Float16Stream } from "../stages/float16_stream.ts";
import { join } from "../util/path.ts";
import type { EncodedSample, Sample, SampleFailure } from "../stages/record.ts";
import { ShardSink, type SinkReport, type SinkStats } from "../stages/shard_sink.ts";

/** Options of {@linkcode pack}. */
export interface PackOptions {
  /** `preprocessing` settings; missing keys take the defaults of `preprocess_config.json`. */
  preprocessing?: Partial<Preprocessing>;
  /** Dataset name for `metadata.json`. */
  dataset?: string;
  /** More `metadata.json` fields (a preprocessing run's settings, an array job's partition). */
  metadata?: Record<string, unknown>;
  /** Called after every sample. */
  onProgress?: (stats: Readonly<SinkStats>) => void;
  /** Called for each warning (float16 overflow, overwritten samples, ...). */
  onWarning?: (message: string) => void;
  /**
   * Stops the run when aborted (SIGINT, SIGTERM at the CLI): reading stops, samples not yet
   * stored are dropped, the sink checkpoints and lets go of the lock, and the report comes back
   * with `interrupted` set. The same run again resumes.
   */
  signal?: AbortSignal;
}

/** What a finished run reports. */
export interface RunReport extends SinkReport {
  /** Samples stored by this run (= `written`). */
  samples: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** Bytes of all shard files in the processed_dir after the run. */
  outputBytes: number;
  /** Deflate workers used. */
  workers: number;
  /** Set when `signal` stopped the run before its source was done. */
  interrupted?: boolean;
}

export { resolvePreprocessing } from "../config/settings.ts";

/** Keys already in the processed_dir's index (empty when there is none yet). */
export function indexedKeys(processedDir: string): Set<string> {
  return new Set(Object.keys(readCacheIndexIfAny(processedDir)?.sample_index ?? {}));
}

/** Bytes of the shard files in a processed_dir. */
export function shardBytes(processedDir: string): number {
  let total = 0;
  for (const entry of Deno.readDirSync(processedDir)) {
    if (entry.isFile && shardNumber(entry.name) !== undefined) {
      total += Deno.statSync(join(processedDir, entry.name)).size;
    }
  }
  return total;
}

/**
 * Writes every sample of `source` into `processedDir` (resuming it when it has an index), with
 * float16 conversion, chunking and deflate as `preprocessing` says.
 *
 * @example
 * ```ts
 * import { pack, type Sample } from "../mod.ts";
 * const dir = await Deno.makeTempDir();
 * const samples: Sample[] = [{
 *   key: "LJ001-0001",
 *   tensors: { hidden_states: { dtype: "float32", shape: [4, 8], data: new Float32Array(32) } },
 * }];
 * const report = await pack(ReadableStream.from(samples), dir, {
 *   preprocessing: { samples_per_hdf5: 1000 },
 * });
 * console.log(report.written, report.shards); // 1 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function pack(
  source: ReadableStream<Sample | SampleFailure>,
  processedDir: string,
  options: PackOptions = {},
): Promise<RunReport> {
  return packWith(source, processedDir, resolvePreprocessing(options.preprocessing), options);
}

/**
 * {@linkcode pack} with settings a command resolved once ({@linkcode resolvePreprocessing}):
 * `options.preprocessing` is not read.
 */
export function packWith(
  source: ReadableStream<Sample | SampleFailure>,
  processedDir: string,
  p: Readonly<Preprocessing>,
  options: PackOptions = {},
): Promise<RunReport> {
  const workers = deflateWorkers(p.num_save_workers);
  const chunk = chunkSettings(p);
  const encoded = source
    .pipeThrough(new Float16Stream({ enabled: p.use_float16, overflow: p.float16_overflow }))
    .pipeThrough(
      new DeflateStream({
        level: chunk.compressionLevel,
        shuffle: chunk.shuffle,
        workers,
        chunkBytes: chunk.chunkBytes,
      }),
    );
  return store(encoded, processedDir, p, options, workers, true);
}

/**
 * {@linkcode pack} for samples already encoded (chunks compressed as `preprocessing` says, e.g.
 * copied as stored from a cache with the same settings): straight into the shard sink. A source
 * that encoded them itself (migrate's fused NPZ workers) says so in `encodedBy`: the workers it
 * used, and that its chunk buffers are the pipeline's alone (freed once written).
 */
export function packEncoded(
  source: ReadableStream<EncodedSample | SampleFailure>,
  processedDir: string,
  options: PackOptions = {},
  encodedBy?: { workers: number },
): Promise<RunReport> {
  const p = resolvePreprocessing(options.preprocessing);
  return packEncodedWith(source, processedDir, p, options, encodedBy);
}

/** {@linkcode packEncoded} with settings a command resolved once. */
export function packEncodedWith(
  source: ReadableStream<EncodedSample | SampleFailure>,
  processedDir: string,
  p: Readonly<Preprocessing>,
  options: PackOptions = {},
  encodedBy?: { workers: number },
): Promise<RunReport> {
  const workers = encodedBy?.workers ?? 0;
  return store(source, processedDir, p, options, workers, encodedBy !== undefined);
}

async function store(
  source: ReadableStream<EncodedSample | SampleFailure>,
  processedDir: string,
  p: Readonly<Preprocessing>,
  options: PackOptions,
  workers: number,
  ownsChunks: boolean,
): Promise<RunReport> {
  const chunk = chunkSettings(p);
  const started = performance.now();
  // The sink opens (takes the lock, checks the cache's settings) as it is made. A refusal must
  // stop the stages before it too, or their workers keep the process alive after it.
  let sink: ShardSink;
  try {
    sink = new ShardSink(processedDir, {
      samplesPerFile: chunk.samplesPerFile,
      useFloat16: chunk.useFloat16,
      encoding: chunk,
      overwriteExisting: p.overwrite_existing,
      checkpointInterval: p.checkpoint_interval,
      checkpointSeconds: p.checkpoint_seconds,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      maxRetries: p.max_retries,
      // DeflateStream's chunks belong to the pipeline alone; encoded samples handed in may not.
      releaseChunkBuffers: ownsChunks,
      metadata: {
        dataset: options.dataset,
        compression: "gzip",
        num_save_workers: workers,
        created_by: "h5shard",
        ...options.metadata,
      },
    });
  } catch (e) {
    // Not awaited: a source may finish its pending read first; the stages stop at once.
    source.cancel(e).catch(() => {});
    throw e;
  }
  let interrupted = false;
  try {
    await source.pipeTo(sink, { signal: options.signal });
  } catch (e) {
    // Aborted: the sink's abort() has checkpointed what it stored and let go of the lock.
    if (!options.signal?.aborted) throw e;
    interrupted = true;
  }
  const report = sink.report;
  return {
    ...report,
    samples: report.written,
    seconds: (performance.now() - started) / 1000,
    outputBytes: shardBytes(processedDir),
    workers,
    ...(interrupted ? { interrupted } : {}),
  };
}
