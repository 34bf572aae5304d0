/**
 * NaN and inf in stored floating datasets: verify and inspect count them per dataset, equal to
 * numpy over h5py's reads, as a warning (a problem, exit 1, when strict).
 */
import { inspectCache } from "../ops/inspect.ts";
import { verifyCache } from "../ops/verify.ts";
import { Hdf5Source } from "../stages/hdf5_source.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");
const { fixture } = h5pyFixtures("non_finite_test_", python);
const CLI = new URL("../cli.ts", import.meta.url).pathname;
/** Flat and nested keys in 2 shards; every float dataset starts with NaN, inf, -inf, ... */
const standard = () => fixture("std", standardSamples(), { samplesPerFile: 3 });

/** numpy's counts per dataset name over h5py's reads. */
const COUNTS = String.raw`
import json, sys
import h5py, numpy as np
d = sys.argv[1]
index = json.load(open(d + "/hdf5_index.json"))["sample_index"]
out = {}
for key, e in index.items():
    with h5py.File(d + "/features_%05d.h5" % e["file_idx"], "r") as f:
        for name, ds in f[e["group_name"]].items():
            a = ds[()]
            if a.dtype.kind != "f":
                continue
            nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
            if nan or inf:
                c = out.setdefault(name, dict(nan=0, inf=0, samples=0, firstKey=key))
                c["nan"] += nan; c["inf"] += inf; c["samples"] += 1
print(json.dumps(out))
`;

async function numpyCounts(dir: string) {
  return JSON.parse(await runPython(requireTool(python, "python3 with h5py"), COUNTS, [dir]));
}

Deno.test({
  name: "verifyCache counts NaN and inf per dataset as numpy does, on every read path",
  ignore,
  async fn() {
    const { dir } = await standard();
    const want = await numpyCounts(dir);
    assertEquals(Object.keys(want).sort(), ["energy", "hidden_states", "mel_spectrogram"]);
    const plain = await verifyCache(dir);
    assertEquals(plain.nonFinite, want);
    assertEquals(plain.problems, []);
    const warned = plain.warnings.filter((w) => w.kind === "non_finite");
    assertEquals(warned.map((w) => w.dataset).sort(), Object.keys(want).sort());
    assertMatch(
      warned.find((w) => w.dataset === "hidden_states")!.message,
      /dataset hidden_states: 5 NaN and 15 inf in 5 sample\(s\), first "LJ001-0001"/,
    );
    // On read workers, and when values are compared with a source (here the cache itself).
    assertEquals((await verifyCache(dir, { workers: 1 })).nonFinite, want);
    const against = await verifyCache(dir, { expected: new Hdf5Source(dir) });
    assertEquals(against.problems, []);
    assertEquals(against.nonFinite, want);
    const strict = await verifyCache(dir, { strict: true });
    assertEquals(strict.problems.map((p) => p.kind), ["non_finite", "non_finite", "non_finite"]);
  },
});

Deno.test({
  name: "inspectCache counts NaN and inf only when asked, as numpy does",
  ignore,
  async fn() {
    const { dir } = await standard();
    const want = await numpyCounts(dir);
    const quick = await inspectCache(dir);
    assertEquals(quick.nonFinite, undefined);
    const counted = await inspectCache(dir, { nonFinite: true });
    assertEquals(counted.nonFinite, want);
    assert(counted.oddities.some((o) => /^dataset mel_spectrogram: \d+ NaN and \d+ inf/.test(o)));
  },
});

Deno.test({
  name: "h5shard verify and inspect warn about NaN and inf, and exit 1 with --strict",
  ignore,
  async fn() {
    const { dir } = await standard();
    const run = async (args: string[]) => {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
    };
    const verify = await run(["verify", dir]);
    assertEquals(verify.code, 0, verify.stderr);
    assertMatch(verify.stderr, /warning: dataset mel_spectrogram: \d+ NaN and \d+ inf/);
    assertEquals((await run(["verify", dir, "--strict"])).code, 1);
    const inspect = await run(["inspect", dir, "--nonfinite"]);
    assertEquals(inspect.code, 0);
    assertMatch(inspect.stderr, /odd: dataset energy: 1 NaN and 3 inf in 1 sample\(s\)/);
    assertEquals((await run(["inspect", dir, "--strict"])).code, 1);
  },
});
