/**
 * The `h5shard` command line: the list of commands. Each command's declaration and body is in
 * `cli/` (see `cli/command.ts` for how a command declares its options); `cli/run.ts` parses
 * the command line and prints errors.
 *
 * Run as `h5shard <command> ...` once `deno task install` has put it on the PATH, as
 * `deno task h5shard <command> ...`, or `deno run -A cli.ts <command> ...`. Relative paths mean
 * the user's directory: under `deno task` (which runs in the checkout and sets `INIT_CWD` to
 * where the user typed the command) the CLI first changes to `INIT_CWD`.
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

/**
 * The directory relative paths should mean: `INIT_CWD` when `deno task` started us (it runs
 * tasks in the checkout, the directory of this file, and sets `INIT_CWD` to where the user
 * typed the command); `undefined` when the working directory is already the user's.
 */
export function userDirectory(
  env: (name: string) => string | undefined,
  cwd: string,
): string | undefined {
  const init = env("INIT_CWD");
  // Without --allow-read, leave the directory as it is rather than prompt.
  if (!init || Deno.permissions.querySync({ name: "read" }).state !== "granted") return undefined;
  const real = (path: string) => {
    try {
      return Deno.realPathSync(path);
    } catch {
      return undefined;
    }
  };
  const checkout = real(new URL(".", import.meta.url).pathname);
  const here = real(cwd);
  if (here === undefined || here !== checkout) return undefined;
  const there = real(init);
  return there !== undefined && there !== here ? there : undefined;
}

if (import.meta.main) {
  const env = (name: string) =>
    // Read only when granted, so a run without --allow-env neither prompts nor fails.
    Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
      ? Deno.env.get(name)
      : undefined;
  const user = userDirectory(env, Deno.cwd());
  if (user !== undefined) Deno.chdir(user);
  const stderr = new TextEncoder();
  Deno.exit(
    await main(Deno.args, {
      env,
      cwd: Deno.cwd(),
      progress: {
        write: (text) => Deno.stderr.writeSync(stderr.encode(text)),
        interactive: Deno.stderr.isTerminal(),
      },
    }),
  );
}
