/**
 * Reading a cache's `hdf5_index.json` from its processed_dir: the one place an index is
 * loaded, for reading a cache or resuming one (parsing and validation are `formats/shard_index.ts`).
 *
 * @module
 */
import { CacheError } from "../errors.ts";
import { INDEX_FILE, parseIndex, type ShardIndex } from "../formats/shard_index.ts";

/** `dir` as an absolute path (h5wasm's file system resolves against the process cwd). */
export function absoluteDir(dir: string): string {
  const trimmed = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  return trimmed.startsWith("/") ? trimmed : `${Deno.cwd()}/${trimmed}`;
}

function cannotRead(dir: string, e: unknown): CacheError {
  if (!(e instanceof Deno.errors.NotFound)) {
    return new CacheError(dir, `cannot read ${INDEX_FILE} (${(e as Error).message})`, { cause: e });
  }
  let exists = true;
  try {
    Deno.statSync(dir);
  } catch {
    exists = false;
  }
  // The OS error only repeats the path: the message says all there is.
  return new CacheError(
    dir,
    exists ? `no ${INDEX_FILE}: not a cache directory` : "no such directory",
  );
}

/** Reads and parses `<dir>/hdf5_index.json`; CacheError when missing, FormatError when bad. */
export async function readCacheIndex(dir: string): Promise<ShardIndex> {
  const file = `${absoluteDir(dir)}/${INDEX_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw cannotRead(dir, e);
  }
  return parseIndex(text, file);
}

/**
 * The index of a cache a writer is about to start or resume: `undefined` when `dir` has no
 * `hdf5_index.json` (or does not exist yet), else as {@linkcode readCacheIndex}. Synchronous,
 * as writers read it once, before anything else.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * if (readCacheIndexIfAny(dir) !== undefined) throw new Error("a new cache has no index");
 * await Deno.remove(dir);
 * ```
 */
export function readCacheIndexIfAny(dir: string): ShardIndex | undefined {
  const file = `${absoluteDir(dir)}/${INDEX_FILE}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw cannotRead(dir, e);
  }
  return parseIndex(text, file);
}
