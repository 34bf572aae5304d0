/**
 * `deno task install [--root DIR]`: puts an `h5shard` command on the PATH.
 *
 * Writes `DIR/bin/h5shard` (default `$DENO_INSTALL_ROOT`, else `~/.deno`), a launcher like the
 * one `deno install --global` writes: `deno run` on this checkout's `cli.ts` with the
 * permissions of the `h5shard` task (read from deno.json, so the two never differ) and its
 * deno.json. The launcher calls `deno`; when no `deno` is on the PATH (Deno run through
 * `npx`), the Deno binary running this script is linked into `DIR/bin` beside it. Prints the
 * PATH line to add when `DIR/bin` is not on it.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** The `--allow-*` flags of the `h5shard` task. */
export function cliPermissions(): string[] {
  return denoJson.tasks.h5shard.split(/\s+/).filter((w) => w.startsWith("--allow-"));
}

/** `text` as one single-quoted word of a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The launcher: what `deno install --global` writes, without the copy of every npm package
 * (about 300 MB with onnxruntime-node's binaries) it makes beside it. It runs this checkout's
 * cli.ts with its deno.json and lock file, so a `git pull` updates the command.
 */
export function launcherScript(): string {
  return [
    "#!/bin/sh",
    `# h5shard ${denoJson.version}, written by 'deno task install' in ${ROOT}`,
    `exec deno run ${cliPermissions().join(" ")} --config ${shellQuote(`${ROOT}/deno.json`)} ${
      shellQuote(`${ROOT}/cli.ts`)
    } "$@"`,
    "",
  ].join("\n");
}

/** `path` as the user meant it: relative to where they typed the command (INIT_CWD under deno task). */
function fromUser(path: string): string {
  if (path.startsWith("/")) return path;
  return `${Deno.env.get("INIT_CWD") ?? Deno.cwd()}/${path}`;
}

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error(
    "Usage: deno task install [--root DIR]\n" +
      "Installs the h5shard command into DIR/bin (default $DENO_INSTALL_ROOT, else ~/.deno).",
  );
  Deno.exit(message ? 2 : 0);
}

/**
 * The first executable `name` on the PATH the user's shell has: directories npx adds for its
 * own run (its package cache, `node_modules/.bin`) are left out, since they are gone after it.
 */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || /[\\/](_npx|node_modules)[\\/]/.test(dir)) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111)) return `${dir}/${name}`;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

if (import.meta.main) {
  const args = [...Deno.args];
  let root: string | undefined;
  while (args.length) {
    const arg = args.shift()!;
    if (arg === "--help" || arg === "-h") usage();
    if (arg === "--root") {
      root = args.shift();
      if (root === undefined) usage("--root needs a directory");
    } else if (arg.startsWith("--root=")) {
      root = arg.slice("--root=".length);
    } else {
      usage(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  root = fromUser(root ?? Deno.env.get("DENO_INSTALL_ROOT") ?? `${Deno.env.get("HOME")}/.deno`);
  const bin = `${root}/bin`;
  // Dependencies cached now, so the first command is quick and needs no network.
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--quiet", "--config", `${ROOT}/deno.json`, `${ROOT}/cli.ts`],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!cached.success) {
    console.error(`error: deno cache failed (exit ${cached.code}); nothing was put in ${bin}`);
    Deno.exit(1);
  }
  Deno.mkdirSync(bin, { recursive: true });
  const launcher = `${bin}/h5shard`;
  const temporary = `${launcher}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(temporary, launcherScript(), { mode: 0o755, createNew: true });
  Deno.chmodSync(temporary, 0o755);
  Deno.renameSync(temporary, launcher);
  // The launcher runs `deno run ...`: a deno must be on the PATH it runs with.
  const binDeno = `${bin}/deno`;
  let present: Deno.FileInfo | undefined;
  try {
    present = Deno.lstatSync(binDeno);
  } catch {
    // Nothing there yet.
  }
  // A deno of the user's own there (~/.deno/bin/deno is where Deno's installer puts it) stays;
  // only a link this script made before is replaced.
  if (!onPath("deno") && (present === undefined || present.isSymlink)) {
    if (present) Deno.removeSync(binDeno);
    Deno.symlinkSync(Deno.execPath(), binDeno);
    console.log(`linked ${binDeno} -> ${Deno.execPath()} (no deno was on the PATH)`);
  }
  console.log(`installed ${bin}/h5shard (h5shard ${denoJson.version}, from ${ROOT})`);
  const path = (Deno.env.get("PATH") ?? "").split(":");
  if (!path.includes(bin)) {
    console.log(`add it to your PATH (e.g. in ~/.bashrc):\n  export PATH="${bin}:$PATH"`);
  }
  console.log("then: h5shard --help");
}
