/**
 * The runtime built-ins standing in for `@std` (which lives on JSR, unreachable from our
 * machines), apart from `deps.ts`'s npm packages: worker modules import this file, so a thread
 * that only deflates or decodes NPZ never loads h5wasm (37 MiB and 0.25 s per thread).
 * `deps.ts` re-exports it; swapping to `@std` later changes this file only.
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
