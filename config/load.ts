/**
 * Reading `preprocess_config.json`: JSON errors with line and column, validation against the
 * schema with the JSON path of every bad value, warnings for unknown keys.
 *
 * @module
 */
import { ConfigError, errorMessage, FormatError } from "../errors.ts";
import {
  accepted,
  type Config,
  crossRuleViolation,
  type DatasetPaths,
  defaultConfig,
  isValid,
  schemaEntries,
  setIn,
} from "./schema.ts";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Known keys of each object the schema describes, by the object's path ("" = top level). */
const KNOWN_KEYS = new Map<string, Set<string>>([["", new Set(["datasets"])]]);
for (const [path] of schemaEntries()) {
  const parts = path.split(".");
  for (let i = 0; i < parts.length; i++) {
    const parent = parts.slice(0, i).join(".");
    if (!KNOWN_KEYS.has(parent)) KNOWN_KEYS.set(parent, new Set());
    KNOWN_KEYS.get(parent)!.add(parts[i]);
  }
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/**
 * Validates parsed JSON. A wrong type, an out-of-range number or an unknown enum value throws a
 * {@linkcode ConfigError} whose `path` is the JSON path (e.g. `preprocessing.samples_per_hdf5`)
 * and whose message names `file`, the value and what is accepted. Unknown keys go to `warn`
 * (`"<file>: unknown key preprocessing.foo (ignored)"`); missing keys take their defaults.
 *
 * @example
 * ```ts
 * const config = parseConfig({ preprocessing: { samples_per_hdf5: 100 } }, "cfg.json", console.warn);
 * if (config.preprocessing.samples_per_hdf5 !== 100) throw new Error();
 * if (config.preprocessing.compression_level !== 4) throw new Error();
 * ```
 */
export function parseConfig(json: unknown, file: string, warn: (msg: string) => void): Config {
  const fail = (path: string, value: unknown, expected: string) => {
    const error = new ConfigError(path, value, expected);
    error.message = `${file}: ${error.message}`;
    return error;
  };
  if (!isObject(json)) throw fail("(top level)", json, "a JSON object");

  const warnUnknown = (node: Json, path: string, known: Set<string>) => {
    for (const key of Object.keys(node)) {
      if (!known.has(key)) warn(`${file}: unknown key ${join(path, key)} (ignored)`);
    }
  };
  const walkKnown = (node: Json, path: string) => {
    const known = KNOWN_KEYS.get(path)!;
    warnUnknown(node, path, known);
    for (const key of known) {
      const child = join(path, key);
      if (KNOWN_KEYS.has(child) && isObject(node[key])) walkKnown(node[key] as Json, child);
    }
  };
  walkKnown(json, "");

  const config = defaultConfig();
  for (const [path, spec] of schemaEntries()) {
    let node: unknown = json;
    const parts = path.split(".");
    for (const [i, part] of parts.entries()) {
      if (!isObject(node)) throw fail(parts.slice(0, i).join("."), node, "an object");
      node = node[part];
      if (node === undefined) break;
    }
    if (node === undefined) continue;
    if (!isValid(spec, node)) throw fail(path, node, accepted(spec));
    setIn(config as unknown as Json, path, node);
  }

  const datasets = json.datasets ?? {};
  if (!isObject(datasets)) throw fail("datasets", datasets, "an object");
  const entries: [string, DatasetPaths][] = [];
  for (const [name, entry] of Object.entries(datasets)) {
    const path = `datasets.${name}`;
    if (!isObject(entry)) throw fail(path, entry, "an object with data_root and processed_dir");
    warnUnknown(entry, path, new Set(["data_root", "processed_dir"]));
    for (const key of ["data_root", "processed_dir"] as const) {
      const value = entry[key];
      if (typeof value !== "string" || value === "") {
        throw fail(`${path}.${key}`, value, "a non-empty path string");
      }
    }
    entries.push([name, {
      data_root: entry.data_root as string,
      processed_dir: entry.processed_dir as string,
    }]);
  }
  // fromEntries defines own properties, so even a dataset named "__proto__" stays data
  config.datasets = Object.fromEntries(entries);

  const broken = crossRuleViolation(config.preprocessing);
  if (broken) throw fail(`preprocessing.${broken.key}`, broken.value, broken.expected);
  return config;
}

/**
 * Reads and parses a config file. A missing or unreadable file, or bad JSON, throws a
 * {@linkcode FormatError} naming the file (and the line and column of a JSON error).
 */
export async function loadConfig(path: string, warn: (msg: string) => void): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new FormatError(path, `cannot read config file: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  text = text.replace(/^\uFEFF/, "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FormatError(path, `invalid JSON: ${jsonErrorWhere(errorMessage(error), text)}`, {
      cause: error,
    });
  }
  return parseConfig(json, path, warn);
}

/** The parser's message, with line and column added when the runtime gave only a position. */
function jsonErrorWhere(message: string, text: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line} column ${column})`;
}
