/**
 * Config keys as command-line flags: naming (`samples_per_hdf5` -> `--samples-per-hdf5`,
 * `mel_config.n_fft` -> `--mel-n-fft`), parsing a flag's text as the key's type, applying
 * overrides, and "did you mean" suggestions.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import {
  accepted,
  type Config,
  crossRuleViolation,
  isValid,
  keySpec,
  PREPROCESSING_KEYS,
  type PreprocessingKey,
  setIn,
  typeText,
} from "../config/schema.ts";

/** The flag (without dashes) of a preprocessing key. */
export function flagOf(key: PreprocessingKey): string {
  return key.replace("mel_config.", "mel_").replaceAll("_", "-");
}

const KEY_OF_FLAG = new Map(PREPROCESSING_KEYS.map((key) => [flagOf(key), key]));

/** The preprocessing key of a flag (with or without dashes), if it is one. */
export function keyOfFlag(flag: string): PreprocessingKey | undefined {
  return KEY_OF_FLAG.get(flag.replace(/^--/, ""));
}

/** One preprocessing flag, for `--help`. */
export interface FlagDescription {
  /** The flag without dashes: `samples-per-hdf5`. */
  flag: string;
  /** Path below `preprocessing`: `samples_per_hdf5`, `mel_config.n_fft`. */
  key: PreprocessingKey;
  /** `boolean`, `integer >= 1`, `integer from 0 to 9`, `warn|error|clamp`, ... */
  type: string;
  default: unknown;
  help: string;
}

/** The flag description of a key. */
export function describeFlag(key: PreprocessingKey): FlagDescription {
  const spec = keySpec(key);
  return { flag: flagOf(key), key, type: typeText(spec), default: spec.default, help: spec.help };
}

/**
 * Every preprocessing key as a flag, in file order.
 *
 * @example
 * ```ts
 * const flag = PREPROCESSING_FLAGS.find((f) => f.key === "samples_per_hdf5")!;
 * if (flag.flag !== "samples-per-hdf5" || flag.default !== 20000) throw new Error();
 * ```
 */
export const PREPROCESSING_FLAGS: readonly FlagDescription[] = PREPROCESSING_KEYS.map(describeFlag);

/** A flag's text as the key's type, or `undefined` when it does not parse. */
function fromText(key: PreprocessingKey, text: string): unknown {
  const spec = keySpec(key);
  switch (spec.type) {
    case "boolean":
      return { true: true, "1": true, false: false, "0": false }[text.trim().toLowerCase()];
    case "integer":
    case "number":
      return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : undefined;
    case "limit":
      return /^\s*\d+\s*$/.test(text) ? Number(text) : text.trim();
    default:
      return text;
  }
}

/**
 * Checks one flag's text: `undefined` when it is a valid value, else what the flag accepts.
 *
 * @example
 * ```ts
 * if (checkFlagValue("samples_per_hdf5", "abc") !== "an integer >= 1") throw new Error();
 * if (checkFlagValue("use_float16", "false") !== undefined) throw new Error();
 * ```
 */
export function checkFlagValue(key: PreprocessingKey, text: string): string | undefined {
  const spec = keySpec(key);
  return isValid(spec, fromText(key, text)) ? undefined : accepted(spec);
}

/** Edit distance between two words. */
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

/**
 * The candidates close to `word` (a typo, a missing or extra part), nearest first, at most
 * three.
 *
 * @example
 * ```ts
 * const near = closest("datset", ["dataset", "against", "json"]);
 * if (near[0] !== "dataset") throw new Error();
 * ```
 */
export function closest(word: string, candidates: Iterable<string>): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  return [...new Set(candidates)]
    .map((known) => ({
      known,
      d: word.length >= 3 && (known.includes(word) || word.includes(known))
        ? 0
        : distance(word, known),
    }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d)
    .slice(0, 3)
    .map(({ known }) => known);
}

/**
 * Applies overrides given as flag (with or without `--`) -> text, e.g.
 * `{ "samples-per-hdf5": "100", "use-float16": "false", "mel-n-fft": "1024" }`. Booleans take
 * `true`/`false`/`1`/`0`. Values are checked with the file's rules; a bad value throws a
 * {@linkcode ConfigError} whose `path` is the flag (`--samples-per-hdf5`); an unknown flag
 * throws one that lists close matches. Returns a new Config; `config` is not changed.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../config.ts";
 * const config = applyOverrides(defaultConfig(), { "use-float16": "false", "mel-n-mel": "40" });
 * if (config.preprocessing.use_float16 || config.preprocessing.mel_config.n_mel !== 40) {
 *   throw new Error();
 * }
 * ```
 */
export function applyOverrides(config: Config, overrides: Record<string, string>): Config {
  const result = structuredClone(config);
  const given = new Map<PreprocessingKey, { flag: string; text: string }>();
  for (const [name, text] of Object.entries(overrides)) {
    const flag = name.replace(/^--/, "");
    const key = keyOfFlag(flag);
    if (key === undefined) {
      const near = closest(flag, KEY_OF_FLAG.keys()).map((f) => `--${f}`);
      const hint = near.length ? `did you mean ${near.join(", ")}?` : "see --help";
      throw new ConfigError(`--${flag}`, text, `a preprocessing flag (${hint})`);
    }
    const problem = checkFlagValue(key, text);
    if (problem !== undefined) throw new ConfigError(`--${flag}`, text, problem);
    setIn(result.preprocessing as unknown as Record<string, unknown>, key, fromText(key, text));
    given.set(key, { flag: `--${flag}`, text });
  }
  const broken = crossRuleViolation(result.preprocessing);
  if (broken) {
    const flag = given.get(broken.key);
    throw flag
      ? new ConfigError(flag.flag, flag.text, broken.expected)
      : new ConfigError(`preprocessing.${broken.key}`, broken.value, broken.expected);
  }
  return result;
}
