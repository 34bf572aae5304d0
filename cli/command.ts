/**
 * What a CLI command declares, and the context its body runs with. The CLI layer never reads
 * globals: arguments, output and environment come in through {@linkcode CommandContext}.
 *
 * @module
 */
import {
  applyOverrides,
  type Config,
  defaultConfig,
  loadConfig,
  PREPROCESSING_FLAGS,
} from "../config.ts";

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder for the value in help, e.g. `FILE`. */
  value?: string;
  help: string;
}

/** A CLI command: its help text and its body. */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, e.g. `<npz_dir> <processed_dir>`. */
  args: string;
  /** Paragraphs printed after the usage line. */
  description: string;
  options: Record<string, OptionSpec>;
  /** Takes `--config` and every preprocessing key as `--kebab-case value`. */
  configurable?: boolean;
  minArgs: number;
  maxArgs: number;
  examples: string[];
  run(ctx: CommandContext): Promise<number>;
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
 * The effective config of a command: `--config FILE` (or `./preprocess_config.json` when it
 * exists, else the defaults), then the command-line overrides.
 */
export async function effectiveConfig(ctx: CommandContext): Promise<Config> {
  const warn = (msg: string) => ctx.err(`warning: ${msg}`);
  const given = ctx.values.config;
  let config: Config;
  if (typeof given === "string") {
    config = await loadConfig(given, warn);
  } else {
    let exists = false;
    try {
      exists = Deno.statSync(DEFAULT_CONFIG_FILE).isFile;
    } catch {
      // No default config file: defaults apply.
    }
    config = exists ? await loadConfig(DEFAULT_CONFIG_FILE, warn) : defaultConfig();
  }
  return applyOverrides(config, ctx.overrides);
}

/** Help lines for the preprocessing override flags. */
export function overrideHelp(): string[] {
  const width = Math.max(...PREPROCESSING_FLAGS.map((f) => f.flag.length + 8));
  return PREPROCESSING_FLAGS.map((f) =>
    `  --${f.flag} VALUE`.padEnd(width + 4) +
    `${f.help} (${f.type}; default ${JSON.stringify(f.default)})`
  );
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
