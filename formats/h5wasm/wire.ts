/**
 * The messages between a cache reader and its read workers ({@linkcode ReadRequest},
 * {@linkcode ReadReply}), and errors flattened for postMessage and rebuilt with their class and
 * fields, so a KeyError raised in a worker is a KeyError for the caller.
 *
 * @module
 */
import { CacheError, FormatError, KeyError } from "../../errors.ts";
import type { DType } from "../dtype.ts";
import type { SampleReadOptions } from "../read_sample.ts";

/** A request: read `group` of `path` (the sample `key`). */
export interface ReadRequest {
  id: number;
  /** Open-file budget of this worker; sent with every request, used on the first. */
  maxOpenFiles: number;
  path: string;
  label: string;
  key: string;
  group: string;
  options: SampleReadOptions;
}

/** A tensor in transit: its buffer is transferred. */
export interface WireTensor {
  name: string;
  dtype: DType;
  shape: number[];
  buffer: ArrayBuffer;
}

/** An error in transit. */
export interface WireError {
  name: string;
  message: string;
  key?: string;
  file?: string;
  dir?: string;
}

/** A reply: tensors or an error. */
export type ReadReply = { id: number; tensors: WireTensor[] } | { id: number; error: WireError };

/** Flattens an error for postMessage (structured clone keeps only Error's own message). */
export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  const wire: WireError = { name: e.name, message: e.message };
  if (e instanceof KeyError) wire.key = e.key;
  if (e instanceof FormatError) wire.file = e.file;
  if (e instanceof CacheError) wire.dir = e.dir;
  return wire;
}

/** Rebuilds an error of the same class with the same fields and message. */
export function fromWire(w: WireError): Error {
  let e: Error;
  switch (w.name) {
    case "KeyError":
      e = new KeyError(w.key ?? "", "");
      break;
    case "FormatError":
      e = new FormatError(w.file ?? "", "");
      break;
    case "CacheError":
      e = new CacheError(w.dir ?? "", "");
      break;
    case "RangeError":
      e = new RangeError();
      break;
    case "TypeError":
      e = new TypeError();
      break;
    default:
      e = new Error();
  }
  e.message = w.message;
  return e;
}
