import { SampleError } from "../errors.ts";
import { bytesOf } from "../formats/dtype.ts";
import { Hdf5Source } from "../stages/hdf5_source.ts";
import { isFailure, type Sample, type SampleFailure } from "../stages/record.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

const { scratch, fixture } = h5pyFixtures("hdf5_source_test_", python);
/** 5 samples in 2 shards (3 + 2), floats stored as float16. */
const cache = () => fixture("cache", standardSamples(), { samplesPerFile: 3 });

async function collect(stream: ReadableStream<Sample | SampleFailure>) {
  const out: (Sample | SampleFailure)[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

Deno.test({
  name: "Hdf5Source yields every sample in index order with its shard as origin",
  ignore,
  async fn() {
    const { dir, expected } = await cache();
    const records = await collect(new Hdf5Source(dir));
    assertEquals(records.map((r) => r.key), [...expected.keys()]);
    assertEquals(records.map((r) => r.origin), [
      "features_00001.h5:/LJ001-0001",
      "features_00001.h5:/LJ001-0002",
      "features_00001.h5:/train-clean-100/123/456/123_456_789",
      "features_00002.h5:/train-clean-100/123/456/123_456_790",
      "features_00002.h5:/train-clean-100/124/457/124_457_001",
    ]);
    for (const record of records) {
      if (isFailure(record)) throw record.error;
      const r: Sample = record;
      const want = expected.get(r.key)!;
      assertEquals(Object.keys(r.tensors).sort(), Object.keys(want).sort());
      for (const [name, e] of Object.entries(want)) {
        const t = r.tensors[name];
        assertEquals([t.dtype, t.shape], [e.stored.dtype, e.stored.shape], `${r.key}/${name}`);
        assert(equalBytes(bytesOf(t.data), bytesOf(e.stored.data)), `${r.key}/${name} bytes`);
      }
      assert(r.tensors.hidden_states.data instanceof Float16Array);
    }
  },
});

Deno.test({
  name: "Hdf5Source follows a key list and turns unreadable samples into failures",
  ignore,
  async fn() {
    const { dir } = await cache();
    // A copy whose index also lists a key with no group behind it.
    const bad = `${scratch}/ghost`;
    await Deno.mkdir(bad, { recursive: true });
    for (const f of ["features_00001.h5", "features_00002.h5"]) {
      await Deno.copyFile(`${dir}/${f}`, `${bad}/${f}`);
    }
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    index.sample_index.ghost = { file_idx: 2, group_name: "ghost" };
    await Deno.writeTextFile(`${bad}/hdf5_index.json`, JSON.stringify(index, null, 2));

    const keys = ["train-clean-100/124/457/124_457_001", "ghost", "not-indexed", "LJ001-0001"];
    const records = await collect(new Hdf5Source(bad, { keys, maxOpenFiles: 1 }));
    assertEquals(records.map((r) => r.key), keys);
    assertEquals(records.map(isFailure), [false, true, true, false]);
    const ghost = records[1] as SampleFailure;
    assert(ghost.error instanceof SampleError);
    assertEquals(ghost.error.file, "features_00002.h5");
    assertEquals(ghost.origin, "features_00002.h5:/ghost");
    assertMatch(ghost.error.message, /ghost/);
    assertMatch((records[2] as SampleFailure).error.message, /not in hdf5_index\.json/);
    assertEquals((records[3] as Sample).tensors.hidden_states.shape, [37, 1024]);
  },
});

Deno.test({
  name: "Hdf5Source closes its shards when cancelled and errors on a missing cache",
  ignore,
  async fn() {
    const { dir } = await cache();
    const source = new Hdf5Source(dir);
    const reader = source.getReader();
    const first = await reader.read();
    assertEquals(first.value?.key, "LJ001-0001");
    await reader.cancel();
    if (Deno.build.os === "linux") {
      const open = [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(`${dir}/`);
        } catch {
          return false;
        }
      });
      assertEquals(open.length, 0);
    }
    // A missing cache errors the stream, naming the directory.
    const missing = `${scratch}/nowhere`;
    const err = await collect(new Hdf5Source(missing)).catch((e) => e);
    assert(err instanceof Error);
    assertMatch(err.message, /nowhere/);
  },
});

Deno.test({
  name: "Hdf5Source on workers yields the same records in the same order",
  ignore,
  async fn() {
    const { dir } = await cache();
    const keys = ["LJ001-0002", "missing", "LJ001-0001", "train-clean-100/124/457/124_457_001"];
    const here = await collect(new Hdf5Source(dir, { keys }));
    const there = await collect(new Hdf5Source(dir, { keys, workers: 2 }));
    assertEquals(
      there.map((r) => [r.key, r.origin, isFailure(r)]),
      here.map((r) => [r.key, r.origin, isFailure(r)]),
    );
    for (const [i, r] of there.entries()) {
      if (isFailure(r)) continue;
      const mine = here[i] as Sample;
      for (const [name, t] of Object.entries(r.tensors)) {
        assertEquals([t.dtype, t.shape], [mine.tensors[name].dtype, mine.tensors[name].shape]);
        assert(equalBytes(bytesOf(t.data), bytesOf(mine.tensors[name].data)), `${r.key}/${name}`);
      }
    }
  },
});
