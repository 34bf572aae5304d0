/**
 * The plugin registry: built-ins (`ljspeech`, `libritts`), plugins registered at run time, and
 * plugins loaded from a module path.
 *
 * @module
 */
import { pathToFileURL } from "../deps.ts";
import { ConfigError, errorMessage, FormatError } from "../errors.ts";
import { definePlugin } from "./define_plugin.ts";
import { libritts } from "./libritts.ts";
import { ljspeech } from "./ljspeech.ts";
import type { DatasetPlugin, PluginDefinition } from "./plugin.ts";

const registry = new Map<string, DatasetPlugin>([
  [ljspeech.name, ljspeech],
  [libritts.name, libritts],
]);

/**
 * Adds a plugin (or a definition, completed by {@linkcode definePlugin}) under its name and
 * returns it. A different plugin already under that name throws a `RangeError`.
 */
export function registerPlugin(plugin: DatasetPlugin | PluginDefinition): DatasetPlugin {
  const existing = registry.get(plugin.name);
  if (existing !== undefined && existing === plugin) return existing;
  if (existing !== undefined) {
    throw new RangeError(`plugin ${JSON.stringify(plugin.name)} is already registered`);
  }
  const complete = definePlugin(plugin);
  registry.set(complete.name, complete);
  return complete;
}

/**
 * The registered plugins, sorted by name.
 *
 * @example
 * ```ts
 * const names = listPlugins().map((p) => p.name);
 * if (!names.includes("ljspeech") || !names.includes("libritts")) throw new Error();
 * ```
 */
export function listPlugins(): DatasetPlugin[] {
  return [...registry.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * A built-in or registered plugin by name, else undefined. Never imports anything: this is how a
 * name read from a cache (`metadata.json`'s `dataset`) is looked up, since a cache is data and
 * the path it records is information, not code to run.
 *
 * @example
 * ```ts
 * if (registeredPlugin("ljspeech")?.name !== "ljspeech") throw new Error();
 * if (registeredPlugin("/tmp/evil_plugin.ts") !== undefined) throw new Error();
 * ```
 */
export function registeredPlugin(name: string): DatasetPlugin | undefined {
  return registry.get(name);
}

function looksLikePath(spec: string): boolean {
  return /[\\/]/.test(spec) || spec.startsWith("file:") || /\.[cm]?[jt]sx?$/.test(spec);
}

function isDefinition(value: unknown): value is PluginDefinition {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === "string" && typeof v.discover === "function" &&
    typeof v.keyForPath === "function";
}

/**
 * A registered plugin by name, or the plugin a module exports: `nameOrPath` may be a relative
 * path (to the working directory), an absolute path or a `file://` URL; the module's default
 * export, else its `plugin` export, must be a {@linkcode DatasetPlugin} or
 * {@linkcode PluginDefinition}. An unknown name throws a {@linkcode ConfigError} listing the
 * known names; a module that cannot be loaded or exports no plugin throws a
 * {@linkcode FormatError} naming the file.
 *
 * @example
 * ```ts
 * const plugin = await getPlugin("ljspeech");
 * if (plugin.keyForPath("wavs/LJ001-0001.wav") !== "LJ001-0001") throw new Error();
 * ```
 */
export async function getPlugin(nameOrPath: string): Promise<DatasetPlugin> {
  const registered = registry.get(nameOrPath);
  if (registered !== undefined) return registered;
  if (!looksLikePath(nameOrPath)) {
    const known = listPlugins().map((p) => JSON.stringify(p.name)).join(", ");
    throw new ConfigError(
      "plugin",
      nameOrPath,
      `one of ${known} or a module path such as ./my_plugin.ts`,
    );
  }
  const url = nameOrPath.startsWith("file:") ? new URL(nameOrPath) : pathToFileURL(nameOrPath);
  let module: Record<string, unknown>;
  try {
    module = await import(url.href);
  } catch (error) {
    throw new FormatError(nameOrPath, `cannot load plugin module: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const exported = isDefinition(module.default) ? module.default : module.plugin;
  if (!isDefinition(exported)) {
    throw new FormatError(
      nameOrPath,
      "exports no dataset plugin (expected a default or `plugin` export with name, discover and keyForPath)",
    );
  }
  try {
    return definePlugin(exported);
  } catch (error) {
    throw new FormatError(nameOrPath, errorMessage(error), { cause: error });
  }
}
