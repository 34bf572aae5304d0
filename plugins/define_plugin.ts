/**
 * {@linkcode definePlugin}: a {@linkcode PluginDefinition} checked and completed into a
 * {@linkcode DatasetPlugin}.
 *
 * @module
 */
import type { DatasetPlugin, PluginDefinition, SampleRef } from "./plugin.ts";
import { walkFiles } from "./walk.ts";

/** What a plugin name may look like: it must not be mistaken for a module path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Every `*.npz` file below `npzDir` (recursively), key = relative path without `.npz` with `/`
 * separators, sorted by key in UTF-8 byte order. The default `discoverNpz` of every plugin.
 * Broken symlinks and symlink loops come with a `problem` (see {@linkcode walkFiles}).
 */
export async function* discoverNpzFiles(npzDir: string): AsyncGenerator<SampleRef> {
  const files = walkFiles(npzDir, {
    include: (relative) => relative.endsWith(".npz"),
    key: (relative) => relative.slice(0, -".npz".length),
  });
  for await (const { key, path, problem } of files) {
    yield problem === undefined ? { key, path } : { key, path, problem };
  }
}

/**
 * Checks a plugin definition and fills its defaults: `description` `""`, `discoverNpz`
 * {@linkcode discoverNpzFiles}. A name that is not letters, digits, `_` and `-` (starting with a
 * letter or digit) throws a `RangeError`; a missing function throws a `TypeError`.
 *
 * @example
 * ```ts
 * const plugin = definePlugin({
 *   name: "flat",
 *   async *discover(dataRoot: string) {
 *     yield { key: "a", path: `${dataRoot}/a.wav` };
 *   },
 *   keyForPath: (path: string) => path.replace(/^.*\//, "").replace(/\.[^.]*$/, ""),
 * });
 * if (plugin.keyForPath("/x/a.wav") !== "a" || plugin.description !== "") throw new Error();
 * ```
 */
export function definePlugin(def: PluginDefinition): DatasetPlugin {
  if (typeof def !== "object" || def === null) {
    throw new TypeError(`plugin definition: expected an object, got ${String(def)}`);
  }
  if (typeof def.name !== "string" || !NAME.test(def.name)) {
    throw new RangeError(
      `plugin name: expected letters, digits, "_" and "-" (e.g. "my_corpus"), got ${
        JSON.stringify(def.name)
      }`,
    );
  }
  for (const member of ["discover", "keyForPath"] as const) {
    if (typeof def[member] !== "function") {
      throw new TypeError(`plugin "${def.name}": ${member} must be a function`);
    }
  }
  if (def.discoverNpz !== undefined && typeof def.discoverNpz !== "function") {
    throw new TypeError(`plugin "${def.name}": discoverNpz must be a function when given`);
  }
  if (def.description !== undefined && typeof def.description !== "string") {
    throw new TypeError(`plugin "${def.name}": description must be a string when given`);
  }
  // called through `def` so that definitions written with methods keep their `this`
  const { discoverNpz } = def;
  return Object.freeze({
    name: def.name,
    description: def.description ?? "",
    discover: (dataRoot: string) => def.discover(dataRoot),
    discoverNpz: discoverNpz ? (npzDir: string) => discoverNpz.call(def, npzDir) : discoverNpzFiles,
    keyForPath: (path: string, dataRoot?: string) => def.keyForPath(path, dataRoot),
  });
}
