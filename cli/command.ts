/**
 * What a CLI command declares, and the context its body runs with.
 *
 * ## Declaring a command
 *
 * A command is a {@linkcode Command} object in its own file under `cli/`, listed in `cli.ts`.
 * Everything the command line may hold is declared there, and the CLI accepts nothing else:
 *
 * - `args`, `minArgs`, `maxArgs`: the positional arguments (a wrong count exits 2).
 * - `options`: the command's own flags, each an {@linkcode OptionSpec}. A string option may
 *   declare `check` (returns what it accepts when the text is wrong) and `known` (values for
 *   "did you mean"); a wrong value exits 2 naming the flag and the value, before `run` starts.
 *   {@linkcode datasetOption} is the shared `--dataset`.
 * - `config`: the `preprocess_config.json` keys the command reads (see `config/schema.ts`, e.g.
 *   `[...WRITE_KEYS, "prefetch_size"]`). Declaring any key also accepts `--config FILE`.
 *   Each key becomes a `--kebab-case` flag (`mel_config.n_fft` -> `--mel-n-fft`), listed in the
 *   command's `--help` and validated against the schema; keys not declared are unknown
 *   options for this command. `configurable: true` is short for `config: WRITE_KEYS`.
 *
 * The body, `run(ctx)`, gets everything through {@linkcode CommandContext}: positionals, option
 * values (already checked), overrides, output, environment, working directory and progress
 * output. The CLI layer never reads globals (`Deno.args`, `Deno.env`, `Deno.cwd()`, stderr):
 * only `cli.ts` does, when run as the main module. A body throws {@linkcode UsageError} for a
 * wrong command line (exit 2) and lets any other error through to the one error printer
 * (`cli/print_error.ts`, exit 1); it returns 0, or 1 when some of the work failed.
 *
 * @module
 */
import type { Config, PreprocessingKey } from "../config.ts";
import { defaultConfig, loadConfig } from "../config.ts";
import { WRITE_KEYS } from "../config/schema.ts";
import { listPlugins } from "../plugins/registry.ts";
import { join } from "../util/path.ts";
import { applyOverrides } from "./flags.ts";
import type { ProgressOptions } from "./progress.ts";

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder for the value in help, e.g. `FILE`. */
  value?: string;
  help: string;
  /** Checks a string value: returns what the option accepts when `text` is wrong. */
  check?: (text: string) => string | undefined;
  /** Values to suggest from when `check` refuses one ("did you mean ljspeech?"). */
  known?: () => readonly string[];
}

/** A CLI command: its help text, what its command line may hold, and its body. */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, e.g. `<npz_dir> <processed_dir>`. */
  args: string;
  /** Paragraphs printed after the usage line. */
  description: string;
  options: Record<string, OptionSpec>;
  /** The preprocessing keys this command reads; each is a flag, and `--config` is accepted. */
  config?: readonly PreprocessingKey[];
  /** Short for `config: WRITE_KEYS` (commands that run the write pipeline). */
  configurable?: boolean;
  minArgs: number;
  maxArgs: number;
  examples: string[];
  run(ctx: CommandContext): Promise<number>;
}

/** The preprocessing keys a command declares. */
export function configKeys(cmd: Command): readonly PreprocessingKey[] {
  return cmd.config ?? (cmd.configurable ? WRITE_KEYS : []);
}

/** What a command body gets. */
export interface CommandContext {
  /** Positional arguments. */
  args: string[];
  /** Option values by name (without dashes). */
  values: Record<string, string | boolean | undefined>;
  /** Preprocessing overrides given on the command line (flag -> text). */
  overrides: Record<string, string>;
  /** Writes a line to stdout. */
  out: (line: string) => void;
  /** Writes a line to stderr. */
  err: (line: string) => void;
  /** An environment variable. */
  env: (name: string) => string | undefined;
  /** The directory the default `preprocess_config.json` is looked up in (the working directory). */
  cwd: string;
  /** Where progress bars draw, and whether in place. */
  progress: ProgressOptions;
}

/** Thrown for a wrong command line: the CLI prints it with a hint to `--help`, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The default config file, used when present and no `--config` is given. */
export const DEFAULT_CONFIG_FILE = "preprocess_config.json";

/**
 * The effective config of a command: `--config FILE` (or `preprocess_config.json` in the
 * working directory when it exists, else the defaults), then the command-line overrides.
 */
export async function effectiveConfig(ctx: CommandContext): Promise<Config> {
  const warn = (msg: string) => ctx.err(`warning: ${msg}`);
  const given = ctx.values.config;
  let config: Config;
  if (typeof given === "string") {
    config = await loadConfig(given, warn);
  } else {
    const file = join(ctx.cwd, DEFAULT_CONFIG_FILE);
    let exists = false;
    try {
      exists = (await Deno.stat(file)).isFile;
    } catch {
      // No default config file: defaults apply.
    }
    config = exists ? await loadConfig(file, warn) : defaultConfig();
  }
  return applyOverrides(config, ctx.overrides);
}

/** The shared `--dataset` option: a built-in plugin name, or a module path. */
export function datasetOption(help: string): OptionSpec {
  const names = () => listPlugins().map((p) => p.name);
  return {
    type: "string",
    value: "NAME|FILE",
    help,
    check: (text) =>
      names().includes(text) || /[\\/]|\.[cm]?[jt]sx?$/.test(text) || text.startsWith("file:")
        ? undefined
        : `a dataset plugin: ${names().join(", ")}, or a module path such as ./my_plugin.ts`,
    known: names,
  };
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
