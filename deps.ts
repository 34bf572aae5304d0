/**
 * Dependencies: the runtime built-ins standing in for `@std` (named in `deps_builtin.ts`, which
 * worker modules import directly) and the npm packages.
 *
 * @module
 */
// node:zlib, node:util, node:url: in their own file so worker modules skip the npm packages.
export * from "./deps_builtin.ts";

// npm packages by full specifier, so `mod.ts` resolves from any script with no config.
export { default as h5wasm } from "npm:h5wasm@0.10.3/node";
