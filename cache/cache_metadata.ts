/**
 * A cache's `metadata.json`, read and written in one place: {@linkcode readCacheMetadata} (a
 * reader says what a file it cannot use means to it), {@linkcode writeCacheMetadata} (atomic),
 * and typed views of the fields other code decides by: the chunk encoding, `samples_per_hdf5`,
 * `use_float16`, the partition, the dataset and the mel settings. A field a view does not
 * recognise reads as absent: a tampered file never passes a wrong type on.
 *
 * @module
 */
import type { ChunkEncoding } from "../config/settings.ts";
import { errorMessage } from "../errors.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { join } from "../util/path.ts";

/** The file's name inside a processed_dir. */
export const METADATA_FILE = "metadata.json";

/** `metadata.json` as recorded: a JSON object. */
export type CacheMetadata = Record<string, unknown>;

/** Why a `metadata.json` that is there cannot be used. */
export type MetadataProblem =
  /** It cannot be read (permissions, a directory, ...). */
  | "unreadable"
  /** It is not valid JSON. */
  | "json"
  /** It is JSON, but not an object. */
  | "object";

/**
 * What a reader does with a `metadata.json` it cannot use: return a record to go on with (or
 * undefined), or throw. `reason` says what is wrong in words (naming the file), `value` is the
 * parsed value of an `object` problem, `cause` the error of the others.
 */
export type OnBadMetadata = (
  problem: MetadataProblem,
  reason: string,
  detail: { value?: unknown; cause?: unknown },
) => CacheMetadata | undefined;

/**
 * `metadata.json` of `dir`: undefined when there is none; one that cannot be used goes to
 * `onBad` (by default: treated as absent).
 *
 * @example
 * ```ts
 * import { readCacheMetadata, writeCacheMetadata } from "./cache_metadata.ts";
 * const dir = await Deno.makeTempDir();
 * if (readCacheMetadata(dir) !== undefined) throw new Error("none yet");
 * writeCacheMetadata(dir, { samples_per_hdf5: 3 });
 * if (readCacheMetadata(dir)?.samples_per_hdf5 !== 3) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readCacheMetadata(
  dir: string,
  onBad: OnBadMetadata = () => undefined,
): CacheMetadata | undefined {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return onBad("unreadable", `cannot read ${METADATA_FILE}: ${errorMessage(e)}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return onBad("json", `${path} is not valid JSON (${errorMessage(e)})`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return onBad("object", `${path} is not a JSON object`, { value });
  }
  return value as CacheMetadata;
}

/** Replaces `metadata.json` of `dir` atomically with `record` (pretty-printed, as h5shard writes it). */
export function writeCacheMetadata(dir: string, record: Readonly<CacheMetadata>): void {
  writeFileAtomic(join(dir, METADATA_FILE), JSON.stringify(record, null, 2));
}

/** Each encoding setting: its `metadata.json` key and its {@linkcode ChunkEncoding} field. */
export const ENCODING_KEYS = [
  ["compression_level", "compressionLevel"],
  ["shuffle", "shuffle"],
  ["chunk_bytes", "chunkBytes"],
] as const satisfies readonly (readonly [string, keyof ChunkEncoding])[];

/** The fields `metadata.json` records for `encoding` (those given), by their keys. */
export function encodingFields(encoding: Partial<ChunkEncoding>): CacheMetadata {
  const out: CacheMetadata = {};
  for (const [key, field] of ENCODING_KEYS) {
    if (encoding[field] !== undefined) out[key] = encoding[field];
  }
  return out;
}

/**
 * The chunk encoding `meta` records: each setting whose recorded value has the right type (an
 * integer level and chunk size, a boolean shuffle); others are left out.
 */
export function recordedEncoding(meta: CacheMetadata | undefined): Partial<ChunkEncoding> {
  const out: Partial<ChunkEncoding> = {};
  const level = meta?.compression_level, shuffle = meta?.shuffle, bytes = meta?.chunk_bytes;
  if (Number.isSafeInteger(level)) out.compressionLevel = level as number;
  if (typeof shuffle === "boolean") out.shuffle = shuffle;
  if (Number.isSafeInteger(bytes)) out.chunkBytes = bytes as number;
  return out;
}

/** `use_float16` as recorded, when a boolean. */
export function recordedUseFloat16(meta: CacheMetadata | undefined): boolean | undefined {
  const f = meta?.use_float16;
  return typeof f === "boolean" ? f : undefined;
}

/** `dataset` (the plugin's name) as recorded, when a string. */
export function recordedDataset(meta: CacheMetadata | undefined): string | undefined {
  const d = meta?.dataset;
  return typeof d === "string" ? d : undefined;
}

/**
 * `mel_config` as recorded (at the top level, or under `preprocessing` as older files have it),
 * when an object.
 */
export function recordedMelConfig(
  meta: CacheMetadata | undefined,
): Record<string, unknown> | undefined {
  const pre = meta?.preprocessing as Record<string, unknown> | undefined;
  const mel = meta?.mel_config ?? (typeof pre === "object" ? pre?.mel_config : undefined);
  return typeof mel === "object" && mel !== null && !Array.isArray(mel)
    ? mel as Record<string, unknown>
    : undefined;
}
