/**
 * Loads h5wasm (the HDF5 C library compiled to WebAssembly) once per realm (the main thread or a
 * Web Worker) and exposes the low-level functions the reader uses.
 *
 * The node build of h5wasm runs on Emscripten's NODERAWFS: HDF5 reads host files directly with
 * positioned reads, so a shard is never copied into wasm memory. HDF5's error stack, which it
 * would print to the process's stderr, is captured instead and quoted in our errors.
 *
 * @module
 */
import { h5wasm } from "../../deps.ts";

/** HDF5 datatype metadata as h5wasm reports it (the fields we use). */
export interface H5Metadata {
  /** H5T class: 0 integer, 1 float, 8 enum, ... */
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  shape: number[] | null;
  chunks: number[] | null;
  total_size: number;
  enum_type?: { type: number; nmembers: number; members: Record<string, number> };
}

/** A filter of a dataset's pipeline, as h5wasm reports it. */
export interface H5Filter {
  id: number;
  name: string;
  cd_values: number[];
}

/** The part of h5wasm's Emscripten module the reader calls. */
export interface H5Module {
  open(
    filename: string,
    mode: number,
    trackOrder: boolean,
    libverLow: number,
    libverHigh: number,
  ): bigint;
  close_file(fileId: bigint): number;
  get_names(fileId: bigint, path: string, recursive: boolean): string[];
  get_types(fileId: bigint, path: string): Record<string, number>;
  get_type(fileId: bigint, path: string): number;
  get_dataset_metadata(fileId: bigint, path: string): H5Metadata;
  get_dataset_filters(fileId: bigint, path: string): H5Filter[];
  get_dataset_data(
    fileId: bigint,
    path: string,
    count: bigint[] | null,
    offset: bigint[] | null,
    strides: bigint[] | null,
    ptr: bigint,
  ): number;
  _malloc(size: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  H5F_ACC_RDONLY: number;
  H5O_TYPE_GROUP: number;
  H5O_TYPE_DATASET: number;
}

interface RawStream {
  node?: { mode: number };
  stream_ops?: unknown;
}

/** Keep only the tail of HDF5's diagnostics: the innermost frames say what went wrong. */
const MAX_DIAGNOSTIC_CHARS = 8192;

let loading: Promise<H5Module> | undefined;
let loaded: H5Module | undefined;
let diagnostics = "";

/**
 * The h5wasm module of this realm if {@linkcode loadH5wasm} has finished, else undefined
 * (readers that may never need it ask this rather than pay seconds of start-up up front).
 */
export function loadedH5wasm(): H5Module | undefined {
  return loaded;
}

/** The h5wasm module of this realm, loaded on first use. */
export function loadH5wasm(): Promise<H5Module> {
  loading ??= h5wasm.ready.then((m) => {
    const module = m as unknown as H5Module & { FS: { streams: RawStream[] } };
    captureStderr(module.FS.streams[2]);
    return loaded = module;
  }, (e) => {
    loading = undefined;
    // Emscripten's start-up reads the environment: say which permission is missing and why.
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Error(
        `loading h5wasm (HDF5 reader) failed: ${e.message}; it needs --allow-read and --allow-env`,
        { cause: e },
      );
    }
    throw e;
  });
  return loading;
}

// NODERAWFS writes fd 2 straight to the process; a stream with its own stream_ops is routed
// through them instead, so HDF5's error stack lands in a string we can quote.
function captureStderr(stream: RawStream | undefined): void {
  if (!stream) return;
  const decoder = new TextDecoder();
  stream.node ??= { mode: 0 };
  stream.stream_ops = {
    write(_s: unknown, buffer: Uint8Array, offset: number, length: number): number {
      diagnostics += decoder.decode(buffer.subarray(offset, offset + length));
      if (diagnostics.length > MAX_DIAGNOSTIC_CHARS) {
        diagnostics = diagnostics.slice(-MAX_DIAGNOSTIC_CHARS);
      }
      return length;
    },
  };
}

/** Forgets captured HDF5 diagnostics; call before an operation whose failure you will report. */
export function clearDiagnostics(): void {
  diagnostics = "";
}

/**
 * The most specific line of HDF5's error stack since the last {@linkcode clearDiagnostics}, e.g.
 * `H5Z__filter_deflate(): inflate() failed`, or "" when HDF5 reported nothing.
 */
export function lastDiagnostic(): string {
  const frames = [...diagnostics.matchAll(/#\d+: .* in (\S+\(\)): (.*)$/gm)];
  const last = frames.at(-1);
  return last ? `${last[1]}: ${last[2].trim()}` : "";
}
