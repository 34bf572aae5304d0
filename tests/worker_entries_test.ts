// The worker entry list (workers/entries.ts) names every module a worker starts from, so a
// compiled binary embeds them all; every one lives in workers/ and nothing imports them.
import { WORKER_ENTRIES } from "../workers/entries.ts";

const root = new URL("../", import.meta.url);

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function* tsFiles(dir: URL, rel = "", withTests = false): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = rel + entry.name;
    if (entry.isDirectory) {
      const skip = ["node_modules", "bench", ".git", "demo_out"];
      if (skip.includes(entry.name) || (!withTests && entry.name === "tests")) continue;
      yield* tsFiles(new URL(entry.name + "/", dir), path + "/", withTests);
    } else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** The module text without comments (doc examples mention serveTasks). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");

Deno.test("every module that serves tasks is a listed entry in workers/, and each entry exists", async () => {
  const serving: string[] = [];
  for await (const path of tsFiles(root)) {
    if (path === "util/worker_pool.ts") continue;
    const text = code(await Deno.readTextFile(new URL(path, root)));
    if (/\bserveTasks(Here)?\s*[<(]|\bonmessage\s*=/.test(text)) {
      serving.push(path);
      assert(path.startsWith("workers/"), `${path} serves tasks outside workers/`);
      assert(WORKER_ENTRIES.includes(path), `${path} serves tasks but is not in WORKER_ENTRIES`);
    }
  }
  assert(serving.length === WORKER_ENTRIES.length, `serving: ${serving.sort().join(", ")}`);
  for (const entry of WORKER_ENTRIES) {
    assert(entry.startsWith("workers/"), `${entry} is listed but lives outside workers/`);
    const stat = await Deno.stat(new URL(entry, root));
    assert(stat.isFile, `${entry} is listed in WORKER_ENTRIES but is not a file`);
  }
});

Deno.test("every worker the code starts is a listed entry module", async () => {
  const started = new Set<string>();
  for await (const path of tsFiles(root)) {
    const text = await Deno.readTextFile(new URL(path, root));
    for (const m of text.matchAll(/new URL\(\s*"([^"]+_worker\.ts)",\s*import\.meta\.url\)/g)) {
      const target = new URL(m[1], new URL(path, root)).href.slice(root.href.length);
      started.add(target);
      assert(WORKER_ENTRIES.includes(target), `${path} starts ${target}, not in WORKER_ENTRIES`);
    }
  }
  const unstarted = WORKER_ENTRIES.filter((e) => !started.has(e));
  assert(unstarted.length === 0, `listed but never started: ${unstarted.join(", ")}`);
});

Deno.test("no module imports a worker entry module (workers start by URL only)", async () => {
  const bad: string[] = [];
  for await (const path of tsFiles(root, "", true)) {
    const text = code(await Deno.readTextFile(new URL(path, root)));
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
      const target = new URL(m[1], new URL(path, root)).href.slice(root.href.length);
      if (!target.startsWith("workers/")) continue;
      // scripts/compile.ts and tests read the list; a worker entry imports no other.
      if (target === "workers/entries.ts" && !path.startsWith("workers/")) continue;
      bad.push(`${path} -> ${target}`);
    }
  }
  assert(bad.length === 0, `imports of worker modules:\n${bad.join("\n")}`);
});
