/**
 * `preprocess_config.json`: the schema, defaults, validation, CLI overrides and `--help` text.
 *
 * The schema is one table ({@linkcode SCHEMA}); validation, defaults, overrides and the flag
 * descriptions are all derived from it.
 *
 * Override flags are the preprocessing keys in kebab case (`samples_per_hdf5` ->
 * `samples-per-hdf5`); `mel_config` keys take a `mel-` prefix (`mel_config.n_fft` ->
 * `mel-n-fft`, `mel_config.sample_rate` -> `mel-sample-rate`).
 *
 * @module
 */
import { ConfigError, errorMessage, FormatError } from "./errors.ts";
import { FLOAT16_OVERFLOW_POLICIES, type Float16Overflow } from "./formats/float16.ts";

/** `preprocessing.mel_config`: how mel spectrograms are computed. */
export interface MelConfig {
  sample_rate: number;
  hop_size: number;
  win_size: number;
  n_fft: number;
  n_mel: number;
  fmin: number;
  fmax: number;
}

/** The `preprocessing` object. */
export interface Preprocessing {
  overwrite_existing: boolean;
  extract_mel: boolean;
  use_float16: boolean;
  samples_per_hdf5: number;
  mel_config: MelConfig;
  num_audio_workers: number;
  num_save_workers: number;
  prefetch_size: number;
  max_retries: number;
  retry_delay: number;
  compression_level: number;
  shuffle: boolean;
  float16_overflow: Float16Overflow;
  chunk_bytes: number;
  checkpoint_interval: number;
  checkpoint_seconds: number;
  max_open_files: number;
}

/** The `semantic_model` object. */
export interface SemanticModel {
  model_name: string;
  output_layer: number;
}

/** One entry of `datasets`. */
export interface DatasetPaths {
  data_root: string;
  processed_dir: string;
}

/** A whole, validated `preprocess_config.json`. */
export interface Config {
  semantic_model: SemanticModel;
  preprocessing: Preprocessing;
  datasets: Record<string, DatasetPaths>;
}

type Leaf =
  | `semantic_model.${keyof SemanticModel}`
  | `preprocessing.${Exclude<keyof Preprocessing, "mel_config">}`
  | `preprocessing.mel_config.${keyof MelConfig}`;

type ValueAt<P extends string, T> = P extends `${infer H}.${infer R}`
  ? H extends keyof T ? ValueAt<R, T[H]> : never
  : P extends keyof T ? T[P]
  : never;

interface NumberRule {
  type: "integer" | "number";
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
}

type Spec<V> =
  & { default: V; help: string }
  & ([V] extends [boolean] ? { type: "boolean" }
    : [V] extends [number] ? NumberRule
    : string extends V ? { type: "string" }
    : { type: "enum"; values: readonly V[] });

/** The loose view of a {@linkcode Spec} that generic code works with. */
interface AnySpec {
  type: "boolean" | "integer" | "number" | "string" | "enum";
  default: unknown;
  help: string;
  min?: number;
  above?: number;
  max?: number;
  values?: readonly string[];
}

/** The schema: every fixed key of the file (by JSON path), its type, default, rule and help. */
const SCHEMA: { readonly [P in Leaf]: Spec<ValueAt<P, Config>> } = {
  "semantic_model.model_name": {
    type: "string",
    default: "facebook/w2v-bert-2.0",
    help: "semantic feature model",
  },
  "semantic_model.output_layer": {
    type: "integer",
    min: 0,
    default: 17,
    help: "hidden layer whose states are kept",
  },
  "preprocessing.overwrite_existing": {
    type: "boolean",
    default: false,
    help: "rewrite samples the index already has",
  },
  "preprocessing.extract_mel": {
    type: "boolean",
    default: true,
    help: "compute mel_spectrogram too",
  },
  "preprocessing.use_float16": {
    type: "boolean",
    default: true,
    help: "store float arrays as float16",
  },
  "preprocessing.samples_per_hdf5": {
    type: "integer",
    min: 1,
    default: 20000,
    help: "samples per shard file",
  },
  "preprocessing.mel_config.sample_rate": {
    type: "integer",
    min: 1,
    default: 24000,
    help: "mel: audio sample rate (Hz)",
  },
  "preprocessing.mel_config.hop_size": {
    type: "integer",
    min: 1,
    default: 480,
    help: "mel: hop between frames (samples)",
  },
  "preprocessing.mel_config.win_size": {
    type: "integer",
    min: 1,
    default: 1920,
    help: "mel: window length (samples, <= n_fft)",
  },
  "preprocessing.mel_config.n_fft": {
    type: "integer",
    min: 1,
    default: 1920,
    help: "mel: FFT size",
  },
  "preprocessing.mel_config.n_mel": {
    type: "integer",
    min: 1,
    default: 128,
    help: "mel: number of mel bands",
  },
  "preprocessing.mel_config.fmin": {
    type: "number",
    min: 0,
    default: 0,
    help: "mel: lowest frequency (Hz)",
  },
  "preprocessing.mel_config.fmax": {
    type: "number",
    above: 0,
    default: 12000,
    help: "mel: highest frequency (Hz, <= sample_rate / 2)",
  },
  "preprocessing.num_audio_workers": {
    type: "integer",
    min: 1,
    default: 4,
    help: "parallel audio loaders",
  },
  "preprocessing.num_save_workers": {
    type: "integer",
    min: 1,
    default: 4,
    help: "parallel compression workers",
  },
  "preprocessing.prefetch_size": {
    type: "integer",
    min: 1,
    default: 8,
    help: "samples read ahead",
  },
  "preprocessing.max_retries": {
    type: "integer",
    min: 0,
    default: 3,
    help: "retries of a failed sample read",
  },
  "preprocessing.retry_delay": {
    type: "number",
    min: 0,
    default: 1,
    help: "seconds between retries",
  },
  "preprocessing.compression_level": {
    type: "integer",
    min: 0,
    max: 9,
    default: 4,
    help: "deflate level (0 = stored)",
  },
  "preprocessing.shuffle": {
    type: "boolean",
    default: false,
    help: "apply the HDF5 shuffle filter before deflate",
  },
  "preprocessing.float16_overflow": {
    type: "enum",
    values: FLOAT16_OVERFLOW_POLICIES,
    default: "warn",
    help: "values beyond float16 range: warn (store inf), fail the sample, or clamp",
  },
  "preprocessing.chunk_bytes": {
    type: "integer",
    min: 1024,
    default: 16384,
    help: "target bytes per HDF5 chunk",
  },
  "preprocessing.checkpoint_interval": {
    type: "integer",
    min: 1,
    default: 1000,
    help: "samples between index checkpoints",
  },
  "preprocessing.checkpoint_seconds": {
    type: "number",
    above: 0,
    default: 60,
    help: "seconds between index checkpoints",
  },
  "preprocessing.max_open_files": {
    type: "integer",
    min: 1,
    default: 64,
    help: "shard files a reader keeps open (LRU)",
  },
};

const SPECS = Object.entries(SCHEMA) as [Leaf, AnySpec][];
const PREFIX = "preprocessing.";

/** Cross-key rules, checked after every key is valid on its own. */
const CROSS_RULES: {
  path: Leaf;
  ok: (m: MelConfig) => boolean;
  expected: (m: MelConfig) => string;
}[] = [
  {
    path: "preprocessing.mel_config.fmax",
    ok: (m) => m.fmax > m.fmin,
    expected: (m) => `a number > mel_config.fmin (${m.fmin})`,
  },
  {
    path: "preprocessing.mel_config.fmax",
    ok: (m) => m.fmax <= m.sample_rate / 2,
    expected: (m) => `a number <= mel_config.sample_rate / 2 (${m.sample_rate / 2})`,
  },
  {
    path: "preprocessing.mel_config.win_size",
    ok: (m) => m.win_size <= m.n_fft,
    expected: (m) => `an integer <= mel_config.n_fft (${m.n_fft})`,
  },
];

function flagOf(path: Leaf): string {
  return path.slice(PREFIX.length).replace("mel_config.", "mel_").replaceAll("_", "-");
}

function bounds(spec: AnySpec): string {
  if (spec.max !== undefined) return `from ${spec.min} to ${spec.max}`;
  if (spec.above !== undefined) return `> ${spec.above}`;
  return spec.min !== undefined ? `>= ${spec.min}` : "";
}

function accepted(spec: AnySpec): string {
  switch (spec.type) {
    case "boolean":
      return "true or false";
    case "string":
      return "a non-empty string";
    case "enum":
      return `one of ${spec.values!.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${spec.type === "integer" ? "an integer" : "a number"} ${bounds(spec)}`.trimEnd();
  }
}

function isValid(spec: AnySpec, v: unknown): boolean {
  switch (spec.type) {
    case "boolean":
      return typeof v === "boolean";
    case "string":
      return typeof v === "string" && v.length > 0;
    case "enum":
      return spec.values!.includes(v as string);
    default:
      return typeof v === "number" && Number.isFinite(v) &&
        (spec.type === "number" || Number.isSafeInteger(v)) &&
        (spec.min === undefined || v >= spec.min) &&
        (spec.above === undefined || v > spec.above) &&
        (spec.max === undefined || v <= spec.max);
  }
}

/** A flag's text as the key's type, or `undefined` when it does not parse. */
function fromText(spec: AnySpec, text: string): unknown {
  switch (spec.type) {
    case "boolean":
      return { true: true, "1": true, false: false, "0": false }[text.trim().toLowerCase()];
    case "integer":
    case "number":
      return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : undefined;
    default:
      return text;
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setIn(target: Json, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as Json;
  }
  node[parts.at(-1)!] = value;
}

/** Known keys of each object the schema describes, by the object's path ("" = top level). */
const KNOWN_KEYS = new Map<string, Set<string>>([["", new Set(["datasets"])]]);
for (const [path] of SPECS) {
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

/** The configuration used for every key the file leaves out; `datasets` is empty. */
export function defaultConfig(): Config {
  const config: Json = { datasets: {} };
  for (const [path, spec] of SPECS) setIn(config, path, spec.default);
  return config as unknown as Config;
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
  for (const [path, spec] of SPECS) {
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

  for (const rule of CROSS_RULES) {
    const mel = config.preprocessing.mel_config;
    if (!rule.ok(mel)) {
      const key = rule.path.split(".").at(-1) as keyof MelConfig;
      throw fail(rule.path, mel[key], rule.expected(mel));
    }
  }
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

/** One preprocessing flag, for `--help` and for building a CLI parser. */
export interface FlagDescription {
  /** The flag without dashes, as {@linkcode applyOverrides} takes it: `samples-per-hdf5`. */
  flag: string;
  /** Path below `preprocessing`: `samples_per_hdf5`, `mel_config.n_fft`. */
  key: string;
  /** `boolean`, `integer`, `number` (with its accepted range, e.g. `integer >= 1`), or `warn|error|clamp`. */
  type: string;
  default: unknown;
  help: string;
}

/**
 * Every preprocessing key as a flag, in file order, for `--help`.
 *
 * @example
 * ```ts
 * const flag = PREPROCESSING_FLAGS.find((f) => f.key === "samples_per_hdf5")!;
 * if (flag.flag !== "samples-per-hdf5" || flag.default !== 20000) throw new Error();
 * ```
 */
export const PREPROCESSING_FLAGS: readonly FlagDescription[] = SPECS
  .filter(([path]) => path.startsWith(PREFIX))
  .map(([path, spec]) => ({
    flag: flagOf(path),
    key: path.slice(PREFIX.length),
    type: spec.type === "enum" ? spec.values!.join("|") : `${spec.type} ${bounds(spec)}`.trimEnd(),
    default: spec.default,
    help: spec.help,
  }));

const PATH_OF_FLAG = new Map(
  SPECS.filter(([path]) => path.startsWith(PREFIX)).map(([path]) => [flagOf(path), path]),
);

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

function closeFlags(flag: string): string[] {
  const limit = Math.max(2, Math.floor(flag.length / 3));
  return [...PATH_OF_FLAG.keys()]
    .map((known) => ({
      known,
      d: known.includes(flag) || flag.includes(known) ? 0 : distance(flag, known),
    }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d)
    .slice(0, 3)
    .map(({ known }) => `--${known}`);
}

/**
 * Applies CLI overrides, given as flag (with or without `--`) -> text, e.g.
 * `{ "samples-per-hdf5": "100", "use-float16": "false", "mel-n-fft": "1024" }`. Booleans take
 * `true`/`false`/`1`/`0`. Values are checked with the file's rules; a bad value throws a
 * {@linkcode ConfigError} whose `path` is the flag (`--samples-per-hdf5`); an unknown flag
 * throws one that lists close matches. Returns a new Config; `config` is not changed.
 *
 * @example
 * ```ts
 * const config = applyOverrides(defaultConfig(), { "use-float16": "false", "mel-n-mel": "80" });
 * if (config.preprocessing.use_float16 || config.preprocessing.mel_config.n_mel !== 80) {
 *   throw new Error();
 * }
 * ```
 */
export function applyOverrides(config: Config, overrides: Record<string, string>): Config {
  const result = structuredClone(config);
  const flagOfPath = new Map<string, { flag: string; text: string }>();
  for (const [given, text] of Object.entries(overrides)) {
    const flag = given.replace(/^--/, "");
    const path = PATH_OF_FLAG.get(flag);
    if (path === undefined) {
      const close = closeFlags(flag);
      const hint = close.length ? `did you mean ${close.join(", ")}?` : "see --help";
      throw new ConfigError(`--${flag}`, text, `a preprocessing flag (${hint})`);
    }
    const spec = SCHEMA[path] as AnySpec;
    const value = fromText(spec, text);
    if (!isValid(spec, value)) throw new ConfigError(`--${flag}`, text, accepted(spec));
    setIn(result as unknown as Json, path, value);
    flagOfPath.set(path, { flag: `--${flag}`, text });
  }
  const mel = result.preprocessing.mel_config;
  for (const rule of CROSS_RULES) {
    if (rule.ok(mel)) continue;
    const given = flagOfPath.get(rule.path);
    const key = rule.path.split(".").at(-1) as keyof MelConfig;
    throw given
      ? new ConfigError(given.flag, given.text, rule.expected(mel))
      : new ConfigError(rule.path, mel[key], rule.expected(mel));
  }
  return result;
}
