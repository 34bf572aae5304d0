/**
 * Finding the independent HDF5 tools (an interpreter that imports h5py; h5dump) for interop
 * tests. On a laptop without them such tests are ignored with a visible message; in CI (`CI`
 * set) a missing tool fails the test instead.
 *
 * @module
 */

const CANDIDATES = ["/usr/bin/python3", "python3", "python"];

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** The first Python interpreter that can `import h5py, numpy`, or undefined. */
export async function findH5pyPython(): Promise<string | undefined> {
  for (const cmd of CANDIDATES) {
    if (await runs(cmd, ["-c", "import h5py, numpy"])) return cmd;
  }
  return undefined;
}

/** `h5dump` when it is on PATH, else undefined. */
export async function findH5dump(): Promise<string | undefined> {
  return (await runs("h5dump", ["--version"])) ? "h5dump" : undefined;
}

/** True in CI, where interop tools are required. */
export const IN_CI = !!Deno.env.get("CI");

/**
 * Whether to ignore a test that needs `tool`. Outside CI a missing tool means "ignore" and a
 * printed note; in CI the test runs and fails through {@linkcode requireTool}.
 */
export function ignoreWithout(tool: string | undefined, what: string): boolean {
  if (tool || IN_CI) return false;
  console.warn(`note: ${what} not found; its interop tests are ignored (they run in CI)`);
  return true;
}

/** Returns `tool`, or throws naming what is missing (used in CI, where skipping is not allowed). */
export function requireTool(tool: string | undefined, what: string): string {
  if (!tool) throw new Error(`${what} is required (CI is set) but was not found`);
  return tool;
}

/** Runs a Python snippet with the h5py interpreter; returns stdout, throws with stderr on failure. */
export async function runPython(
  python: string,
  code: string,
  args: string[] = [],
): Promise<string> {
  const out = await new Deno.Command(python, {
    args: ["-c", code, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `python failed (${out.code}):\n${new TextDecoder().decode(out.stderr)}\n${stdout}`,
    );
  }
  return stdout;
}

const ML_IMPORTS = "import torch, transformers, librosa, soundfile, onnx, onnxruntime, h5py, numpy";

/**
 * The Python of the reference-library venv (torch, transformers, librosa, soundfile, onnx,
 * onnxruntime, h5py 3.16), or undefined. `.ci/run` makes it at `$H5SHARD_VENV` (default
 * `~/.cache/h5shard/venv`) from `python/requirements-dev.txt`; `$H5SHARD_PYTHON` overrides.
 */
export async function findMlPython(): Promise<string | undefined> {
  const home = Deno.env.get("HOME") ?? "";
  const venv = Deno.env.get("H5SHARD_VENV") ?? `${home}/.cache/h5shard/venv`;
  const candidates = [Deno.env.get("H5SHARD_PYTHON"), `${venv}/bin/python`].filter((c) => !!c);
  for (const cmd of candidates as string[]) {
    if (await runs(cmd, ["-c", ML_IMPORTS])) return cmd;
  }
  return undefined;
}
