/**
 * Runs the real `h5shard` CLI in a subprocess, as a user would, for tests.
 *
 * @module
 */

/** Path of `cli.ts`. */
export const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Working directory; default a new temp dir, so no `preprocess_config.json` is picked up. */
  cwd?: string;
  /** Extra environment variables (`NO_COLOR=1` is always set). */
  env?: Record<string, string>;
}

/** `deno run -A cli.ts ...args`, with its exit code and decoded output. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: options.cwd ?? await Deno.makeTempDir(),
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
