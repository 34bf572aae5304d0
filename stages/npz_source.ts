/**
 * A source over a legacy NPZ cache: one `<key>.npz` per sample, as the old pipeline wrote them.
 *
 * @module
 */
import { decodeNpz } from "../formats/npz.ts";
import { CacheError, errorMessage, FormatError, SampleError } from "../errors.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import type { Sample, SampleFailure } from "./record.ts";

/** Options for {@linkcode NpzSource}. */
export interface NpzSourceOptions {
  /** Which files: the plugin's `discoverNpz(npzDir)` (sorted by key). */
  plugin: DatasetPlugin;
  /** Skip these keys (resume: already indexed). */
  skip?: (key: string) => boolean;
  /** Files read ahead concurrently (async reads), default 4. */
  readAhead?: number;
}

type Loaded = { ref: SampleRef; bytes: Uint8Array } | { ref: SampleRef; error: unknown };

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
 * ```ts ignore
 * import { NpzSource } from "./npz_source.ts";
 * import { ljspeech } from "../plugins/ljspeech.ts";
 * for await (const r of new NpzSource("processed_dir", { plugin: ljspeech })) {
 *   console.log(r.key, "error" in r ? r.error.message : Object.keys(r.tensors));
 * }
 * ```
 */
export class NpzSource extends ReadableStream<Sample | SampleFailure> {
  /** Lists `npzDir` through `options.plugin` and reads its files as they are pulled. */
  constructor(npzDir: string, options: NpzSourceOptions) {
    const { plugin, skip } = options;
    const readAhead = options.readAhead ?? 4;
    if (typeof plugin?.discoverNpz !== "function") {
      throw new TypeError(`NpzSource: options.plugin must be a DatasetPlugin, got ${plugin}`);
    }
    if (!Number.isSafeInteger(readAhead) || readAhead < 1) {
      throw new RangeError(
        `NpzSource: readAhead must be a positive integer, got ${JSON.stringify(readAhead)}`,
      );
    }
    let refs: AsyncIterator<SampleRef> | undefined;
    let listed = false;
    let listError: CacheError | undefined;
    const pending: Promise<Loaded>[] = [];
    const fill = async () => {
      try {
        refs ??= plugin.discoverNpz(npzDir)[Symbol.asyncIterator]();
        while (!listed && pending.length < readAhead) {
          const next = await refs.next();
          if (next.done) listed = true;
          else if (!skip?.(next.value.key)) pending.push(load(next.value));
        }
      } catch (e) {
        // Samples already listed still go out; the stream errors after them.
        listed = true;
        listError = e instanceof CacheError
          ? e
          : new CacheError(npzDir, `cannot list NPZ files: ${errorMessage(e)}`, { cause: e });
      }
    };
    super({
      async pull(controller) {
        await fill();
        const next = pending.shift();
        if (next) controller.enqueue(decode(await next));
        else if (listError) throw listError;
        else controller.close();
      },
      async cancel() {
        listed = true;
        pending.length = 0;
        await refs?.return?.();
      },
    }, { highWaterMark: 0 });
  }
}

// Never rejects: a failed read is carried to the consumer as a value.
function load(ref: SampleRef): Promise<Loaded> {
  return Deno.readFile(ref.path).then(
    (bytes) => ({ ref, bytes }),
    (error) => ({ ref, error }),
  );
}

function decode(loaded: Loaded): Sample | SampleFailure {
  const { key, path } = loaded.ref;
  const fail = (reason: string, cause: unknown): SampleFailure => ({
    key,
    origin: path,
    error: new SampleError(key, reason, path, undefined, { cause }),
  });
  if ("error" in loaded) {
    return fail(`cannot read: ${errorMessage(loaded.error)}`, loaded.error);
  }
  try {
    const tensors = decodeNpz(loaded.bytes, path);
    if (Object.keys(tensors).length === 0) {
      return { key, origin: path, error: new FormatError(path, "the NPZ holds no arrays") };
    }
    return { key, tensors, origin: path };
  } catch (e) {
    if (e instanceof FormatError) return { key, origin: path, error: e };
    return fail(`cannot decode: ${errorMessage(e)}`, e);
  }
}
