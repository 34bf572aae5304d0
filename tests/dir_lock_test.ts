import { assert, assertEquals } from "./helpers/assert.ts";
import { DirLock, LOCK_FILE } from "../cache/dir_lock.ts";
import { LockError } from "../errors.ts";
import { openCache } from "../ops/cache_reader.ts";
import { verifyCache } from "../ops/verify.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

function child(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(p: Deno.ChildProcess): Promise<{ code: number; out: string; err: string }> {
  const r = await p.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function procStart(pid: number): string {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[19];
}

/** The LockError that taking `dir`'s lock throws. */
function lockRefusal(dir: string): LockError {
  try {
    DirLock.acquire(dir).release();
  } catch (e) {
    assert(e instanceof LockError, String(e));
    return e;
  }
  throw new Error(`the lock of ${dir} was taken`);
}

const onLinux = Deno.build.os === "linux";

Deno.test("DirLock: three processes, hundreds of holds, never two holders at once", async () => {
  const dir = await Deno.makeTempDir();
  const cycles = 100;
  const procs = [1, 2, 3].map((i) =>
    child([
      fixture("lock_stress_child.ts"),
      fixture("../../cache/dir_lock.ts"),
      dir,
      `c${i}`,
      `${cycles}`,
      "120",
    ])
  );
  let holds = 0;
  let overlaps = 0;
  for (const p of procs) {
    const r = await finish(p);
    assertEquals(r.code, 0, r.err);
    const counts = JSON.parse(r.out.trim().split("\n").pop()!);
    holds += counts.holds;
    overlaps += counts.overlaps;
  }
  assertEquals(overlaps, 0, `${overlaps} overlapping holds of ${holds}`);
  assertEquals(holds, 3 * cycles);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DirLock: the lock file is complete when it appears and names its holder", async () => {
  const dir = await Deno.makeTempDir();
  const lock = DirLock.acquire(dir);
  const info = JSON.parse(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`));
  assertEquals(info.pid, Deno.pid);
  assertEquals(info.token, lock.token);
  if (onLinux) assertEquals(info.start, procStart(Deno.pid));
  // Only the lock itself is left in the directory: the private file it was linked from is gone.
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [LOCK_FILE]);
  const e = lockRefusal(dir);
  assert(e.message.includes(`pid ${Deno.pid}`), e.message);
  lock.release();
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DirLock: release removes only its own lock", async () => {
  const dir = await Deno.makeTempDir();
  const lock = DirLock.acquire(dir);
  // Someone replaced the lock (e.g. by hand): releasing must not delete theirs.
  const theirs = JSON.stringify({ pid: Deno.pid, host: Deno.hostname(), since: "x", token: "t" });
  Deno.writeTextFileSync(`${dir}/${LOCK_FILE}`, theirs);
  lock.release();
  assertEquals(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), theirs);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [LOCK_FILE]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DirLock: a reused pid (another start time) is stale; another host's lock is refused by name", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${LOCK_FILE}`;
  if (onLinux) {
    // This very process is alive, but not the one that took the lock.
    Deno.writeTextFileSync(
      path,
      JSON.stringify({ pid: Deno.pid, host: Deno.hostname(), since: "then", start: "1" }),
    );
    DirLock.acquire(dir).release();
  }
  Deno.writeTextFileSync(
    path,
    JSON.stringify({ pid: 2 ** 22 + 7, host: "other-machine.example", since: "then" }),
  );
  const e = lockRefusal(dir);
  assert(e.message.includes("other-machine.example") && e.message.includes(path), e.message);
  // Unreadable content is refused by name, never taken for stale.
  Deno.writeTextFileSync(path, "");
  const e2 = lockRefusal(dir);
  assert(e2.message.includes(path), e2.message);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "DirLock: a lock held by a zombie is stale",
  ignore: !onLinux,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    // The subshell exits; `sleep`, its parent after exec, never reaps it: a zombie for 20 s.
    const sh = new Deno.Command("sh", {
      args: ["-c", 'sh -c "exit 0" & echo $!; exec sleep 20'],
      stdout: "piped",
    }).spawn();
    const reader = sh.stdout.getReader();
    const { value } = await reader.read();
    const pid = Number(new TextDecoder().decode(value).trim());
    let state = "";
    for (let i = 0; i < 200 && state !== "Z"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
      state = text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
    }
    assertEquals(state, "Z");
    Deno.writeTextFileSync(
      `${dir}/${LOCK_FILE}`,
      JSON.stringify({ pid, host: Deno.hostname(), since: "then", start: procStart(pid) }),
    );
    DirLock.acquire(dir).release();
    sh.kill("SIGKILL");
    reader.releaseLock();
    await sh.stdout.cancel();
    await sh.status;
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("pack(): two writers released together into one dir never both succeed", async () => {
  for (let trial = 0; trial < 2; trial++) {
    const dir = await Deno.makeTempDir();
    const go = `${dir}.go`;
    const done = `${dir}.finish`;
    const procs = ["a", "b"].map((prefix) =>
      child([fixture("pack_contender.ts"), dir, prefix, go, done])
    );
    Deno.writeTextFileSync(go, "");
    // The refused one exits on its own (no worker left behind); the holder waits for `done`.
    const pending = procs.map((p, i) => finish(p).then((r) => ({ i, r })));
    const first = await Promise.race([
      Promise.race(pending),
      new Promise<undefined>((r) => setTimeout(r, 60_000, undefined)),
    ]);
    Deno.writeTextFileSync(done, "");
    const results = await Promise.all(pending);
    const parsed = results.map(({ r }) => {
      assertEquals(r.code, 0, r.err);
      return JSON.parse(r.out.trim().split("\n").pop()!);
    });
    assert(first !== undefined, "neither writer was refused: both held the lock");
    assertEquals(parsed.filter((p) => p.ok).length, 1, JSON.stringify(parsed));
    const loser = parsed.find((p) => !p.ok);
    assertEquals(loser.code, "lock", loser.error);
    const winner = parsed.findIndex((p) => p.ok);
    assertEquals(parsed[winner].written, 30);
    const cache = await openCache(dir);
    const keys = cache.keys().sort();
    assertEquals(keys.length, 30);
    assert(keys.every((k) => k.startsWith("ab"[winner])), keys.join(","));
    const report = await verifyCache(dir);
    assertEquals(report.problems, []);
    assertEquals(report.samples, 30);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(go);
    await Deno.remove(done);
  }
});

Deno.test("a script whose pack() is refused (settings differ on resume) exits on its own", async () => {
  const dir = await Deno.makeTempDir();
  const samples = [0, 1].map((i) => ({
    key: `k${i}`,
    tensors: { x: { dtype: "float32" as const, shape: [2], data: new Float32Array(2) } },
  }));
  const { pack } = await import("../ops/pack.ts");
  await pack(ReadableStream.from(samples), dir, {
    preprocessing: { samples_per_hdf5: 5, num_save_workers: 1 },
  });
  Deno.writeTextFileSync(`${dir}.go`, "");
  // The contender asks for samples_per_hdf5 7 and its source waits for a file never made.
  const p = child([fixture("pack_contender.ts"), dir, "z", `${dir}.go`, `${dir}.never`]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<undefined>((r) => timer = setTimeout(r, 60_000, undefined));
  const done = finish(p);
  const ended = await Promise.race([done, limit]);
  clearTimeout(timer);
  if (!ended) {
    p.kill("SIGKILL");
    await done;
  }
  assert(ended !== undefined, "the refused script did not exit");
  assertEquals(ended.code, 0, ended.err);
  const result = JSON.parse(ended.out.trim().split("\n").pop()!);
  assertEquals([result.ok, result.code], [false, "config"], ended.out);
  assert(result.error.includes("samples_per_hdf5"), result.error);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(`${dir}.go`);
});
