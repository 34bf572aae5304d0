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
