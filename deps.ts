/**
 * Dependencies: the runtime built-ins standing in for `@std` (named in `deps_builtin.ts`, which
 * worker modules import directly) and the npm packages.
 *
 * @module
 */
import process from "node:process";

// node:zlib, node:util, node:url: in their own file so worker modules can skip the npm packages.
export * from "./deps_builtin.ts";

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

/**
 * ONNX Runtime for Node (its Linux x64 CPU build ships inside the package; its install script,
 * which Deno does not run, only fetches CUDA extras). Loaded on first use: its native addon needs
 * `--allow-ffi`, which scripts that never run a model should not have to grant.
 */
export const loadOnnxRuntime = () => import("npm:onnxruntime-node@1.30.0");

// MP3 decoding (mpg123 as WASM), imported on first use: WAV corpora never load it.
export const loadMpegDecoder = () => import("npm:mpg123-decoder@1.0.3");
