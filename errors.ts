/**
 * Structured errors. Every error h5shard raises on purpose is an {@linkcode H5ShardError} with a
 * `code` and typed fields naming the thing at fault, so callers can react without parsing text.
 *
 * @module
 */

/** Base class of every error h5shard raises on purpose. */
export class H5ShardError extends Error {
  /** Stable machine-readable code, e.g. `"config"`, `"format"`. */
  readonly code: string = "h5shard";
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

/** A file whose bytes are not what its format says (NPY, NPZ, HDF5, index JSON). */
export class FormatError extends H5ShardError {
  override readonly code = "format";
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
  }
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

/** Wording for an unknown error value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
