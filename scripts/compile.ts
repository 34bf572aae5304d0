/**
 * `deno task compile`: builds a single `h5shard` binary with `deno compile`.
 *
 * `deno compile` downloads the Deno runtime it embeds (`denort`) from the Deno site. Where that
 * site cannot be reached (our build machines, CI), the build cannot succeed; this script says
 * so plainly instead of leaving a bare network error. It is not part of CI.
 *
 * @module
 */
import { WORKER_ENTRIES } from "../workers/entries.ts";

const args = [
  "compile",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
  ...WORKER_ENTRIES.flatMap((entry) => ["--include", entry]),
  "--output",
  "h5shard",
  "cli.ts",
  ...Deno.args,
];
const out = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" })
  .output();
const stderr = new TextDecoder().decode(out.stderr);
await Deno.stderr.write(out.stderr);
if (!out.success) {
  if (/denort|download|dl\.deno\.land|error sending request|dns|connect/i.test(stderr)) {
    console.error(
      "\nh5shard: 'deno compile' could not download the Deno runtime (denort) it embeds.\n" +
        "This machine cannot reach the Deno download site, so a standalone binary cannot be\n" +
        "built here. Build it on a machine with access to it, or set DENORT_BIN to a local\n" +
        "denort binary of the same Deno version. Everything else works with 'deno task h5shard'.",
    );
  }
  Deno.exit(out.code || 1);
}
console.error("built ./h5shard");
