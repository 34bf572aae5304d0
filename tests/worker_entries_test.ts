// The worker entry list (workers/entries.ts) names every module a worker starts from, so a
// compiled binary embeds them all.
import { WORKER_ENTRIES } from "../workers/entries.ts";

const root = new URL("../", import.meta.url);

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function* tsFiles(dir: URL, rel = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = rel + entry.name;
    if (entry.isDirectory) {
      if (["node_modules", "bench", ".git", "tests", "demo_out"].includes(entry.name)) continue;
      yield* tsFiles(new URL(entry.name + "/", dir), path + "/");
    } else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("every module that serves tasks is a listed entry, and each entry exists", async () => {
  for await (const path of tsFiles(root)) {
    const text = await Deno.readTextFile(new URL(path, root));
    const serves = /serveTasks\s*[<(]|\bonmessage\s*=/.test(text) &&
      path !== "workers/worker_pool.ts";
    if (serves) {
      assert(WORKER_ENTRIES.includes(path), `${path} serves tasks but is not in WORKER_ENTRIES`);
    }
  }
  for (const entry of WORKER_ENTRIES) {
    const stat = await Deno.stat(new URL(entry, root));
    assert(stat.isFile, `${entry} is listed in WORKER_ENTRIES but is not a file`);
  }
});

Deno.test("every worker the code starts is a listed entry module", async () => {
  const started: string[] = [];
  for await (const path of tsFiles(root)) {
    const text = await Deno.readTextFile(new URL(path, root));
    for (const m of text.matchAll(/new URL\(\s*"([^"]+_worker\.ts)",\s*import\.meta\.url\)/g)) {
      const target = new URL(m[1], new URL(path, root)).href.slice(root.href.length);
      started.push(target);
      assert(WORKER_ENTRIES.includes(target), `${path} starts ${target}, not in WORKER_ENTRIES`);
    }
  }
  assert(started.length >= 4, `expected the worker starts to be found, got ${started.join(", ")}`);
});
