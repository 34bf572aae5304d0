/**
 * The `h5shard` command line: the list of commands. Each command's declaration and body is in
 * `cli/` (see `cli/command.ts` for how a command declares its options); `cli/run.ts` parses
 * the command line and prints errors.
 *
 * Run as `deno task h5shard <command> ...`, or `deno run -A cli.ts <command> ...`.
 *
 * @module
 */
import type { Command } from "./cli/command.ts";
import { type CliIo, runCli } from "./cli/run.ts";
import { demoCommand } from "./cli/demo.ts";
import { getCommand } from "./cli/get.ts";
import { inspectCommand } from "./cli/inspect.ts";
import { lsCommand } from "./cli/ls.ts";
import { mergeCommand } from "./cli/merge.ts";
import { migrateCommand } from "./cli/migrate.ts";
import { plotCommand } from "./cli/plot.ts";
import { pluginsCommand } from "./cli/plugins.ts";
import { preprocessCommand } from "./cli/preprocess.ts";
import { reindexCommand } from "./cli/reindex.ts";
import { reshardCommand } from "./cli/reshard.ts";
import { statsCommand } from "./cli/stats.ts";
import { verifyCommand } from "./cli/verify.ts";
import { codecName } from "./formats/zlib_codec.ts";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  preprocessCommand,
  migrateCommand,
  inspectCommand,
  verifyCommand,
  getCommand,
  lsCommand,
  reshardCommand,
  mergeCommand,
  reindexCommand,
  statsCommand,
  plotCommand,
  pluginsCommand,
];

/** Runs the CLI on an argument list; returns the exit status. `--version` names the zlib codec. */
export function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  return runCli(COMMANDS, argv, { versionExtra: () => [`zlib codec ${codecName()}`], ...io });
}

if (import.meta.main) {
  const stderr = new TextEncoder();
  Deno.exit(
    await main(Deno.args, {
      // Read only when granted, so a run without --allow-env neither prompts nor fails.
      env: (name) =>
        Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
          ? Deno.env.get(name)
          : undefined,
      cwd: Deno.cwd(),
      progress: {
        write: (text) => Deno.stderr.writeSync(stderr.encode(text)),
        interactive: Deno.stderr.isTerminal(),
      },
    }),
  );
}
