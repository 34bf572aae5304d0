import type { Tensor } from "../formats/tensor.ts";
import { CacheError } from "../errors.ts";
import { expectedNpz, verifyCache, type VerifyProblem } from "../ops/verify.ts";
import { ljspeech } from "../plugins/ljspeech.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import {
  type FixtureSample,
  type H5pyCache,
  h5pyFixtures,
  standardSamples,
} from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

const { scratch, fixture } = h5pyFixtures("verify_test_", python);
/** 5 samples in 2 shards (3 + 2), floats stored as float16. */
const clean = () => fixture("clean", standardSamples(), { samplesPerFile: 3 });

let copies = 0;
/** A copy of a cache that a test may break; `edit` changes the parsed index. */
async function copyCache(
  src: string,
  edit?: (index: Record<string, unknown> & { sample_index: Record<string, unknown> }) => void,
): Promise<string> {
  const dst = `${scratch}/copy${++copies}`;
  await Deno.mkdir(dst);
  for await (const e of Deno.readDir(src)) {
    await Deno.copyFile(`${src}/${e.name}`, `${dst}/${e.name}`);
  }
  if (edit) {
    const index = JSON.parse(await Deno.readTextFile(`${dst}/hdf5_index.json`));
    edit(index);
    await Deno.writeTextFile(`${dst}/hdf5_index.json`, JSON.stringify(index, null, 2));
  }
  return dst;
}

function kinds(list: VerifyProblem[]): string[] {
  return list.map((p) => p.kind);
}

async function* source(
  cache: H5pyCache,
  change?: (key: string, name: string, t: Tensor) => Tensor,
): AsyncGenerator<Sample | SampleFailure> {
  for (const [key, datasets] of cache.expected) {
    const tensors: Record<string, Tensor> = {};
    for (const [name, e] of Object.entries(datasets)) {
      tensors[name] = change ? change(key, name, e.source) : e.source;
    }
    yield { key, tensors };
  }
}

Deno.test({
  name: "verify passes on a clean h5py cache, with and without the expected source",
  ignore,
  async fn() {
    const cache = await clean();
    const progress: [number, number][] = [];
    const report = await verifyCache(cache.dir, { onProgress: (d, t) => progress.push([d, t]) });
    assertEquals(report.problems, []);
    // The fixture's floats hold NaN and inf on purpose: those are the only warnings.
    assertEquals(report.warnings.filter((w) => w.kind !== "non_finite"), []);
    const datasets = [...cache.expected.values()].reduce((n, d) => n + Object.keys(d).length, 0);
    assertEquals([report.shards, report.samples, report.datasets], [2, 5, datasets]);
    assertEquals(progress.at(-1), [5, 5]);
    // float32/float64 sources cast to float16 (NaN, Inf, -0, subnormals and overflow included).
    const withSource = await verifyCache(cache.dir, { expected: source(cache) });
    assertEquals(withSource.problems, []);
    assertEquals(withSource.datasets, datasets);
    // A ReadableStream works as well.
    const stream = ReadableStream.from(source(cache));
    assertEquals((await verifyCache(cache.dir, { expected: stream })).problems, []);
  },
});

Deno.test({
  name: "verify reports values and shapes that differ from the source, and missing samples",
  ignore,
  async fn() {
    const cache = await clean();
    const report = await verifyCache(cache.dir, {
      expected: (async function* () {
        yield* source(cache, (key, name, t) => {
          if (key === "LJ001-0002" && name === "hidden_states") {
            const data = (t.data as Float32Array).slice();
            data[1234] += 1;
            return { ...t, data };
          }
          if (key === "train-clean-100/123/456/123_456_790" && name === "mel_spectrogram") {
            return { ...t, shape: [t.shape[1], 1, 80] };
          }
          return t;
        });
        yield { key: "LJ404-0404", tensors: {} };
        yield {
          key: "LJ001-0001",
          tensors: { pitch: { dtype: "float32", shape: [1], data: new Float32Array(1) } },
        };
      })(),
    });
    assertEquals(kinds(report.problems).sort(), [
      "missing_dataset",
      "missing_sample",
      "value_mismatch",
      "value_mismatch",
    ]);
    const values = report.problems.find((p) => p.key === "LJ001-0002")!;
    assertEquals([values.file, values.dataset], ["features_00001.h5", "hidden_states"]);
    assertMatch(values.message, /1 of \d+ elements; first at flat index 1234/);
    const shape = report.problems.find((p) => p.dataset === "mel_spectrogram")!;
    assertEquals(shape.file, "features_00002.h5");
    assertMatch(shape.message, /shape/);
    assertEquals(report.problems.find((p) => p.kind === "missing_sample")!.key, "LJ404-0404");
    assertEquals(report.problems.find((p) => p.kind === "missing_dataset")!.dataset, "pitch");
  },
});

Deno.test({
  name: "verify reports a shard with flipped bytes inside a chunk",
  ignore,
  async fn() {
    const cache = await clean();
    const dir = await copyCache(cache.dir);
    const shard = `${dir}/features_00001.h5`;
    const key = "LJ001-0002";
    const where = await runPython(
      requireTool(python, "python3 with h5py"),
      `import h5py, sys
ds = h5py.File(sys.argv[1], "r")[sys.argv[2]]
info = ds.id.get_chunk_info(ds.id.get_num_chunks() // 2)
print(info.byte_offset, info.size)`,
      [shard, `${key}/hidden_states`],
    );
    const [offset, size] = where.trim().split(" ").map(Number);
    const bytes = await Deno.readFile(shard);
    const mid = offset + Math.floor(size / 2);
    for (let i = mid; i < mid + 16; i++) bytes[i] ^= 0xa5;
    await Deno.writeFile(shard, bytes);

    const report = await verifyCache(dir);
    assertEquals(kinds(report.problems), ["unreadable_dataset"]);
    const p = report.problems[0];
    assertEquals([p.file, p.key, p.dataset], ["features_00001.h5", key, "hidden_states"]);
    assertMatch(p.message, /features_00001\.h5/);
    assertMatch(p.message, /hidden_states/);
    // Every other dataset was still read.
    assertEquals(report.samples, 5);
    // Decompressing on workers finds the same problem, attributed to the same dataset.
    const onWorkers = await verifyCache(dir, { workers: 2 });
    assertEquals(onWorkers.problems.map((q) => [q.kind, q.file, q.key, q.dataset]), [
      ["unreadable_dataset", "features_00001.h5", key, "hidden_states"],
    ]);
    assertEquals([onWorkers.samples, onWorkers.datasets], [report.samples, report.datasets]);
  },
});

Deno.test({
  name: "verify reports a missing shard",
  ignore,
  async fn() {
    const dir = await copyCache((await clean()).dir);
    await Deno.remove(`${dir}/features_00002.h5`);
    const report = await verifyCache(dir);
    assertEquals(kinds(report.problems), ["missing_shard"]);
    assertEquals(report.problems[0].file, "features_00002.h5");
    assertMatch(report.problems[0].message, /2 indexed samples/);
    assertEquals([report.shards, report.samples], [1, 3]);
  },
});

Deno.test({
  name: "verify reports an index entry without a group and a group without an index entry",
  ignore,
  async fn() {
    const dir = await copyCache((await clean()).dir, (index) => {
      index.sample_index.ghost = { file_idx: 1, group_name: "ghost" };
      delete index.sample_index["LJ001-0001"];
    });
    const report = await verifyCache(dir);
    assertEquals(kinds(report.problems).sort(), ["missing_group", "unindexed_group"]);
    const missing = report.problems.find((p) => p.kind === "missing_group")!;
    assertEquals([missing.file, missing.key], ["features_00001.h5", "ghost"]);
    const unindexed = report.problems.find((p) => p.kind === "unindexed_group")!;
    assertEquals([unindexed.file, unindexed.key], ["features_00001.h5", "LJ001-0001"]);
  },
});

Deno.test({
  name: "verify reports count mismatches and entries beyond current_file_idx",
  ignore,
  async fn() {
    const cache = await clean();
    const dir = await copyCache(cache.dir, (index) => {
      index.current_file_count = 7;
    });
    const report = await verifyCache(dir);
    assertEquals(kinds(report.problems), ["count_mismatch"]);
    assertEquals(report.problems[0].file, "hdf5_index.json");
    assertMatch(report.problems[0].message, /current_file_count is 7 but 2 entries/);

    const beyond = await copyCache(cache.dir, (index) => {
      index.sample_index.later = { file_idx: 3, group_name: "later" };
    });
    const r2 = await verifyCache(beyond);
    assertEquals(kinds(r2.problems), ["beyond_current_file", "missing_shard"]);
    assertEquals(r2.problems[1].file, "features_00003.h5");
  },
});

Deno.test({
  name: "verify warns about superseded copies, short shards and unreferenced shards",
  ignore,
  async fn() {
    const f = (key: string, fileIdx: number): FixtureSample => ({
      key,
      fileIdx,
      datasets: { hidden_states: { dtype: "float32", shape: [4, 8] } },
    });
    // "a" is written to shard 1, then again to shard 2; the index keeps the second.
    const cache = await fixture("superseded", [f("a", 1), f("b", 1), f("a", 2)], {
      samplesPerFile: 2,
    });
    const dir = await copyCache(cache.dir);
    await Deno.copyFile(`${dir}/features_00002.h5`, `${dir}/features_00009.h5`);
    const report = await verifyCache(dir);
    assertEquals(report.problems, []);
    assertEquals(kinds(report.warnings.filter((w) => w.kind !== "non_finite")), [
      "short_shard",
      "unreferenced_shard",
      "superseded_copy",
      "superseded_copy",
    ]);
    const copy = report.warnings[2];
    assertEquals([copy.file, copy.key], ["features_00001.h5", "a"]);
    assertMatch(copy.message, /features_00002\.h5/);
    assertEquals(report.warnings[1].file, "features_00009.h5");
    assertEquals([report.warnings[3].file, report.warnings[3].key], ["features_00009.h5", "a"]);
    assertEquals([report.shards, report.samples], [3, 2]);
  },
});

Deno.test({
  name: "verify throws naming the dir when there is no index",
  ignore,
  async fn() {
    const dir = `${scratch}/no_index`;
    await Deno.mkdir(dir);
    await assertRejects(verifyCache(dir), (e: Error) => e.message.includes(dir));
  },
});

Deno.test({
  name: "verify reports each indexed sample the expected source lacks, and counts those compared",
  ignore,
  async fn() {
    const cache = await clean();
    const all = await verifyCache(cache.dir, { expected: source(cache) });
    assertEquals([all.problems, all.compared], [[], 5]);
    const dropped = "LJ001-0002";
    const report = await verifyCache(cache.dir, {
      expected: (async function* () {
        for await (const r of source(cache)) if (r.key !== dropped) yield r;
      })(),
    });
    assertEquals(report.problems.map((p) => [p.kind, p.key]), [["missing_in_source", dropped]]);
    assertEquals(report.compared, 4);
    // Nothing to compare with is every sample missing, never OK.
    const none = await verifyCache(cache.dir, { expected: ReadableStream.from([]) });
    assertEquals(kinds(none.problems), Array(5).fill("missing_in_source"));
    assertEquals(none.compared, 0);
    // Without a source nothing is compared, and that is not claimed.
    assertEquals((await verifyCache(cache.dir)).compared, undefined);
  },
});

Deno.test({
  name: "expectedNpz throws naming the dir when the plugin finds no .npz there",
  ignore,
  async fn() {
    const cache = await clean();
    const empty = `${scratch}/no_npz`;
    await Deno.mkdir(empty);
    await assertRejects(
      expectedNpz(empty, ljspeech),
      (e: Error) =>
        e instanceof CacheError && e.dir === empty && /no \.npz files found/.test(e.message) &&
        !e.message.includes("HDF5 cache"),
    );
    await assertRejects(
      expectedNpz(cache.dir, ljspeech),
      (e: Error) =>
        e instanceof CacheError && /hdf5_index\.json: it looks like an HDF5/.test(e.message),
    );
  },
});
