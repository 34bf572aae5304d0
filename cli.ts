/**
 * The `h5shard` command line. This file only declares the commands and prints errors; each
 * command's body is a small function over the library in `cli/`.
 *
 * Run as `deno task h5shard <command> ...`, or `deno run -A cli.ts <command> ...`.
 *
 * @module
 */
import { parseArgs } from "./deps.ts";
import { PREPROCESSING_FLAGS } from "./config.ts";
import { H5ShardError } from "./errors.ts";
import {
  type Command,
  type CommandContext,
  type OptionSpec,
  overrideHelp,
  UsageError,
} from "./cli/command.ts";
import { demoCommand } from "./cli/demo.ts";
import { getCommand } from "./cli/get.ts";
import { inspectCommand } from "./cli/inspect.ts";
import { migrateCommand } from "./cli/migrate.ts";
import { pluginsCommand } from "./cli/plugins.ts";
import { reshardCommand } from "./cli/reshard.ts";
import { statsCommand } from "./cli/stats.ts";
import { verifyCommand } from "./cli/verify.ts";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  migrateCommand,
  inspectCommand,
  verifyCommand,
  getCommand,
  reshardCommand,
  statsCommand,
  pluginsCommand,
];

const CONFIG_OPTION: OptionSpec = {
  type: "string",
  value: "FILE",
  help: "preprocess_config.json to read (default: ./preprocess_config.json when present)",
};

function optionLine(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
    spec.value ? ` ${spec.value}` : ""
  }`;
  return `  ${flag.padEnd(30)} ${spec.help}`;
}

/** The top-level help text. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "h5shard: pack ML features into sharded HDF5 caches (features_NNNNN.h5 + hdf5_index.json)",
    "and read them back.",
    "",
    "Usage: h5shard <command> [arguments] [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'h5shard <command> --help' for a command's arguments, options and examples.",
  ].join("\n");
}

/** A command's help text. */
export function commandHelp(cmd: Command): string {
  const lines = [
    `Usage: h5shard ${cmd.name} ${cmd.args}${
      Object.keys(cmd.options).length || cmd.configurable ? " [options]" : ""
    }`,
    "",
    cmd.summary + ".",
    "",
    cmd.description,
    "",
    "Options:",
    ...Object.entries(cmd.options).map(([n, s]) => optionLine(n, s)),
  ];
  if (cmd.configurable) {
    lines.push(
      optionLine("config", CONFIG_OPTION),
      "",
      "Preprocessing overrides (any key of preprocess_config.json's preprocessing object):",
      ...overrideHelp(),
    );
  }
  lines.push(optionLine("help", { type: "boolean", short: "h", help: "show this help" }));
  lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

function parseCommandLine(cmd: Command, argv: string[]) {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, spec] of Object.entries(cmd.options)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  }
  if (cmd.configurable) {
    options.config = { type: "string" };
    for (const f of PREPROCESSING_FLAGS) options[f.flag] = { type: "string" };
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Runs the CLI on an argument list; returns the exit status. */
export async function main(
  argv: string[],
  io: { out?: (line: string) => void; err?: (line: string) => void } = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const target = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    out(target ? commandHelp(target) : mainHelp());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err(`error: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseCommandLine(cmd, rest);
    if (values.help) {
      out(commandHelp(cmd));
      return 0;
    }
    if (positionals.length < cmd.minArgs || positionals.length > cmd.maxArgs) {
      throw new UsageError(
        `expected ${cmd.args || "no arguments"}, got ${positionals.length} argument(s)`,
      );
    }
    const overrides: Record<string, string> = {};
    if (cmd.configurable) {
      for (const f of PREPROCESSING_FLAGS) {
        const v = values[f.flag];
        if (typeof v === "string") overrides[f.flag] = v;
      }
    }
    const ctx: CommandContext = {
      args: positionals,
      values: values as CommandContext["values"],
      overrides,
      out,
      err,
    };
    return await cmd.run(ctx);
  } catch (e) {
    return reportError(e, cmd, err);
  }
}

/** The one place that prints errors: message, then the cause chain. */
function reportError(e: unknown, cmd: Command, err: (line: string) => void): number {
  if (e instanceof UsageError) {
    err(`error: ${e.message}\nRun 'h5shard ${cmd.name} --help' for usage.`);
    return 2;
  }
  const known = e instanceof H5ShardError;
  err(`error: ${e instanceof Error ? (known ? e.message : `${e.name}: ${e.message}`) : String(e)}`);
  let cause = e instanceof Error ? e.cause : undefined;
  while (cause instanceof Error) {
    err(`  caused by: ${cause.message}`);
    cause = cause.cause;
  }
  if (!known && e instanceof Error && Deno.env.get("H5SHARD_DEBUG")) err(e.stack ?? "");
  return 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
