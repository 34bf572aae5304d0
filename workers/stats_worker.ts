/**
 * A Web Worker of {@linkcode computeStats}: opens the cache once, then accumulates the units it
 * is sent and posts their moments back.
 *
 * @module
 */
import { errorMessage, FormatError } from "../errors.ts";
import { naming } from "../ops/cache_checks.ts";
import { type CacheReader, openCache } from "../ops/cache_reader.ts";
import { type StatsReply, type StatsRequest, unitMoments } from "../ops/stats.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<StatsRequest>) => void) | null;
  postMessage(message: StatsReply): void;
};
let cache: CacheReader | undefined;

scope.onmessage = async (event) => {
  const { unit, dir, dataset, keys, maxOpenFiles } = event.data;
  const post = (reply: StatsReply) => scope.postMessage(reply);
  try {
    cache ??= await openCache(dir, { maxOpenFiles });
    const result = await unitMoments(cache, dataset, keys, () => post({ unit, sample: true }));
    post({ unit, result });
  } catch (e) {
    // The reply crosses as text: name the damaged sample and dataset in it.
    const where = e instanceof FormatError ? { key: e.key, dataset: e.dataset } : {};
    post({ unit, error: naming(errorMessage(e), where) });
  }
};
