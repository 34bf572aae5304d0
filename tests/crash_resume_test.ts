import { seededRandom } from "./helpers/random.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { h5pyCacheDigest, tensorDigest } from "./helpers/cache_digest.ts";
import { crashSample } from "./helpers/crash_writer.ts";

const python = await findH5pyPython();
const COUNT = 900;
const WRITER = new URL("./helpers/crash_writer.ts", import.meta.url).pathname;

/** Shard -> sorted sample groups, as h5py lists them (groups holding datasets). */
const LIST_GROUPS = `
import h5py, json, sys, os
d = sys.argv[1]
out = {}
for name in sorted(os.listdir(d)):
    if name.startswith("features_") and name.endswith(".h5"):
        found = []
        with h5py.File(os.path.join(d, name), "r") as f:
            f.visititems(lambda p, o: found.append(p.rsplit("/", 1)[0]) if isinstance(o, h5py.Dataset) else None)
        out[name] = sorted(set(found))
print(json.dumps(out))
`;

function writer(dir: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir, String(COUNT)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function expected(keys: string[]): Promise<Record<string, Record<string, string>>> {
  const byKey = new Map<string, number>();
  for (let i = 0; i < COUNT; i++) byKey.set(crashSample(i).key, i);
  const out: Record<string, Record<string, string>> = {};
  for (const key of keys) {
    const s = crashSample(byKey.get(key)!);
    out[key] = {};
    for (const [name, t] of Object.entries(s.tensors)) out[key][name] = await tensorDigest(t);
  }
  return out;
}

Deno.test({
  name:
    "a writer killed with SIGKILL at random moments leaves a readable cache, and re-runs finish it",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const dir = await Deno.makeTempDir();
    const random = seededRandom(12345);
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const child = writer(dir);
      await new Promise((r) => setTimeout(r, 300 + random() * 2000));
      try {
        child.kill("SIGKILL");
        kills++;
      } catch {
        // It already finished.
      }
      await child.output();
      let indexText: string;
      try {
        indexText = await Deno.readTextFile(`${dir}/hdf5_index.json`);
      } catch {
        continue; // Killed before the first checkpoint: nothing promised yet.
      }
      const keys = Object.keys(JSON.parse(indexText).sample_index);
      // Every indexed sample reads back bit-exactly as it stands after the kill.
      assertEquals(await h5pyCacheDigest(py, dir), await expected(keys));
    }
    assert(kills >= 3, `only ${kills} of 5 runs were killed mid-way; the test needs slower runs`);
    const last = await writer(dir).output();
    assert(last.success, new TextDecoder().decode(last.stderr));
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    const allKeys = Array.from({ length: COUNT }, (_, i) => crashSample(i).key);
    assertEquals(Object.keys(index.sample_index).sort(), [...allKeys].sort());
    assertEquals(await h5pyCacheDigest(py, dir), await expected(allKeys));
    // Nothing duplicated or orphaned: each shard holds exactly the groups the index puts there.
    const groups = JSON.parse(await runPython(py, LIST_GROUPS, [dir]));
    const perShard: Record<string, string[]> = {};
    for (const [key, e] of Object.entries(index.sample_index) as [string, { file_idx: number }][]) {
      (perShard[`features_${String(e.file_idx).padStart(5, "0")}.h5`] ??= []).push(key);
    }
    for (const list of Object.values(perShard)) list.sort();
    assertEquals(groups, perShard);
    assertEquals(index.current_file_idx, Math.ceil(COUNT / 40));
    await Deno.remove(dir, { recursive: true });
  },
});
