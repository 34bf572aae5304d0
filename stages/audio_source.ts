/**
 * {@linkcode AudioSource}: the start of a preprocessing pipeline. Reads and decodes the audio
 * files a dataset plugin discovered, a bounded number ahead, and yields one mono clip per file.
 *
 * @module
 */
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { errorMessage, FormatError, SampleError } from "../errors.ts";
import { resamplerFor } from "../audio/resample.ts";
import { decodeAudio } from "../audio/audio_decode.ts";
import type { DecodedAudio, DecodeOptions } from "../audio/wav.ts";
import type { SampleRef } from "../plugins/plugin.ts";
import type { SampleFailure } from "./record.ts";

/** One utterance of mono audio, with where it came from. */
export interface AudioClip {
  key: string;
  /** The file it was read from. */
  origin: string;
  /** Samples per second of `audio`. */
  sampleRate: number;
  audio: Float32Array;
}

/** Options of {@linkcode AudioSource}. */
export interface AudioSourceOptions {
  /** Files read and decoded ahead of the consumer (`prefetch_size`). Default: the schema's. */
  prefetchSize?: number;
  /** Further attempts after a file fails (`max_retries`). Default: the schema's. */
  maxRetries?: number;
  /** Seconds between attempts (`retry_delay`). Default: the schema's. */
  retryDelay?: number;
  /** Resample every clip to this rate here. Default: keep each file's rate (the feature stage resamples on its workers). */
  sampleRate?: number;
  /**
   * Longest clip (seconds) a file may hold (`max_audio_seconds`); a WAV's is checked from its
   * header before decoding. Default: no limit.
   */
  maxAudioSeconds?: number;
  /** Bytes to audio; default {@linkcode decodeAudio} (WAV, MP3). Throw to fail the file. */
  decode?: (
    bytes: Uint8Array,
    file: string,
    options: DecodeOptions,
  ) => DecodedAudio | Promise<DecodedAudio>;
}

/** How many samples of `audio` are NaN or inf, and the first one's position; undefined if none. */
function nonFinite(audio: Float32Array): { count: number; first: number } | undefined {
  let count = 0, first = -1;
  for (let i = 0; i < audio.length; i++) {
    // x - x is 0 for every finite x, NaN for NaN and inf.
    if (audio[i] - audio[i] !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return count ? { count, first } : undefined;
}

function count(value: number, name: string, min: number): number {
  if (!(Number.isFinite(value) && value >= min)) {
    throw new RangeError(`AudioSource: ${name} must be a number >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * Yields an {@linkcode AudioClip} for every file of `refs`, in their order, with up to
 * `prefetchSize` files being read and decoded at once. A file that cannot be read or decoded is
 * tried again `maxRetries` times, `retryDelay` seconds apart, then yielded as a
 * {@linkcode SampleFailure} (with its retry count): a bad file never stops the stream. An entry
 * that is not a regular file (a directory, a FIFO, a link to a device), or that the plugin
 * found unreadable (`problem`), fails at once without being opened; decoded audio holding NaN
 * or inf fails by name, as does a clip longer than `maxAudioSeconds`.
 *
 * @example
 * ```ts
 * import { AudioSource } from "./audio_source.ts";
 *
 * const source = new AudioSource([{ key: "missing", path: "/no/such/file.wav" }], {
 *   maxRetries: 1,
 *   retryDelay: 0,
 * });
 * for await (const record of source) {
 *   if (!("error" in record) || record.retries !== 1) throw new Error("a failure after 1 retry");
 * }
 * ```
 */
export class AudioSource extends ReadableStream<AudioClip | SampleFailure> {
  constructor(
    refs: Iterable<SampleRef> | AsyncIterable<SampleRef>,
    options: AudioSourceOptions = {},
  ) {
    const d = PREPROCESSING_DEFAULTS;
    const prefetch = count(options.prefetchSize ?? d.prefetch_size, "prefetchSize", 1);
    const maxRetries = count(options.maxRetries ?? d.max_retries, "maxRetries", 0);
    const delayMs = count(options.retryDelay ?? d.retry_delay, "retryDelay", 0) * 1000;
    const decode = options.decode ?? decodeAudio;
    const target = options.sampleRate;
    const decodeOptions: DecodeOptions = options.maxAudioSeconds === undefined
      ? {}
      : { maxSeconds: count(options.maxAudioSeconds, "maxAudioSeconds", 0) };
    const load = async (ref: SampleRef): Promise<AudioClip> => {
      const decoded = await decode(await Deno.readFile(ref.path), ref.path, decodeOptions);
      const bad = nonFinite(decoded.audio);
      if (bad) {
        throw new FormatError(
          ref.path,
          `decoded audio holds ${bad.count} NaN or inf sample(s) (first at sample ${bad.first}); ` +
            `non-finite audio is never stored`,
        );
      }
      if (target === undefined || target === decoded.sampleRate) {
        return { key: ref.key, origin: ref.path, ...decoded };
      }
      return {
        key: ref.key,
        origin: ref.path,
        sampleRate: target,
        audio: resamplerFor(decoded.sampleRate, target).resample(decoded.audio),
      };
    };
    /** Why `ref` is never opened (a plugin's problem, or not a regular file), if so. */
    const unopenable = async (ref: SampleRef): Promise<string | undefined> => {
      if (ref.problem !== undefined) return ref.problem;
      // stat, not open: a FIFO would block an open, a device would read forever.
      const info = await Deno.stat(ref.path).catch(() => undefined);
      if (info === undefined || info.isFile) return undefined; // read errors are reported by the read
      const kind = info.isDirectory
        ? "a directory"
        : info.isFifo
        ? "a FIFO"
        : info.isCharDevice
        ? "a character device"
        : info.isBlockDevice
        ? "a block device"
        : info.isSocket
        ? "a socket"
        : "an entry of another kind";
      return `not a regular file (${kind}${
        (await Deno.lstat(ref.path).catch(() => undefined))?.isSymlink ? ", through a symlink" : ""
      }); never opened`;
    };
    const attempt = async (ref: SampleRef): Promise<AudioClip | SampleFailure> => {
      const why = await unopenable(ref);
      if (why !== undefined) {
        return {
          key: ref.key,
          origin: ref.path,
          error: new FormatError(ref.path, why),
          retries: 0,
        };
      }
      for (let retries = 0;; retries++) {
        try {
          return await load(ref);
        } catch (error) {
          if (retries >= maxRetries) {
            return {
              key: ref.key,
              origin: ref.path,
              // Decode and read errors already name the file; anything else gets key and file.
              error: error instanceof Error
                ? error
                : new SampleError(ref.key, errorMessage(error), ref.path),
              retries,
            };
          }
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    };
    const iterator = Symbol.asyncIterator in refs
      ? refs[Symbol.asyncIterator]()
      : refs[Symbol.iterator]();
    const ahead: Promise<AudioClip | SampleFailure>[] = [];
    let exhausted = false;
    super({
      async pull(controller) {
        while (!exhausted && ahead.length < prefetch) {
          const next = await iterator.next();
          if (next.done) exhausted = true;
          else ahead.push(attempt(next.value));
        }
        if (ahead.length === 0) controller.close();
        else controller.enqueue(await ahead.shift()!);
      },
      async cancel() {
        await iterator.return?.();
      },
    }, { highWaterMark: 0 });
  }
}
