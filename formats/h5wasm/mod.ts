/**
 * Reading HDF5 through h5wasm: {@linkcode H5File} and the module loader.
 *
 * @module
 */
export * from "./h5_file.ts";
export { loadH5wasm } from "./module.ts";
