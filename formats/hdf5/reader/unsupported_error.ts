/**
 * The error the native reader raises for a file or object outside what it parses: callers
 * catch it (and only it) to fall back to h5wasm.
 *
 * @module
 */
import { FormatError, type H5ShardErrorCode } from "../../../errors.ts";

/** Something the native reader does not parse (a newer structure, a filter, big-endian data). */
export class UnsupportedHdf5Error extends FormatError {
  override readonly code: H5ShardErrorCode = "unsupported";
  /** Always true: marks the error as "use another reader", not "the file is bad". */
  readonly unsupported = true;
}

/** True when `error` says the native reader cannot handle the file or object. */
export function isUnsupported(error: unknown): error is UnsupportedHdf5Error {
  return error instanceof UnsupportedHdf5Error;
}
