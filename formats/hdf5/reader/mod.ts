/**
 * A native (TypeScript) reader for HDF5 files of the "earliest" profile: what we write and
 * what h5py writes by default. Files or objects outside it throw
 * {@linkcode UnsupportedHdf5Error} so callers can fall back to h5wasm.
 *
 * @module
 */
export { NativeH5File, type NativeObjectKind, type NativeReadOptions } from "./native_h5_file.ts";
export { isUnsupported, UnsupportedHdf5Error } from "./unsupported_error.ts";
export type { ChunkRef } from "./chunk_index.ts";
