// The house rule (README "Layout", docs/design.md "Where code lives"): imports run down the list
// of folders, never up or sideways, and no modules import each other in a loop.
import { assertEquals } from "./helpers/assert.ts";

const root = new URL("../", import.meta.url);

/** Floors, lowest first; a module imports only from its own folder or a lower floor. */
const FLOORS: readonly (readonly string[])[] = [
  ["errors.ts", "deps_builtin.ts"],
  ["deps.ts", "util"],
  ["formats", "plot", "plugins"],
  ["audio"],
  ["config"],
  ["config.ts", "extractors"],
  ["cache"],
  ["stages"],
  ["ops"],
  ["workers"],
  ["cli", "bench", "scripts"],
  ["cli.ts", "mod.ts", "advanced.ts", "examples"],
];

const floorOf = new Map(FLOORS.flatMap((names, i) => names.map((n) => [n, i] as const)));
const SKIP = new Set(["tests", "node_modules", "docs", "python", ".git", "demo_out"]);

async function* modules(dir: URL, rel = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = rel + entry.name;
    if (entry.isDirectory) {
      if (SKIP.has(entry.name) || path === "bench/out") continue;
      yield* modules(new URL(entry.name + "/", dir), path + "/");
    } else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Relative `.ts` imports and re-exports of a module, comments left out, as repository paths. */
function importsOf(path: string, text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
    out.push(new URL(m[1], new URL(path, root)).href.slice(root.href.length));
  }
  return out;
}

async function graph(): Promise<Map<string, string[]>> {
  const edges = new Map<string, string[]>();
  for await (const path of modules(root)) {
    edges.set(path, importsOf(path, await Deno.readTextFile(new URL(path, root))));
  }
  return edges;
}

const top = (path: string) => path.split("/")[0];

Deno.test("every folder and top-level module has a floor, and imports run down", async () => {
  const edges = await graph();
  const unplaced = [...new Set([...edges.keys()].map(top))].filter((t) => !floorOf.has(t));
  assertEquals(unplaced.join(), "", `without a floor in FLOORS: ${unplaced.join(", ")}`);
  const up: string[] = [];
  for (const [from, targets] of edges) {
    for (const to of targets) {
      if (top(from) === top(to)) continue;
      const a = floorOf.get(top(from))!, b = floorOf.get(top(to));
      if (b === undefined || b >= a) up.push(`${from} -> ${to}`);
    }
  }
  assertEquals(up.join("\n"), "", `imports that run up or sideways:\n${up.join("\n")}`);
});

Deno.test("no modules import each other in a loop", async () => {
  const edges = await graph();
  const state = new Map<string, "open" | "done">();
  const loops: string[] = [];
  const visit = (path: string, trail: string[]) => {
    if (state.get(path) === "done") return;
    if (state.get(path) === "open") {
      loops.push([...trail.slice(trail.indexOf(path)), path].join(" -> "));
      return;
    }
    state.set(path, "open");
    for (const to of edges.get(path) ?? []) visit(to, [...trail, path]);
    state.set(path, "done");
  };
  for (const path of [...edges.keys()].sort()) visit(path, []);
  assertEquals(loops.join("\n"), "", `import loops:\n${loops.join("\n")}`);
});

Deno.test("the rule would catch an import that runs up", () => {
  const found = importsOf("formats/npz.ts", 'import { X } from "../config/schema.ts";\n');
  assertEquals(found, ["config/schema.ts"]);
  assertEquals(floorOf.get(top(found[0]))! > floorOf.get("formats")!, true);
});
