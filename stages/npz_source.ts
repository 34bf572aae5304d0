/**
 * A source over a legacy NPZ cache: one `<key>.npz` per sample, as the old pipeline wrote them.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { CacheError, errorFromWire, errorMessage, FormatError, SampleError } from "../errors.ts";
import { FLOAT16_OVERFLOW_POLICIES, type Float16Overflow } from "../formats/float16.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import { decodeNpzTask, type NpzDecoded, type NpzTask, type PackedSample } from "./npz_decode.ts";
import type { EncodeSettings } from "./deflate_stream.ts";
import type { EncodedSample, Sample, SampleFailure } from "./record.ts";
import { WorkerPool } from "../util/worker_pool.ts";

/** Options for {@linkcode NpzSource}. */
export interface NpzSourceOptions {
  /** Which files: the plugin's `discoverNpz(npzDir)` (sorted by key). */
  plugin: DatasetPlugin;
  /** Skip these keys (resume: already indexed). */
  skip?: (key: string) => boolean;
  /** Files read and decoded ahead concurrently, default 4. */
  readAhead?: number;
  /**
   * Web Workers that decode (inflate) the files, and convert to float16 when asked, default 1
   * (the deflate stage downstream has its own); 0 decodes on this thread.
   */
  workers?: number;
  /**
   * Convert float32/float64 arrays to float16 while decoding, as {@linkcode Float16Stream}
   * would with this overflow policy (a Float16Stream downstream then passes them through).
   * Absent: arrays keep their dtype.
   */
  float16?: Float16Overflow;
  /**
   * Most bytes one file's arrays may decode to, default `preprocessing.max_sample_bytes`
   * (1 GiB). A bigger file (a zip bomb, say) is a failed sample, refused before it is inflated.
   */
  maxSampleBytes?: number;
}

/**
 * Yields the samples of a legacy NPZ cache in the plugin's order: `{key, tensors, origin}` with
 * one tensor per array of the file. A file that cannot be read or decoded becomes a
 * {@linkcode SampleFailure} naming it (a {@linkcode FormatError} or {@linkcode SampleError}) and
 * the run goes on. Pull-based: at most `readAhead` files are being read or waiting, and each is
 * decoded only when the consumer asks for it, so memory stays flat whatever the cache size.
 *
 * If the plugin cannot list `npzDir` at all, the stream errors with a {@linkcode CacheError}.
 *
 * @example
 * ```ts
 * import { NpzSource } from "./npz_source.ts";
 * import { encodeNpz } from "../formats/npz.ts";
 * import { ljspeech } from "../plugins/ljspeech.ts";
 * const dir = await Deno.makeTempDir();
 * const x = { dtype: "float32" as const, shape: [3, 2], data: new Float32Array(6).fill(2) };
 * await Deno.writeFile(`${dir}/LJ001-0001.npz`, encodeNpz({ x }, { compress: true }));
 * await Deno.writeFile(`${dir}/LJ001-0002.npz`, new Uint8Array(10)); // not a zip archive
 * const got = [];
 * for await (const r of new NpzSource(dir, { plugin: ljspeech, float16: "error" })) {
 *   got.push("error" in r ? `${r.key} failed` : `${r.key} ${r.tensors.x.dtype}`);
 * }
 * if (got.join("; ") !== "LJ001-0001 float16; LJ001-0002 failed") throw new Error(got.join("; "));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class NpzSource extends ReadableStream<Sample | SampleFailure> {
  /** Lists `npzDir` through `options.plugin` and reads its files as they are pulled. */
  constructor(npzDir: string, options: NpzSourceOptions) {
    super(npzPull<Sample | SampleFailure>(npzDir, options, undefined), { highWaterMark: 0 });
  }
}

/**
 * {@linkcode NpzSource} fused with the encoding (migrate's path): each file is one worker task
 * that reads it, decodes it, converts to float16 when asked, and cuts, shuffles and deflates
 * its arrays exactly as {@linkcode DeflateStream} would with `encode`; the chunks come back
 * packed in one transferred buffer. No stage after it touches the data: the main thread only
 * writes. `workers` (default 1) is the number of such tasks running at once; `readAhead` is
 * raised to twice that so none idles.
 *
 * @example
 * ```ts
 * import { NpzEncodedSource } from "./npz_source.ts";
 * import { encodeNpz } from "../formats/npz.ts";
 * import { ljspeech } from "../plugins/ljspeech.ts";
 * const dir = await Deno.makeTempDir();
 * const x = { dtype: "float32" as const, shape: [3, 2], data: new Float32Array(6).fill(2) };
 * await Deno.writeFile(`${dir}/LJ001-0001.npz`, encodeNpz({ x }, { compress: true }));
 * const encode = { level: 4, shuffle: true, chunkBytes: 1 << 20 };
 * const kinds = [];
 * for await (const r of new NpzEncodedSource(dir, { plugin: ljspeech, workers: 0 }, encode)) {
 *   kinds.push("error" in r ? r.error.message : r.datasets.x.layout.kind);
 * }
 * if (kinds.join() !== "chunked") throw new Error(kinds.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class NpzEncodedSource extends ReadableStream<EncodedSample | SampleFailure> {
  constructor(npzDir: string, options: NpzSourceOptions, encode: EncodeSettings) {
    super(npzPull<EncodedSample | SampleFailure>(npzDir, options, encode), { highWaterMark: 0 });
  }
}

/** The pull source behind both NPZ sources; `encode` makes it yield encoded samples. */
function npzPull<R>(
  npzDir: string,
  options: NpzSourceOptions,
  encode: EncodeSettings | undefined,
): UnderlyingDefaultSource<R> {
  const name = encode ? "NpzEncodedSource" : "NpzSource";
  const { plugin, skip, float16 } = options;
  const maxBytes = options.maxSampleBytes ?? PREPROCESSING_DEFAULTS.max_sample_bytes;
  const workers = options.workers ?? 1;
  const asked = options.readAhead ?? 4;
  if (typeof plugin?.discoverNpz !== "function") {
    throw new TypeError(`${name}: options.plugin must be a DatasetPlugin, got ${plugin}`);
  }
  if (!Number.isSafeInteger(asked) || asked < 1) {
    throw new RangeError(
      `${name}: readAhead must be a positive integer, got ${JSON.stringify(asked)}`,
    );
  }
  if (!Number.isSafeInteger(workers) || workers < 0 || workers > 64) {
    throw new RangeError(
      `${name}: workers must be an integer in 0..64, got ${JSON.stringify(workers)}`,
    );
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(
      `${name}: maxSampleBytes must be a positive integer, got ${JSON.stringify(maxBytes)}`,
    );
  }
  if (float16 !== undefined && !FLOAT16_OVERFLOW_POLICIES.includes(float16)) {
    throw new RangeError(
      `${name}: float16 must be one of ${FLOAT16_OVERFLOW_POLICIES.join(", ")}, got ${
        JSON.stringify(float16)
      }`,
    );
  }
  // Fused tasks run as many at once as files are read ahead: keep every worker busy.
  const readAhead = encode ? Math.max(asked, 2 * workers) : asked;
  const pool = workers > 0
    ? new WorkerPool<NpzTask, NpzDecoded>(
      new URL("../workers/npz_decode_worker.ts", import.meta.url),
      { size: workers, name: encode ? "NPZ encode worker" : "NPZ decode worker" },
    )
    : undefined;
  pool?.prestart();
  // On workers each task reads its own file: file bytes never cross threads, and the main
  // thread only sees the (float16) arrays.
  const decode = async (ref: SampleRef): Promise<NpzDecoded> => {
    if (pool) {
      return await pool.run({ key: ref.key, path: ref.path, float16, maxBytes, encode });
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(ref.path);
    } catch (e) {
      return { error: "read", reason: errorMessage(e) };
    }
    return decodeNpzTask({ key: ref.key, path: ref.path, bytes, float16, maxBytes, encode }).value;
  };
  let refs: AsyncIterator<SampleRef> | undefined;
  let listed = false;
  let listError: CacheError | undefined;
  const pending: Promise<R>[] = [];
  const fill = async () => {
    try {
      refs ??= plugin.discoverNpz(npzDir)[Symbol.asyncIterator]();
      while (!listed && pending.length < readAhead) {
        const next = await refs.next();
        if (next.done) listed = true;
        else if (!skip?.(next.value.key)) pending.push(load(next.value, decode) as Promise<R>);
      }
    } catch (e) {
      // Samples already listed still go out; the stream errors after them.
      listed = true;
      listError = e instanceof CacheError
        ? e
        : new CacheError(npzDir, `cannot list NPZ files: ${errorMessage(e)}`, { cause: e });
    }
  };
  return {
    async pull(controller: ReadableStreamDefaultController<R>) {
      try {
        await fill();
        const next = pending.shift();
        if (next) return controller.enqueue(await next);
      } catch (e) {
        pool?.terminate();
        throw e;
      }
      pool?.terminate();
      if (listError) throw listError;
      controller.close();
    },
    async cancel() {
      listed = true;
      pending.length = 0;
      pool?.terminate();
      await refs?.return?.();
    },
  };
}

// Never rejects: a failed read or decode is carried to the consumer as a failure.
async function load(
  ref: SampleRef,
  decode: (ref: SampleRef) => Promise<NpzDecoded>,
): Promise<Sample | EncodedSample | SampleFailure> {
  const { key, path } = ref;
  const fail = (reason: string, cause?: unknown, dataset?: string): SampleFailure => ({
    key,
    origin: path,
    error: new SampleError(key, reason, path, dataset, cause === undefined ? {} : { cause }),
  });
  let d: NpzDecoded;
  try {
    d = await decode(ref);
  } catch (e) {
    // The worker itself died (out of memory, say): this file fails, the run goes on.
    return fail(`cannot decode: ${errorMessage(e)}`, e);
  }
  if ("error" in d) {
    if (d.error === "read") return fail(`cannot read: ${d.reason}`);
    if (d.error === "format") return { key, origin: path, error: new FormatError(path, d.reason) };
    if (d.error === "decode") return fail(`cannot decode: ${d.reason}`);
    return fail(d.reason, undefined, d.dataset);
  }
  if ("failed" in d) return { key, origin: path, error: errorFromWire(d.failed) };
  if ("encoded" in d) return unpackSample(key, path, d.encoded);
  if (Object.keys(d.tensors).length === 0) {
    return { key, origin: path, error: new FormatError(path, "the NPZ holds no arrays") };
  }
  const sample: Sample = { key, tensors: d.tensors, origin: path };
  if (d.inputBytes !== undefined) sample.inputBytes = d.inputBytes;
  if (d.inputDTypes !== undefined) sample.inputDTypes = d.inputDTypes;
  if (d.warnings !== undefined) sample.warnings = d.warnings;
  return sample;
}

/** An encoded sample from its packed form: chunks as views into the one moved buffer. */
function unpackSample(key: string, origin: string, packed: PackedSample): EncodedSample {
  const { datasets, chunkEnds, chunks } = packed;
  for (const [name, ends] of Object.entries(chunkEnds)) {
    const layout = datasets[name].layout;
    if (layout.kind !== "chunked") continue;
    let at = ends[0];
    for (const end of ends.slice(1)) {
      layout.chunks.push(chunks.subarray(at, end));
      at = end;
    }
  }
  const out: EncodedSample = { key, datasets, inputBytes: packed.inputBytes, origin };
  if (packed.inputDTypes !== undefined) out.inputDTypes = packed.inputDTypes;
  if (packed.warnings !== undefined) out.warnings = packed.warnings;
  return out;
}
