/**
 * The one place that names the runtime built-ins standing in for `@std` (which lives on JSR,
 * unreachable from our machines). Swapping to `@std` later changes this file only.
 *
 * @module
 */
import process from "node:process";

export {
  constants as zlibConstants,
  crc32,
  createDeflate,
  createInflate,
  deflate,
  deflateRawSync,
  deflateSync,
  inflateRawSync,
  inflateSync,
} from "node:zlib";
export { parseArgs } from "node:util";
export { pathToFileURL } from "node:url";

// npm packages by full specifier, so `mod.ts` resolves from any script with no config.

/** h5wasm's high-level API (`File`, `Group`, ...), once its runtime is ready. */
export type H5wasmApi = typeof import("npm:h5wasm@0.10.3/node").default;
type H5wasmModule = Awaited<H5wasmApi["ready"]>;

/**
 * Loads h5wasm on first use. Its Emscripten runtime starts when its module is evaluated and
 * reads the whole environment then, so a static import would make every script that imports
 * `mod.ts` need `--allow-env`, even one that never falls back to h5wasm.
 */
export function importH5wasm(): Promise<H5wasmApi> {
  // Once per realm: the environment swap below must not interleave with a second load.
  loading ??= loadWithoutEnv(async () => {
    const api = (await import("npm:h5wasm@0.10.3/node")).default;
    await api.ready;
    return api;
  });
  return loading;
}
let loading: Promise<H5wasmApi> | undefined;

/** h5wasm's low-level module, loaded on first use (see {@linkcode importH5wasm}). */
export const h5wasm = {
  get ready(): Promise<H5wasmModule> {
    return importH5wasm().then((api) => api.ready);
  },
};

/**
 * Runs `load` with an empty `process.env` when env access is not granted: Emscripten copies the
 * environment into the wasm runtime at start, and HDF5 only looks there for optional settings
 * (plugin path, file locking), so a reader that was given no env access starts with none
 * instead of failing.
 */
async function loadWithoutEnv<T>(load: () => Promise<T>): Promise<T> {
  if ((await Deno.permissions.query({ name: "env" })).state === "granted") return await load();
  const saved = Object.getOwnPropertyDescriptor(process, "env");
  Object.defineProperty(process, "env", { value: {}, configurable: true });
  try {
    return await load();
  } finally {
    if (saved) Object.defineProperty(process, "env", saved);
  }
}
