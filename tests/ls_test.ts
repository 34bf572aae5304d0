import { listCache } from "../ops/ls.ts";
import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");
const { scratch, fixture } = h5pyFixtures("ls_test_", python);
const CLI = new URL("../cli.ts", import.meta.url).pathname;
/** Flat and nested keys over 2 shards (3 + 2), written by h5py. */
const standard = () => fixture("std", standardSamples(), { samplesPerFile: 3 });

Deno.test({
  name: "listCache lists keys under a prefix with their shard and h5py's dtypes and shapes",
  ignore,
  async fn() {
    const { dir, expected } = await standard();
    const all = [];
    for await (const e of listCache(dir)) all.push(e);
    assertEquals(all.map((e) => e.key), [...expected.keys()]);
    for (const e of all) {
      const want = Object.fromEntries(
        Object.entries(expected.get(e.key)!).map((
          [name, t],
        ) => [name, { dtype: t.stored.dtype, shape: t.stored.shape }]),
      );
      assertEquals(e.datasets, want, e.key);
    }
    assertEquals(all.map((e) => e.shard), [
      "features_00001.h5",
      "features_00001.h5",
      "features_00001.h5",
      "features_00002.h5",
      "features_00002.h5",
    ]);
    const nested = [];
    for await (const e of listCache(dir, { prefix: "train-clean-100/123/", datasets: false })) {
      nested.push(e);
    }
    assertEquals(nested, [
      { key: "train-clean-100/123/456/123_456_789", shard: "features_00001.h5" },
      { key: "train-clean-100/123/456/123_456_790", shard: "features_00002.h5" },
    ]);
  },
});

Deno.test({
  name: "h5shard ls prints JSON, and lists an unreadable sample with its reason and exit 1",
  ignore,
  async fn() {
    const { dir } = await standard();
    const run = async (args: string[]) => {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
    };
    const json = await run(["ls", dir, "--prefix", "LJ", "--json"]);
    assertEquals(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout);
    assertEquals(listed.map((e: { key: string }) => e.key), ["LJ001-0001", "LJ001-0002"]);
    assertEquals(listed[1].datasets.tokens, { dtype: "int32", shape: [50] });

    // An index entry whose group is not in its shard.
    const broken = `${scratch}/broken`;
    await Deno.mkdir(broken);
    for (const f of ["features_00001.h5", "features_00002.h5"]) {
      await Deno.copyFile(`${dir}/${f}`, `${broken}/${f}`);
    }
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    index.sample_index["LJ009-9999"] = { file_idx: 1, group_name: "LJ009-9999" };
    await Deno.writeTextFile(`${broken}/hdf5_index.json`, JSON.stringify(index));
    const text = await run(["ls", broken, "--prefix", "LJ"]);
    assertEquals(text.code, 1);
    assertMatch(
      text.stdout,
      /^LJ001-0001 {2}features_00001\.h5 {2}hidden_states float16 \(37, 1024\)/,
    );
    assertMatch(text.stdout, /\nLJ009-9999 {2}features_00001\.h5 {2}ERROR .*LJ009-9999/);
    assertMatch(text.stderr, /3 sample\(s\), 1 unreadable/);
  },
});
