/** Running contenders as child processes, and the file-system chores around each run. */

/** What a child printed as its last stdout line (a JSON object), or why it failed. */
export interface ChildResult {
  ok: boolean;
  json: Record<string, unknown>;
  wallSeconds: number;
  /** Peak RSS of the child as GNU time saw it (KiB), when GNU time is installed. */
  maxRssKiB?: number;
  /** User + system CPU seconds of the child (all its threads), from GNU time. */
  cpuSeconds?: number;
  error?: string;
}

/** GNU time, the one way to see a Deno child's peak RSS without giving it --allow-all. */
export const GNU_TIME = "/usr/bin/time";

export const haveGnuTime = await Deno.stat(GNU_TIME).then((s) => s.isFile, () => false);

/**
 * Runs `cmd args` in `cwd`, returning the JSON object on the last line of its stdout, and its
 * peak RSS when GNU time is there to wrap it.
 */
export async function runChild(cmd: string, args: string[], cwd: string): Promise<ChildResult> {
  const rssFile = haveGnuTime ? await Deno.makeTempFile({ prefix: "bench_rss_" }) : undefined;
  const [bin, argv] = rssFile
    ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]]
    : [cmd, args];
  const t0 = performance.now();
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, { args: argv, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    return { ok: false, json: {}, wallSeconds: 0, error: `cannot run ${cmd}: ${e}` };
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  let maxRssKiB: number | undefined;
  let cpuSeconds: number | undefined;
  if (rssFile) {
    const text = await Deno.readTextFile(rssFile);
    await Deno.remove(rssFile);
    // On failure GNU time writes "Command exited with non-zero status N" before the numbers.
    const [rss, user, sys] = (text.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
    if (rss > 0) maxRssKiB = rss;
    if (Number.isFinite(user + sys)) cpuSeconds = user + sys;
  }
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  const last = stdout.split("\n").at(-1) ?? "";
  if (out.success) {
    try {
      return { ok: true, json: JSON.parse(last), wallSeconds, maxRssKiB, cpuSeconds };
    } catch {
      // falls through: a run that does not end with its JSON line is a failed run
    }
  }
  const tail = (stderr || stdout).split("\n").slice(-6).join("\n");
  return { ok: false, json: {}, wallSeconds, error: `exit ${out.code}: ${tail}` };
}

/** Every regular file below `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...await filesUnder(path));
    else if (e.isFile) files.push(path);
  }
  return files;
}

/** Total bytes of the files below `dir` (0 when it does not exist). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for (const f of await filesUnder(dir)) total += (await Deno.stat(f)).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return total;
}

/**
 * Reads every file below `dir` once and discards it, so each contender starts with its input in
 * the page cache whatever ran before it.
 */
export async function warmRead(dir: string): Promise<number> {
  const buf = new Uint8Array(1 << 20);
  let total = 0;
  for (const path of await filesUnder(dir)) {
    using f = await Deno.open(path);
    for (let n; (n = await f.read(buf)) !== null;) total += n;
  }
  return total;
}

/** Flushes dirty pages (`sync`) so one run's write-back does not land in the next run's timing. */
export async function syncDisk(): Promise<void> {
  try {
    await new Deno.Command("sync").output();
  } catch {
    // no sync binary: write-back then overlaps runs, which the report's method line admits
  }
}

/** Removes `dir` if it exists. */
export async function removeDir(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
