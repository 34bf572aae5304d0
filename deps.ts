/**
 * The one place that names the runtime built-ins standing in for `@std` (which lives on JSR,
 * unreachable from our machines). Swapping to `@std` later changes this file only.
 *
 * @module
 */
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
import process from "node:process";

// npm packages by full specifier, so `mod.ts` resolves from any script with no config.

/**
 * h5wasm, loaded on first use: its Emscripten runtime starts when its module is evaluated and
 * reads the whole environment then, so a static import would make every script that imports
 * `mod.ts` need `--allow-env`, even one that never falls back to h5wasm.
 */
export const h5wasm = {
  get ready(): Promise<H5wasmModule> {
    return loadWithoutEnv(() => import("npm:h5wasm@0.10.3/node").then((m) => m.default.ready));
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
type H5wasmModule = Awaited<typeof import("npm:h5wasm@0.10.3/node").default.ready>;
