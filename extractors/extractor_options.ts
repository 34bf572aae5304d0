/**
 * Typed extractor options (as Lhotse's `config_type`): an extractor declares the fields of its
 * JSON options once ({@linkcode optionsParser}), and gets back a parser that fills in defaults,
 * checks each field and returns typed options; a bad field throws a {@linkcode ConfigError}
 * naming its config path (`preprocessing.mel_config.n_fft`, `semantic_model.output_layer`,
 * `extractors.pitch.hop`). {@linkcode withOptions} joins a parser and a builder into an
 * {@linkcode ExtractorFactory} whose `options` runs the check alone, before any audio is read.
 *
 * @module
 */
import { accepted, isValid, type KeySpec } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { Extractor, ExtractorFactory, OptionsParser } from "./extractor.ts";

/** The rule of one option field: its type and bounds as the config schema writes them. */
export interface OptionField {
  type: "boolean" | "integer" | "number" | "string" | "enum";
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** The accepted values of an `enum`. */
  values?: readonly string[];
  /** Used when the field is left out; a field with no default may be left out (undefined). */
  default?: unknown;
  /** Must be given (no default). */
  required?: boolean;
  /** What the error says is expected, when the rule's own words are not enough. */
  expected?: string;
}

/** The fields of options `O`, each with its rule. */
export type OptionFields<O> = { readonly [K in keyof O]-?: OptionField };

/**
 * A parser of options with `fields`: unknown fields, a missing required one and a value its
 * rule refuses each throw a ConfigError at `path(field)`.
 *
 * @example
 * ```ts
 * import { optionsParser } from "./extractor_options.ts";
 *
 * const parse = optionsParser<{ hop: number; voiced?: boolean }>({
 *   hop: { type: "integer", min: 1, default: 320 },
 *   voiced: { type: "boolean" },
 * }, (field) => `extractors.pitch.${field}`);
 * if (parse({}).hop !== 320) throw new Error();
 * try {
 *   parse({ hop: 0 });
 *   throw new Error("not refused");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith("extractors.pitch.hop: expected")) throw e;
 * }
 * ```
 */
export function optionsParser<O>(
  fields: OptionFields<O>,
  path: (field: string) => string,
): OptionsParser<O> {
  const rules = Object.entries(fields) as [string, OptionField][];
  return (given) => {
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      throw new ConfigError(path("").replace(/\.$/, ""), given, "an object of options");
    }
    const raw = given as Readonly<Record<string, unknown>>;
    for (const name of Object.keys(raw)) {
      if (!Object.hasOwn(fields, name)) {
        throw new ConfigError(
          path(name),
          raw[name],
          `no such option; the options are ${rules.map(([n]) => n).join(", ")}`,
        );
      }
    }
    const out: Record<string, unknown> = {};
    for (const [name, rule] of rules) {
      const value = Object.hasOwn(raw, name) && raw[name] !== undefined ? raw[name] : rule.default;
      if (value === undefined) {
        if (rule.required) throw new ConfigError(path(name), undefined, expected(rule));
        continue;
      }
      if (!isValid(rule as KeySpec, value)) {
        throw new ConfigError(path(name), value, expected(rule));
      }
      out[name] = value;
    }
    return out as O;
  };
}

function expected(rule: OptionField): string {
  return rule.expected ?? accepted({ ...rule, default: undefined, help: "" });
}

/**
 * An {@linkcode ExtractorFactory} that parses its JSON options with `parse` and builds the
 * extractor from the typed result; `factory.options` is `parse`, for checking options before a
 * run (on the main thread, before workers build the extractor).
 */
export function withOptions<O>(
  parse: OptionsParser<O>,
  build: (options: O) => Extractor | Promise<Extractor>,
): ExtractorFactory<O> {
  const factory = (raw: Record<string, unknown>) => build(parse(raw));
  return Object.assign(factory, { options: parse });
}
