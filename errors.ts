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

/**
 * A run whose settings differ from those the samples already in a cache were made with: the CLI
 * exits 2, as for a usage error, and nothing is written. `setting` names it (e.g.
 * `mel_config.n_mel`), with the value the cache records and the one given.
 */
export class SettingsMismatchError extends ConfigError {
  /** The CLI's exit status for it. */
  readonly exitStatus = 2;
  constructor(
    readonly dir: string,
    readonly setting: string,
    readonly stored: unknown,
    readonly given: unknown,
    wayOut: string,
  ) {
    super(setting, given, `${JSON.stringify(stored)}`);
    this.message = `${dir}: its samples were made with ${setting} = ${
      JSON.stringify(stored)
    }, this run gives ${JSON.stringify(given)}; ${wayOut}`;
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

/** An error flattened for postMessage (structured clone keeps only Error's own message). */
export interface WireError {
  name: string;
  message: string;
  /** The error's own fields (`code`, `file`, `key`, `dataset`, `offset`, ...). */
  fields: Record<string, unknown>;
  stack?: string;
  cause?: WireError;
}

/** Classes an error comes back as after crossing a worker boundary, by `name`. */
const WIRE_CLASSES: Record<string, { prototype: Error }> = {
  H5ShardError,
  ConfigError,
  KeyError,
  FormatError,
  SampleError,
  LockError,
  CacheError,
  RangeError,
  TypeError,
  Error,
};

/** Deeper cause chains are cut: they are loops, or noise. */
const MAX_CAUSE_DEPTH = 8;

/** Flattens `error` (class name, message, own fields, stack and cause chain) for postMessage. */
export function errorToWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k === "cause" || k === "name" || k === "message" || k === "stack") continue;
    if (typeof v !== "function" && typeof v !== "symbol") fields[k] = v;
  }
  const wire: WireError = { name: error.name, message: error.message, fields, stack: error.stack };
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    wire.cause = errorToWire(error.cause, depth + 1);
  }
  return wire;
}

/**
 * Rebuilds an error flattened by {@linkcode errorToWire}: the same class (an error class of
 * this module or a built-in one; Error otherwise), fields, message, stack and cause.
 */
export function errorFromWire(wire: WireError): Error {
  const proto = (WIRE_CLASSES[wire.name] ?? Error).prototype;
  const error = Object.assign(Object.create(proto), wire.fields) as Error;
  Object.defineProperty(error, "message", { value: wire.message, writable: true });
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  if (wire.cause) error.cause = errorFromWire(wire.cause);
  return error;
}

/** Wording for an unknown error value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
