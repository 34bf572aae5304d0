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

// npm packages by full specifier, so `mod.ts` resolves from any script with no config.
export { default as h5wasm } from "npm:h5wasm@0.10.3/node";

/**
 * ONNX Runtime for Node (its Linux x64 CPU build ships inside the package; its install script,
 * which Deno does not run, only fetches CUDA extras). Loaded on first use: its native addon needs
 * `--allow-ffi`, which scripts that never run a model should not have to grant.
 */
export const loadOnnxRuntime = () => import("npm:onnxruntime-node@1.30.0");

// MP3 decoding (mpg123 as WASM), imported on first use: WAV corpora never load it.
export const loadMpegDecoder = () => import("npm:mpg123-decoder@1.0.3");
