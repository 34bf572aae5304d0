/**
 * Structured errors. Every error h5shard raises on purpose is an {@linkcode H5ShardError} with a
 * `code` and typed fields naming the thing at fault, so callers can react without parsing text.
 *
 * @module
 */

/** The `code` of every {@linkcode H5ShardError} subclass. */
export type H5ShardErrorCode =
  | "h5shard"
  | "config"
  | "key"
  | "format"
  | "unsupported"
  | "sample"
  | "lock"
  | "cache";

/** Base class of every error h5shard raises on purpose. */
export class H5ShardError extends Error {
  /** Stable machine-readable code, e.g. `"config"`, `"format"`. */
  readonly code: H5ShardErrorCode = "h5shard";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value is wrong: `path` is its JSON path, e.g. `preprocessing.samples_per_hdf5`. */
export class ConfigError extends H5ShardError {
  override readonly code = "config";
  constructor(
    readonly path: string,
    readonly value: unknown,
    expected: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: expected ${expected}, got ${JSON.stringify(value)}`, options);
  }
}

/** A sample key (or a name inside it) that HDF5 cannot hold, or that the cache does not have. */
export class KeyError extends H5ShardError {
  override readonly code = "key";
  constructor(readonly key: string, reason: string, options?: ErrorOptions) {
    super(`key ${JSON.stringify(key)}: ${reason}`, options);
  }
}

/** Where in a file a {@linkcode FormatError} was found, beyond the file itself. */
export interface FormatErrorOptions extends ErrorOptions {
  /** Byte offset of the damaged structure. */
  offset?: number;
  /** The sample key being read. */
  key?: string;
  /** The dataset being read (its HDF5 path or name). */
  dataset?: string;
}

/** A file whose bytes are not what its format says (NPY, NPZ, HDF5, index JSON). */
export class FormatError extends H5ShardError {
  override readonly code: H5ShardErrorCode = "format";
  /** Byte offset of the damaged structure, when known. */
  readonly offset?: number;
  /** The sample key being read, when known. */
  readonly key?: string;
  /** The dataset being read, when known. */
  readonly dataset?: string;
  constructor(readonly file: string, reason: string, options: FormatErrorOptions = {}) {
    super(`${file}: ${reason}`, options);
    if (options.offset !== undefined) this.offset = options.offset;
    if (options.key !== undefined) this.key = options.key;
    if (options.dataset !== undefined) this.dataset = options.dataset;
  }
}

/**
 * `e` naming `where` too (the key or dataset being read when a lower layer found the damage),
 * or `e` itself when it is not a plain FormatError or already names them.
 */
export function withWhere(e: unknown, where: { key?: string; dataset?: string }): unknown {
  if (!(e instanceof FormatError) || e.constructor !== FormatError) return e;
  const key = e.key ?? where.key;
  const dataset = e.dataset ?? where.dataset;
  if (key === e.key && dataset === e.dataset) return e;
  const out = new FormatError(e.file, e.message.slice(e.file.length + 2), {
    cause: e.cause,
    offset: e.offset,
    key,
    dataset,
  });
  out.stack = e.stack;
  return out;
}

/** One sample failed (bad source file, float16 overflow under policy "error", ...). */
export class SampleError extends H5ShardError {
  override readonly code = "sample";
  constructor(
    readonly key: string,
    reason: string,
    readonly file?: string,
    readonly dataset?: string,
    options?: ErrorOptions,
  ) {
    super(
      `sample ${JSON.stringify(key)}${dataset ? ` dataset ${JSON.stringify(dataset)}` : ""}${
        file ? ` (${file})` : ""
      }: ${reason}`,
      options,
    );
  }
}

/** The processed_dir is locked by another live writer. */
export class LockError extends H5ShardError {
  override readonly code = "lock";
  constructor(readonly dir: string, reason: string, options?: ErrorOptions) {
    super(`${dir}: ${reason}`, options);
  }
}

/** A cache (processed_dir) is missing something or inconsistent. */
export class CacheError extends H5ShardError {
  override readonly code = "cache";
  constructor(readonly dir: string, reason: string, options?: ErrorOptions) {
    super(`${dir}: ${reason}`, options);
  }
}

/**
 * True when `error` is an {@linkcode H5ShardError}, and of `code` when given, narrowing its type
 * so its fields can be read without a cast.
 *
 * @example
 * ```ts
 * import { FormatError, isH5ShardError } from "./errors.ts";
 * const e: unknown = new FormatError("features_00001.h5", "bad chunk", { offset: 4096 });
 * if (isH5ShardError(e, "format")) console.log(e.file, e.offset);
 * ```
 */
export function isH5ShardError<C extends H5ShardErrorCode>(
  error: unknown,
  code?: C,
): error is ErrorOfCode<C> {
  return error instanceof H5ShardError && (code === undefined || error.code === code);
}

/** The error class behind each code (what {@linkcode isH5ShardError} narrows to). */
export interface ErrorsByCode {
  h5shard: H5ShardError;
  config: ConfigError;
  key: KeyError;
  format: FormatError;
  unsupported: FormatError;
  sample: SampleError;
  lock: LockError;
  cache: CacheError;
}

/** The error class of `code`. */
export type ErrorOfCode<C extends H5ShardErrorCode> = ErrorsByCode[C];

/** Wording for an unknown error value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
