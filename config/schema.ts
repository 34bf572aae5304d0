/**
 * The schema of `preprocess_config.json`: every key, its type, rule, default and help, in one
 * table ({@linkcode SCHEMA}). It is the single source of defaults: stages and operations take
 * theirs from {@linkcode PREPROCESSING_DEFAULTS}, and validation, `--help` and the CLI flags are
 * derived from the same table.
 *
 * @module
 */
import { FLOAT16_OVERFLOW_POLICIES, type Float16Overflow } from "../formats/float16.ts";
import type { MelOptions } from "../audio/mel.ts";
import {
  EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type ExecutionProviderChoice,
} from "./execution_providers.ts";

/** Clips per model batch when `semantic_model.batch_size` is 0 (auto), by where the model runs. */
export const AUTO_BATCH_SIZE = { gpu: 8, cpu: 4 } as const;

/** Batch size for `batch_size` 0 (auto): {@linkcode AUTO_BATCH_SIZE} (bench/RESULTS.md). */
export function defaultBatchSize(provider: ExecutionProvider): number {
  return provider === "cpu" ? AUTO_BATCH_SIZE.cpu : AUTO_BATCH_SIZE.gpu;
}

/** `preprocessing.mel_config`: how mel spectrograms are computed (the mel module's options). */
export type MelConfig = MelOptions;

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
  max_sample_bytes: number;
  max_failures: FailureLimit;
  max_audio_seconds: number;
}

/** `max_failures`: a count of failed samples, or a percentage of the run's samples (`"1%"`). */
export type FailureLimit = number | `${number}%`;

/** The `semantic_model` object. */
export interface SemanticModel {
  model_name: string;
  output_layer: number;
  execution_provider: ExecutionProviderChoice;
  batch_size: number;
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
    : [V] extends [FailureLimit] ? { type: "limit" }
    : string extends V ? { type: "string" }
    : { type: "enum"; values: readonly V[] });

/** The loose view of one key's rule that generic code works with. */
export interface KeySpec {
  type: "boolean" | "integer" | "number" | "string" | "enum" | "limit";
  default: unknown;
  help: string;
  min?: number;
  above?: number;
  max?: number;
  values?: readonly string[];
}

/** The schema: every fixed key of the file (by JSON path), its type, default, rule and help. */
export const SCHEMA: { readonly [P in Leaf]: Spec<ValueAt<P, Config>> } = {
  "semantic_model.model_name": {
    type: "string",
    default: "none",
    help: 'semantic feature model: a w2v-BERT export directory, or "none" (mel only)',
  },
  "semantic_model.output_layer": {
    type: "integer",
    min: 1,
    default: 17,
    help: "hidden layer whose states are kept",
  },
  "semantic_model.execution_provider": {
    type: "enum",
    values: EXECUTION_PROVIDERS,
    default: "auto",
    help: "where the model runs: auto (WebGPU when a GPU adapter is found, else cpu)",
  },
  "semantic_model.batch_size": {
    type: "integer",
    min: 0,
    default: 0,
    help:
      `clips per model batch; 0: ${AUTO_BATCH_SIZE.gpu} on a GPU, ${AUTO_BATCH_SIZE.cpu} on the CPU`,
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
    default: 16000,
    help: "mel: audio sample rate (Hz)",
  },
  "preprocessing.mel_config.hop_size": {
    type: "integer",
    min: 1,
    default: 320,
    help: "mel: hop between frames (samples)",
  },
  "preprocessing.mel_config.win_size": {
    type: "integer",
    min: 1,
    default: 1024,
    help: "mel: window length (samples, <= n_fft)",
  },
  "preprocessing.mel_config.n_fft": {
    type: "integer",
    min: 1,
    default: 1024,
    help: "mel: FFT size",
  },
  "preprocessing.mel_config.n_mel": {
    type: "integer",
    min: 1,
    default: 80,
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
    default: 8000,
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
  "preprocessing.max_sample_bytes": {
    type: "integer",
    min: 1,
    default: 2 ** 30,
    help: "most bytes one NPZ sample may decode to (a bigger one fails, e.g. a zip bomb)",
  },
  "preprocessing.max_failures": {
    type: "limit",
    default: 0,
    help: 'failed samples a run may have and still exit 0: a count, or a percentage like "1%"',
  },
  "preprocessing.max_audio_seconds": {
    type: "number",
    above: 0,
    default: 3600,
    help: "longest audio file (seconds, a WAV's from its header before decoding); longer ones fail",
  },
};

const SPECS = Object.entries(SCHEMA) as [Leaf, KeySpec][];
const PREFIX = "preprocessing.";

/** A key of the `preprocessing` object, as a path below it: `samples_per_hdf5`, `mel_config.n_fft`. */
export type PreprocessingKey = Extract<Leaf, `preprocessing.${string}`> extends
  `preprocessing.${infer K}` ? K : never;

/** Every preprocessing key, in file order. */
export const PREPROCESSING_KEYS: readonly PreprocessingKey[] = SPECS
  .filter(([path]) => path.startsWith(PREFIX))
  .map(([path]) => path.slice(PREFIX.length) as PreprocessingKey);

/** The rule of one preprocessing key. */
export function keySpec(key: PreprocessingKey): KeySpec {
  return SCHEMA[`${PREFIX}${key}` as Leaf] as KeySpec;
}

/**
 * The keys the write pipeline ({@linkcode pack}, and so `migrate` and `reshard`) reads. A
 * command that runs it declares these, so its `--help` lists only them.
 */
export const WRITE_KEYS = [
  "overwrite_existing",
  "use_float16",
  "samples_per_hdf5",
  "num_save_workers",
  "compression_level",
  "shuffle",
  "float16_overflow",
  "chunk_bytes",
  "checkpoint_interval",
  "checkpoint_seconds",
] as const satisfies readonly PreprocessingKey[];

/** The keys that decide the bytes of stored chunks: a resumed run must keep them. */
export const CHUNK_KEYS = [
  "use_float16",
  "compression_level",
  "shuffle",
  "chunk_bytes",
] as const satisfies readonly PreprocessingKey[];

/** The keys reading a legacy NPZ cache uses (`migrate`). */
export const NPZ_KEYS = [
  "prefetch_size",
] as const satisfies readonly PreprocessingKey[];

function bounds(spec: KeySpec): string {
  if (spec.max !== undefined) return `from ${spec.min} to ${spec.max}`;
  if (spec.above !== undefined) return `> ${spec.above}`;
  return spec.min !== undefined ? `>= ${spec.min}` : "";
}

/** What a key accepts, in words: `an integer >= 1`, `true or false`, `one of "warn", ...`. */
export function accepted(spec: KeySpec): string {
  switch (spec.type) {
    case "boolean":
      return "true or false";
    case "string":
      return "a non-empty string";
    case "enum":
      return `one of ${spec.values!.map((v) => JSON.stringify(v)).join(", ")}`;
    case "limit":
      return 'a count >= 0 or a percentage from "0%" to "100%"';
    default:
      return `${spec.type === "integer" ? "an integer" : "a number"} ${bounds(spec)}`.trimEnd();
  }
}

/** A key's type, short, for help tables: `integer >= 1`, `boolean`, `warn|error|clamp`. */
export function typeText(spec: KeySpec): string {
  if (spec.type === "limit") return "N|P%";
  return spec.type === "enum" ? spec.values!.join("|") : `${spec.type} ${bounds(spec)}`.trimEnd();
}

/** Whether `v` is a valid value under `spec`. */
export function isValid(spec: KeySpec, v: unknown): boolean {
  switch (spec.type) {
    case "boolean":
      return typeof v === "boolean";
    case "string":
      return typeof v === "string" && v.length > 0;
    case "enum":
      return spec.values!.includes(v as string);
    case "limit":
      return typeof v === "number"
        ? Number.isSafeInteger(v) && v >= 0
        : typeof v === "string" && /^\d+(\.\d+)?%$/.test(v) && parseFloat(v) <= 100;
    default:
      return typeof v === "number" && Number.isFinite(v) &&
        (spec.type === "number" || Number.isSafeInteger(v)) &&
        (spec.min === undefined || v >= spec.min) &&
        (spec.above === undefined || v > spec.above) &&
        (spec.max === undefined || v <= spec.max);
  }
}

/** A rule between keys that is broken: the key at fault, its value and what was expected. */
export interface CrossRuleViolation {
  key: PreprocessingKey;
  value: unknown;
  expected: string;
}

/** Cross-key rules, checked after every key is valid on its own. */
const CROSS_RULES: {
  key: PreprocessingKey;
  ok: (m: MelConfig) => boolean;
  expected: (m: MelConfig) => string;
}[] = [
  {
    key: "mel_config.fmax",
    ok: (m) => m.fmax > m.fmin,
    expected: (m) => `a number > mel_config.fmin (${m.fmin})`,
  },
  {
    key: "mel_config.fmax",
    ok: (m) => m.fmax <= m.sample_rate / 2,
    expected: (m) => `a number <= mel_config.sample_rate / 2 (${m.sample_rate / 2})`,
  },
  {
    key: "mel_config.win_size",
    ok: (m) => m.win_size <= m.n_fft,
    expected: (m) => `an integer <= mel_config.n_fft (${m.n_fft})`,
  },
];

/** The first rule between keys that `p` breaks, if any. */
export function crossRuleViolation(p: Preprocessing): CrossRuleViolation | undefined {
  const mel = p.mel_config;
  for (const rule of CROSS_RULES) {
    if (rule.ok(mel)) continue;
    const field = rule.key.split(".").at(-1) as keyof MelConfig;
    return { key: rule.key, value: mel[field], expected: rule.expected(mel) };
  }
  return undefined;
}

type Json = Record<string, unknown>;

/** Sets `value` at a dotted `path` of `target`, making objects on the way. */
export function setIn(target: Json, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part] as Json;
  }
  node[parts.at(-1)!] = value;
}

/** Every leaf of the schema with its rule, in file order (for the file parser). */
export function schemaEntries(): readonly [string, KeySpec][] {
  return SPECS;
}

/** The configuration used for every key the file leaves out; `datasets` is empty. */
export function defaultConfig(): Config {
  const config: Json = { datasets: {} };
  for (const [path, spec] of SPECS) setIn(config, path, spec.default);
  return config as unknown as Config;
}

/**
 * The default `preprocessing` settings, frozen. Stages and operations take their defaults from
 * here rather than repeating numbers.
 *
 * @example
 * ```ts
 * if (PREPROCESSING_DEFAULTS.num_save_workers !== 4) throw new Error();
 * ```
 */
export const PREPROCESSING_DEFAULTS: Readonly<Preprocessing> = (() => {
  const p = defaultConfig().preprocessing;
  Object.freeze(p.mel_config);
  return Object.freeze(p);
})();

/**
 * How many failed samples `limit` allows in a run of `total` samples: the count itself, or the
 * percentage of `total`, rounded down.
 *
 * @example
 * ```ts
 * import { allowedFailures } from "./schema.ts";
 * if (allowedFailures("1%", 250) !== 2 || allowedFailures(3, 10) !== 3) throw new Error();
 * ```
 */
export function allowedFailures(limit: FailureLimit, total: number): number {
  if (typeof limit === "number") return limit;
  return Math.floor(parseFloat(limit) / 100 * total + 1e-9);
}
