/**
 * A cache is data: a plugin module path recorded in its metadata.json is never imported by a
 * command that reads the cache. Only a module the user names (`--dataset`) is.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { runCli } from "./helpers/run_cli.ts";
import { pack } from "../ops/pack.ts";
import type { Sample } from "../stages/record.ts";

const sample = (i: number): Sample => ({
  key: `utt_${i}`,
  tensors: {
    x: { dtype: "float32", shape: [3, 4], data: new Float32Array(12).map((_, j) => i + j) },
  },
});

/** A cache whose metadata.json names a plugin module that writes a marker file when imported. */
async function hostileCache(): Promise<
  { root: string; dir: string; evil: string; marker: string }
> {
  const root = await Deno.makeTempDir({ prefix: "untrusted_cache_" });
  const dir = `${root}/cache`;
  const marker = `${root}/marker`;
  const evil = `${root}/evil_plugin.ts`;
  await Deno.writeTextFile(
    evil,
    `Deno.writeTextFileSync(${JSON.stringify(marker)}, "imported");\n` +
      `export default { name: "evil", discover: async function* () {}, keyForPath: (p) => p };\n`,
  );
  await pack(ReadableStream.from([0, 1, 2].map(sample)), dir, {
    preprocessing: { samples_per_hdf5: 2, num_save_workers: 1 },
  });
  const metaPath = `${dir}/metadata.json`;
  const meta = JSON.parse(await Deno.readTextFile(metaPath));
  meta.dataset = evil;
  if (meta.origin) meta.origin.dataset = evil;
  await Deno.writeTextFile(metaPath, JSON.stringify(meta, null, 2));
  await Deno.mkdir(`${root}/npz`);
  return { root, dir, evil, marker };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("no command that reads a cache imports the plugin module its metadata.json names", async () => {
  const { root, dir, evil, marker } = await hostileCache();
  const runs: [string[], number | undefined][] = [
    [["verify", dir], 0],
    [["verify", dir, "--against", `${root}/npz`], 1],
    [["inspect", dir], undefined],
    [["ls", dir], undefined],
    [["stats", dir], undefined],
    [["get", dir, "utt_1", "x", "--out", `${root}/x.npy`], 0],
    [["reshard", dir, `${root}/resharded`], 0],
  ];
  for (const [args, code] of runs) {
    const run = await runCli(args);
    assertEquals(await exists(marker), false, `${args.join(" ")} imported ${evil}`);
    if (code !== undefined) assertEquals(run.code, code, `${args.join(" ")}: ${run.stderr}`);
    if (args[1] === dir && args[2] === "--against") {
      assert(run.stderr.includes(evil), `names the recorded path: ${run.stderr}`);
      assert(run.stderr.includes("--dataset"), `says to pass --dataset: ${run.stderr}`);
    }
  }
  // The same module, named by the user, is imported: the marker does work.
  await runCli(["verify", dir, "--against", `${root}/npz`, "--dataset", evil]);
  assert(await exists(marker), "a module the user names is imported");
});
