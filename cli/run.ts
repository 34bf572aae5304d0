/**
 * The CLI runner: help texts, the command-line parser (our own messages, "did you mean"),
 * and {@linkcode runCli}, which dispatches to a command and turns errors into exit statuses.
 *
 * @module
 */
import { checkFlagValue, closest, describeFlag, flagOf } from "./flags.ts";
import {
  type Command,
  type CommandContext,
  configKeys,
  type OptionSpec,
  UsageError,
} from "./command.ts";
import { errorLines } from "./print_error.ts";
import type { ProgressOptions } from "./progress.ts";
import { versionLines } from "./version.ts";

/** What the CLI reads and writes instead of globals. */
export interface CliIo {
  /** Writes a line to stdout (default `console.log`). */
  out?: (line: string) => void;
  /** Writes a line to stderr (default `console.error`). */
  err?: (line: string) => void;
  /** Environment variables (default: none). */
  env?: (name: string) => string | undefined;
  /** Where the default config file is looked up (default `.`). */
  cwd?: string;
  /** Progress bar output (default: none). */
  progress?: ProgressOptions;
  /**
   * Extra `--version` lines (e.g. the zlib codec), asked for only by `--version`, so no other
   * command line pays for what they look up.
   */
  versionExtra?: () => readonly string[];
}

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "show this help" };
const CONFIG_OPTION: OptionSpec = {
  type: "string",
  value: "FILE",
  help: "preprocess_config.json to read (default: ./preprocess_config.json when present)",
};

/** Every option a command accepts, by name: its own, `--help`, `--config` and its keys' flags. */
function optionsOf(cmd: Command): Map<string, OptionSpec> {
  const options = new Map<string, OptionSpec>([["help", HELP_OPTION]]);
  for (const [name, spec] of Object.entries(cmd.options)) options.set(name, spec);
  const keys = configKeys(cmd);
  if (keys.length) options.set("config", CONFIG_OPTION);
  for (const key of keys) {
    const f = describeFlag(key);
    options.set(f.flag, {
      type: "string",
      value: "VALUE",
      help: `${f.help} (${f.type}; default ${JSON.stringify(f.default)})`,
      check: (text) => checkFlagValue(key, text),
    });
  }
  return options;
}

function optionLine(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
    spec.value ? ` ${spec.value}` : ""
  }`;
  return `  ${flag.padEnd(32)} ${spec.help}`;
}

/** The top-level help text. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "h5shard: pack ML features into sharded HDF5 caches (features_NNNNN.h5 + hdf5_index.json)",
    "and read them back.",
    "",
    "Usage: h5shard <command> [arguments] [options]",
    "       h5shard --version",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'h5shard <command> --help' for a command's arguments, options and examples.",
    "Exit status: 0 all done, 1 some work failed (the rest was done), 2 wrong command line.",
  ].join("\n");
}

/** A command's help text: only the options it accepts. */
export function commandHelp(cmd: Command): string {
  const own = Object.entries(cmd.options);
  const keys = configKeys(cmd);
  const options = optionsOf(cmd);
  const lines = [
    `Usage: h5shard ${cmd.name} ${cmd.args}${options.size > 1 ? " [options]" : ""}`.replace(
      /  +/,
      " ",
    ),
    "",
    cmd.summary + ".",
    "",
    cmd.description,
    "",
    "Options:",
    ...own.map(([n, s]) => optionLine(n, s)),
  ];
  if (keys.length) {
    lines.push(
      optionLine("config", CONFIG_OPTION),
      "",
      "Settings (keys of preprocess_config.json's preprocessing object; override the file):",
      ...keys.map((key) => optionLine(flagOf(key), options.get(flagOf(key))!)),
    );
  }
  lines.push(optionLine("help", HELP_OPTION));
  lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

function hint(near: string[]): string {
  return near.length ? ` (did you mean ${near.join(", ")}?)` : "";
}

/** Why an unknown flag is unknown: a typo, or an option of other commands. */
function unknownOption(flag: string, cmd: Command, commands: readonly Command[]): UsageError {
  const name = flag.replace(/^-+/, "");
  const owners = commands.filter((c) => c !== cmd && optionsOf(c).has(name)).map((c) => c.name);
  if (owners.length) {
    return new UsageError(
      `unknown option ${flag} for ${cmd.name} (it is an option of ${owners.join(", ")})`,
    );
  }
  const near = closest(name, optionsOf(cmd).keys()).map((n) => `--${n}`);
  return new UsageError(`unknown option ${flag} for ${cmd.name}${hint(near)}`);
}

/** Positionals and option values of a command line, checked against what `cmd` declares. */
export function parseCommandLine(
  cmd: Command,
  argv: readonly string[],
  commands: readonly Command[],
): { values: Record<string, string | boolean>; positionals: string[] } {
  const options = optionsOf(cmd);
  const byShort = new Map(
    [...options].filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]),
  );
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq > 0 ? arg.slice(0, eq) : arg;
    const name = written.startsWith("--")
      ? written.slice(2)
      : written.length === 2
      ? byShort.get(written[1])
      : undefined;
    const spec = name === undefined ? undefined : options.get(name);
    if (name === undefined || spec === undefined) throw unknownOption(written, cmd, commands);
    if (name in values) throw new UsageError(`--${name} is given more than once`);
    if (spec.type === "boolean") {
      if (eq > 0) throw new UsageError(`--${name} takes no value, got ${JSON.stringify(arg)}`);
      values[name] = true;
      continue;
    }
    let text: string;
    if (eq > 0) {
      text = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      text = argv[++i];
    } else {
      throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ""}`);
    }
    const expected = spec.check?.(text);
    if (expected !== undefined) {
      const near = spec.known ? closest(text, spec.known()) : [];
      throw new UsageError(
        `--${name}: expected ${expected}, got ${JSON.stringify(text)}${hint(near)}`,
      );
    }
    values[name] = text;
  }
  if (!values.help && (positionals.length < cmd.minArgs || positionals.length > cmd.maxArgs)) {
    throw new UsageError(
      `expected ${cmd.args || "no arguments"}, got ${positionals.length} argument(s)` +
        (positionals.length ? `: ${positionals.map((p) => JSON.stringify(p)).join(" ")}` : ""),
    );
  }
  return { values, positionals };
}

/** Runs the CLI on an argument list over `commands`; returns the exit status. */
export async function runCli(
  commands: readonly Command[],
  argv: readonly string[],
  io: CliIo = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  const env = io.env ?? (() => undefined);
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const target = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    out(target ? commandHelp(target) : mainHelp(commands));
    return 0;
  }
  if (name === "--version" || name === "-V") {
    for (const line of versionLines(io.versionExtra?.())) out(line);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    const what = name.startsWith("-") ? "option" : "command";
    const near = closest(name.replace(/^-+/, ""), commands.map((c) => c.name));
    err(
      `error: unknown ${what} ${JSON.stringify(name)}${hint(near)}\n` +
        `Run 'h5shard --help' for the commands.`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parseCommandLine(cmd, rest, commands);
    if (values.help) {
      out(commandHelp(cmd));
      return 0;
    }
    const overrides: Record<string, string> = {};
    for (const key of configKeys(cmd)) {
      const v = values[flagOf(key)];
      if (typeof v === "string") overrides[flagOf(key)] = v;
    }
    const ctx: CommandContext = {
      args: positionals,
      values,
      overrides,
      out,
      err,
      env,
      cwd: io.cwd ?? ".",
      progress: io.progress ?? { write: () => {}, interactive: false },
    };
    return await cmd.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}\nRun 'h5shard ${cmd.name} --help' for usage.`);
      return 2;
    }
    for (const line of errorLines(e, env("H5SHARD_DEBUG") !== undefined)) err(line);
    // A refused resume (SettingsMismatchError) is the caller's to fix, as a usage error is.
    const status = (e as { exitStatus?: unknown } | undefined)?.exitStatus;
    return status === 2 ? 2 : 1;
  }
}
