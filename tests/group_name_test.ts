/**
 * An index entry whose group_name points at another sample's group is damage: get, verify,
 * reshard and merge refuse it naming the key, and nothing is copied under the wrong key.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { runCli } from "./helpers/run_cli.ts";
import { pack } from "../ops/pack.ts";
import type { Sample } from "../stages/record.ts";

const sample = (i: number): Sample => ({
  key: `LJ001-000${i}`,
  tensors: {
    x: { dtype: "float32", shape: [2, 3], data: new Float32Array(6).fill(i) },
  },
});

Deno.test("a mis-pointed group_name is refused by get, verify, reshard and merge, naming the key", async () => {
  const root = await Deno.makeTempDir({ prefix: "group_name_" });
  const dir = `${root}/cache`;
  await pack(ReadableStream.from([1, 2, 3].map(sample)), dir, {
    preprocessing: { samples_per_hdf5: 2, num_save_workers: 1 },
  });
  const indexPath = `${dir}/hdf5_index.json`;
  const index = JSON.parse(await Deno.readTextFile(indexPath));
  index.sample_index["LJ001-0001"].group_name = "/LJ001-0002";
  await Deno.writeTextFile(indexPath, JSON.stringify(index, null, 2));
  const runs = [
    ["get", dir, "LJ001-0001", "x", "--out", `${root}/x.npy`],
    ["verify", dir],
    ["reshard", dir, `${root}/resharded`],
    ["merge", dir, `${root}/merged`],
  ];
  for (const args of runs) {
    const run = await runCli(args);
    assertEquals(run.code, 1, `${args[0]}: ${run.stdout}${run.stderr}`);
    assert(
      run.stderr.includes('"LJ001-0001"') && run.stderr.includes("group_name"),
      `${args[0]} names the key: ${run.stderr}`,
    );
  }
  assertEquals(await Deno.stat(`${root}/x.npy`).then(() => true, () => false), false);
  for (const out of ["resharded", "merged"]) {
    const index = await Deno.readTextFile(`${root}/${out}/hdf5_index.json`).catch(() => undefined);
    assert(index === undefined || !index.includes("LJ001-0001"), `${out} holds LJ001-0001`);
  }
});
