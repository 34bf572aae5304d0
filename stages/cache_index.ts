/**
 * Reading a cache's `hdf5_index.json` from its processed_dir: the one place the read side
 * loads an index (parsing and validation are `formats/shard_index.ts`).
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

/** Reads and parses `<dir>/hdf5_index.json`; CacheError when missing, FormatError when bad. */
export async function readCacheIndex(dir: string): Promise<ShardIndex> {
  const file = `${absoluteDir(dir)}/${INDEX_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? `no ${INDEX_FILE}: not a cache directory`
      : `cannot read ${INDEX_FILE} (${(e as Error).message})`;
    throw new CacheError(dir, why, { cause: e });
  }
  return parseIndex(text, file);
}
