import { seededRandom } from "./helpers/random.ts";
import { deflateSync } from "../deps.ts";
import { CacheError, FormatError, KeyError } from "../errors.ts";
import { chooseChunkShape, shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { bytesOf, type TypedArray } from "../formats/dtype.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import {
  emptyIndex,
  serializeIndex,
  shardFileName,
  type ShardIndex,
} from "../formats/shard_index.ts";
import type { Tensor } from "../formats/tensor.ts";
import { openCache } from "../ops/cache_reader.ts";
import { inspectCache } from "../ops/inspect.ts";
import { verifyCache } from "../ops/verify.ts";
import type { DatasetPlugin } from "../plugins/plugin.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { type H5pyCacheOptions, h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout, runPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

const { scratch, fixture } = h5pyFixtures("cache_reader_test_", python);
const standard = (name: string, options: H5pyCacheOptions) =>
  fixture(name, standardSamples(), options);
/** 5 samples in 2 shards (3 + 2), floats stored as float16. */
const twoShards = () => standard("two", { samplesPerFile: 3 });
/** The same samples in 3 shards (2 + 2 + 1), floats kept float32/float64. */
const threeShards = () => standard("three", { samplesPerFile: 2, useFloat16: false });

function sameBytes(a: TypedArray, b: TypedArray): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function assertSameTensor(actual: Tensor, expected: Tensor, what: string): void {
  assertEquals(actual.dtype, expected.dtype, `${what}: dtype`);
  assertEquals(actual.shape, expected.shape, `${what}: shape`);
  assertEquals(actual.data.constructor, expected.data.constructor, `${what}: array type`);
  assert(sameBytes(actual.data, expected.data), `${what}: bytes differ`);
}

/** Reference slice of `t` along `axis`, done on bytes (independent of the reader). */
function sliceAxis(t: Tensor, axis: number, start: number, end: number): Uint8Array {
  const bytes = bytesOf(t.data);
  const elem = t.data.BYTES_PER_ELEMENT;
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1) * elem;
  const span = t.shape[axis] * inner;
  const run = (end - start) * inner;
  const out = new Uint8Array(outer * run);
  for (let o = 0; o < outer; o++) {
    out.set(bytes.subarray(o * span + start * inner, o * span + end * inner), o * run);
  }
  return out;
}

Deno.test({
  name: "openCache reads every h5py-written dataset back bit-exactly",
  ignore,
  async fn() {
    for (const build of [twoShards, threeShards]) {
      const { dir, expected } = await build();
      const cache = await openCache(dir);
      try {
        assertEquals(cache.keys(), [...expected.keys()]);
        for (const [key, datasets] of expected) {
          assert(cache.has(key));
          const got = await cache.get(key);
          assertEquals(Object.keys(got).sort(), Object.keys(datasets).sort(), key);
          for (const [name, e] of Object.entries(datasets)) {
            assertSameTensor(got[name], e.stored, `${key}/${name}`);
          }
        }
      } finally {
        cache.close();
      }
    }
  },
});

Deno.test({
  name: "openCache keeps float16 as Float16Array and bool as 0/1 bytes",
  ignore,
  async fn() {
    const { dir } = await twoShards();
    const cache = await openCache(dir);
    try {
      const s = await cache.get("LJ001-0002");
      assert(s.hidden_states.data instanceof Float16Array);
      assertEquals(s.hidden_states.dtype, "float16");
      assertEquals(s.mask.dtype, "bool");
      assert([...s.mask.data as Uint8Array].every((v) => v === 0 || v === 1));
      assertEquals(s.tokens.dtype, "int32");
      // Specials written by the fixture: NaN, Inf, -Inf, -0.
      const h = s.hidden_states.data as Float16Array;
      assert(Number.isNaN(h[0]));
      assertEquals([h[1], h[2], Object.is(h[3], -0)], [Infinity, -Infinity, true]);
    } finally {
      cache.close();
    }
  },
});

Deno.test({
  name: "get with frames equals the same slice of the full read",
  ignore,
  async fn() {
    const { dir, expected } = await twoShards();
    const cache = await openCache(dir);
    try {
      for (const [key, datasets] of expected) {
        const t = datasets.hidden_states.stored.shape[0];
        const ranges: [number, number][] = [[0, 1], [0, t], [t - 1, t], [5, 5], [
          3,
          Math.min(40, t),
        ]];
        for (const frames of ranges) {
          const got = await cache.get(key, { frames, datasets: ["hidden_states"] });
          const h = got.hidden_states;
          assertEquals(h.shape, [frames[1] - frames[0], 1024], `${key} ${frames}`);
          const want = sliceAxis(datasets.hidden_states.stored, 0, ...frames);
          assertEquals(bytesOf(h.data).length, want.length);
          assert(sameBytes(h.data, want), `${key} hidden ${frames}`);
        }
        const m = datasets.mel_spectrogram.stored;
        const tm = m.shape[1];
        for (const frames of [[0, tm], [tm - 3, tm], [2, 9]] as [number, number][]) {
          const got = await cache.get(key, { frames, datasets: ["mel_spectrogram"] });
          assertEquals(got.mel_spectrogram.shape, [1, frames[1] - frames[0], 80]);
          assert(
            sameBytes(got.mel_spectrogram.data, sliceAxis(m, 1, ...frames)),
            `${key} mel ${frames}`,
          );
        }
      }
      // Only datasets of rank 2 or more have a time axis: a 1-D one (not per frame) and a
      // scalar are read whole.
      const s = await cache.get("train-clean-100/124/457/124_457_001", { frames: [10, 20] });
      assertEquals(s.energy.shape, [201]);
    } finally {
      cache.close();
    }
  },
});

Deno.test({
  name: "get takes frames as a Python slice: open ends, negatives from the end, clamped as h5py",
  ignore,
  async fn() {
    const { dir, expected } = await twoShards();
    const cache = await openCache(dir);
    try {
      const stored = expected.get("LJ001-0001")!.hidden_states.stored;
      const t = stored.shape[0];
      const frame = Array.from({ length: t }, (_, i) => i);
      // Array.prototype.slice bounds behave exactly as Python's (and so h5py's) slices.
      const cases: [number, number?][] = [
        [0, t + 1],
        [200],
        [-5],
        [0, -3],
        [-10, -2],
        [5, 3],
        [-1, 2],
        [t + 4, t + 9],
      ];
      for (const frames of cases) {
        const want = frame.slice(...frames);
        const got = (await cache.get("LJ001-0001", { frames, datasets: ["hidden_states"] }))
          .hidden_states;
        assertEquals(got.shape, [want.length, 1024], JSON.stringify(frames));
        const from = want.length ? want[0] : 0;
        assert(
          sameBytes(got.data, sliceAxis(stored, 0, from, from + want.length)),
          JSON.stringify(frames),
        );
      }
      for (const frames of [[0.5, 2], [1, NaN], []] as unknown as [number, number][]) {
        await assertRejects(
          cache.get("LJ001-0001", { frames }),
          (e: Error) => e instanceof RangeError && e.message.includes(JSON.stringify(frames)),
        );
      }
    } finally {
      cache.close();
    }
  },
});

Deno.test({
  name: "get rejects an unknown key and a missing dataset with KeyError",
  ignore,
  async fn() {
    const { dir } = await twoShards();
    const cache = await openCache(dir);
    try {
      await assertRejects(
        cache.get("LJ999-9999"),
        (e: Error) => e instanceof KeyError && e.key === "LJ999-9999",
      );
      await assertRejects(
        cache.get("LJ001-0001", { datasets: ["hidden_states", "pitch"] }),
        (e: Error) =>
          e instanceof KeyError && e.key === "LJ001-0001" && /"pitch"/.test(e.message) &&
          /features_00001\.h5/.test(e.message),
      );
      const only = await cache.get("LJ001-0002", { datasets: ["tokens"] });
      assertEquals(Object.keys(only), ["tokens"]);
    } finally {
      cache.close();
    }
  },
});

function openShardFds(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(`${dir}/features_`)) n++;
    } catch {
      // fds of the listing itself vanish while we read
    }
  }
  return n;
}

Deno.test({
  name: "maxOpenFiles 1 across 3 shards still reads correctly and keeps one shard open",
  ignore,
  async fn() {
    const { dir, expected } = await threeShards();
    const cache = await openCache(dir, { maxOpenFiles: 1 });
    const canCount = (() => {
      try {
        Deno.statSync("/proc/self/fd");
        return true;
      } catch {
        return false;
      }
    })();
    try {
      // Alternate between shards so every get reopens one.
      const keys = [...expected.keys()];
      for (const key of [keys[0], keys[4], keys[2], keys[0], keys[3], keys[4]]) {
        const got = await cache.get(key);
        for (const [name, e] of Object.entries(expected.get(key)!)) {
          assertSameTensor(got[name], e.stored, `${key}/${name}`);
        }
        if (canCount) assertEquals(openShardFds(dir), 1);
      }
    } finally {
      cache.close();
    }
    if (canCount) assertEquals(openShardFds(dir), 0);
    await assertRejects(cache.get("LJ001-0001"), CacheError);
    await assertRejects(openCache(dir, { maxOpenFiles: 0 }), /maxOpenFiles.*got 0/);
  },
});

Deno.test({
  name: "getByPath finds a sample through the plugin's keyForPath",
  ignore,
  async fn() {
    const { dir, expected } = await twoShards();
    const plugin: DatasetPlugin = {
      name: "inline",
      description: "test plugin",
      discover: async function* () {},
      discoverNpz: async function* () {},
      keyForPath: (path, root) =>
        (root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path)
          .replace(/\.wav$/, ""),
    };
    const cache = await openCache(dir, { plugin, dataRoot: "/corpora/libritts" });
    try {
      const key = "train-clean-100/123/456/123_456_789";
      const got = await cache.getByPath(`/corpora/libritts/${key}.wav`, { frames: [0, 4] });
      assertEquals(got.hidden_states.shape, [4, 1024]);
      assert(
        sameBytes(
          got.hidden_states.data,
          sliceAxis(expected.get(key)!.hidden_states.stored, 0, 0, 4),
        ),
      );
      await assertRejects(cache.getByPath("/corpora/libritts/nope.wav"), KeyError);
    } finally {
      cache.close();
    }
    const bare = await openCache(dir);
    await assertRejects(bare.getByPath("x.wav"), TypeError);
    bare.close();
  },
});

Deno.test({
  name: "openCache names the dir when the index is missing and the file when it is bad",
  ignore,
  async fn() {
    const empty = `${scratch}/empty`;
    await Deno.mkdir(empty, { recursive: true });
    await assertRejects(
      openCache(empty),
      (e: Error) =>
        e instanceof CacheError && e.dir === empty && /hdf5_index\.json/.test(e.message),
    );
    await Deno.writeTextFile(`${empty}/hdf5_index.json`, "{not json");
    await assertRejects(
      openCache(empty),
      (e: Error) => e instanceof FormatError && e.file.endsWith(`${empty}/hdf5_index.json`),
    );
  },
});

Deno.test({
  name: "get reports a shard that is missing or not HDF5 as FormatError naming the shard",
  ignore,
  async fn() {
    const { dir } = await twoShards();
    const broken = `${scratch}/broken`;
    await Deno.mkdir(broken, { recursive: true });
    await Deno.copyFile(`${dir}/hdf5_index.json`, `${broken}/hdf5_index.json`);
    await Deno.writeTextFile(`${broken}/features_00002.h5`, "not an HDF5 file");
    const cache = await openCache(broken);
    try {
      await assertRejects(
        cache.get("LJ001-0001"),
        (e: Error) => e instanceof FormatError && e.file.endsWith("broken/features_00001.h5"),
      );
      const err = await cache.get("train-clean-100/123/456/123_456_790").catch((e) => e);
      assert(err instanceof FormatError);
      assertMatch(err.message, /features_00002\.h5: cannot open as HDF5/);
    } finally {
      cache.close();
    }
  },
});

Deno.test({
  name: "two Web Workers read the same cache at once",
  ignore,
  async fn() {
    const { dir, expected } = await twoShards();
    const readerUrl = new URL("../ops/cache_reader.ts", import.meta.url).href;
    const code = `
      import { openCache } from ${JSON.stringify(readerUrl)};
      self.onmessage = async (e) => {
        const { dir, keys } = e.data;
        const cache = await openCache(dir);
        const out = [];
        for (let round = 0; round < 3; round++) {
          for (const key of keys) {
            const s = await cache.get(key);
            out.push([key, Object.fromEntries(Object.entries(s).map(([n, t]) =>
              [n, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]))]);
          }
        }
        cache.close();
        self.postMessage(out);
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const keys = [...expected.keys()];
    const run = (order: string[]) =>
      new Promise<[string, Record<string, Uint8Array>][]>((resolve, reject) => {
        const w = new Worker(url, { type: "module" });
        w.onmessage = (e) => {
          w.terminate();
          resolve(e.data);
        };
        w.onerror = (e) => {
          e.preventDefault();
          w.terminate();
          reject(new Error(e.message));
        };
        w.postMessage({ dir, keys: order });
      });
    try {
      const results = await Promise.all([run(keys), run(keys.slice().reverse())]);
      for (const result of results) {
        assertEquals(result.length, keys.length * 3);
        for (const [key, datasets] of result) {
          for (const [name, e] of Object.entries(expected.get(key)!)) {
            assert(sameBytes(datasets[name], e.stored.data), `${key}/${name} from a worker`);
          }
        }
      }
    } finally {
      URL.revokeObjectURL(url);
    }
  },
});

Deno.test({
  name: "openCache with workers reads the same bytes and keeps error classes",
  ignore,
  async fn() {
    const { dir, expected } = await threeShards();
    const cache = await openCache(dir, { workers: 2, maxOpenFiles: 2 });
    try {
      const keys = [...expected.keys()];
      // Many reads in flight at once, spread over both workers.
      const order = [...keys, ...keys.slice().reverse(), ...keys];
      const results = await Promise.all(order.map((k) => cache.get(k)));
      results.forEach((got, i) => {
        for (const [name, e] of Object.entries(expected.get(order[i])!)) {
          assertSameTensor(got[name], e.stored, `${order[i]}/${name} (worker)`);
        }
      });
      const sliced = await cache.get(keys[1], { frames: [2, 7], datasets: ["hidden_states"] });
      assert(
        sameBytes(
          sliced.hidden_states.data,
          sliceAxis(expected.get(keys[1])!.hidden_states.stored, 0, 2, 7),
        ),
      );
      await assertRejects(
        cache.get(keys[0], { datasets: ["pitch"] }),
        (e: Error) => e instanceof KeyError && e.key === keys[0] && /"pitch"/.test(e.message),
      );
      await assertRejects(
        cache.get(keys[0], { frames: [0.5, 9] }),
        (e: Error) => e instanceof RangeError && /\[0.5,9\]/.test(e.message),
      );
      await assertRejects(cache.get("nope"), KeyError);
      const pending = cache.get(keys[4]);
      cache.close();
      await assertRejects(pending, /closed/);
    } finally {
      cache.close();
    }
    await assertRejects(openCache(dir, { workers: -1 }), /workers.*got -1/);
  },
});

Deno.test("openCache, verify and inspect read a cache written by Hdf5FileWriter", async () => {
  const dir = `${scratch}/ours`;
  await Deno.mkdir(dir, { recursive: true });
  const next = seededRandom(5);
  const rand = () => next() - 0.5;
  const samples: { key: string; tensors: Record<string, Tensor> }[] = [];
  for (const [i, key] of ["LJ001-0001", "a/b/c_1", "a/b/c_2"].entries()) {
    const t = 20 + 17 * i;
    const h = new Float16Array(t * 1024).map(() => rand() * 8);
    const m = new Float16Array(t * 80).map(() => rand());
    samples.push({
      key,
      tensors: {
        hidden_states: { dtype: "float16", shape: [t, 1024], data: h },
        mel_spectrogram: { dtype: "float16", shape: [1, t, 80], data: m },
        speaker: { dtype: "int32", shape: [], data: new Int32Array([i + 7]) },
      },
    });
  }
  const index: ShardIndex = emptyIndex(2, true);
  for (const [i, s] of samples.entries()) {
    const fileIdx = Math.floor(i / 2) + 1;
    const path = `${dir}/${shardFileName(fileIdx)}`;
    const w = i % 2 === 0 ? Hdf5FileWriter.create(path) : Hdf5FileWriter.resume(path);
    for (const [name, t] of Object.entries(s.tensors)) {
      const bytes = bytesOf(t.data);
      const size = t.data.BYTES_PER_ELEMENT;
      const chunkShape = chooseChunkShape(t.shape, size);
      w.writeDataset(`${s.key}/${name}`, {
        dtype: t.dtype,
        shape: t.shape,
        layout: chunkShape
          ? {
            kind: "chunked",
            chunkShape,
            filters: [{ id: "shuffle" }, { id: "deflate", level: 4 }],
            chunks: [...splitChunks(bytes, t.shape, chunkShape, size)].map((c) =>
              new Uint8Array(deflateSync(shuffleBytes(c, size), { level: 4 }))
            ),
          }
          : { kind: "contiguous", bytes },
      });
    }
    w.close();
    index.sample_index[s.key] = { file_idx: fileIdx, group_name: s.key };
    index.current_file_idx = fileIdx;
    index.current_file_count = i % 2 + 1;
  }
  await Deno.writeTextFile(`${dir}/hdf5_index.json`, serializeIndex(index));

  const cache = await openCache(dir);
  try {
    for (const s of samples) {
      const got = await cache.get(s.key);
      for (const [name, t] of Object.entries(s.tensors)) {
        assertSameTensor(got[name], t, `${s.key}/${name}`);
      }
      const t = s.tensors.hidden_states.shape[0];
      const part = await cache.get(s.key, { frames: [t - 9, t] });
      assert(sameBytes(part.hidden_states.data, sliceAxis(s.tensors.hidden_states, 0, t - 9, t)));
      assert(
        sameBytes(part.mel_spectrogram.data, sliceAxis(s.tensors.mel_spectrogram, 1, t - 9, t)),
      );
      assertEquals(part.speaker.shape, []);
    }
  } finally {
    cache.close();
  }
  const report = await verifyCache(dir, { expected: ReadableStream.from(samples) });
  assertEquals([report.problems, report.warnings], [[], []]);
  assertEquals([report.shards, report.samples, report.datasets], [2, 3, 9]);
  const summary = await inspectCache(dir);
  assertEquals(summary.oddities, []);
  assertEquals(summary.datasets.hidden_states.filters, ["shuffle+deflate(4)"]);
});

Deno.test({
  name: "openCache reads keys with UTF-8, spaces and dots that h5py wrote",
  ignore,
  async fn() {
    const keys = ["ünïcødé/日本語/utt 1", "emoji😀.v2", "train-clean-100/1034/11/x.y"];
    const { dir, expected } = await fixture(
      "utf8",
      keys.map((key) => ({
        key,
        datasets: { hidden_states: { dtype: "float32", shape: [3, 16] } },
      })),
      { samplesPerFile: 2 },
    );
    const cache = await openCache(dir);
    try {
      assertEquals(cache.keys(), keys);
      for (const key of keys) {
        const got = await cache.get(key);
        assertSameTensor(got.hidden_states, expected.get(key)!.hidden_states.stored, key);
      }
    } finally {
      cache.close();
    }
    const report = await verifyCache(dir);
    assertEquals([report.problems, report.samples], [[], 3]);
  },
});

Deno.test({
  name: "openCache loads h5wasm only when a file needs it (h5py's libver 'latest')",
  ignore,
  async fn() {
    const { dir: native } = await twoShards();
    const latest = `${scratch}/latest`;
    await Deno.mkdir(latest, { recursive: true });
    await runPython(
      python!,
      String.raw`import h5py, numpy as np, sys
with h5py.File(sys.argv[1] + "/features_00001.h5", "w", libver="latest") as f:
    f.create_dataset("k/x", data=np.arange(40, dtype="<f4").reshape(10, 4), chunks=(5, 4), compression="gzip")`,
      [latest],
    );
    await Deno.writeTextFile(
      `${latest}/hdf5_index.json`,
      serializeIndex({
        ...emptyIndex(10, false),
        sample_index: { k: { file_idx: 1, group_name: "k" } },
        current_file_count: 1,
      }),
    );
    // A process of its own: whether h5wasm is loaded is per realm.
    const root = new URL("..", import.meta.url).pathname;
    const script = `
      import { openCache } from "${root}ops/cache_reader.ts";
      import { loadedH5wasm } from "${root}formats/h5wasm/module.ts";
      const a = await openCache(Deno.args[0]);
      for (const key of a.keys()) await a.get(key);
      a.close();
      const native = loadedH5wasm() === undefined;
      const b = await openCache(Deno.args[1]);
      const x = (await b.get("k", { frames: [2, 4] })).x;
      b.close();
      console.log(JSON.stringify({ native, loaded: loadedH5wasm() !== undefined, shape: x.shape, data: [...x.data] }));
    `;
    await Deno.writeTextFile(`${scratch}/probe.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", `${scratch}/probe.ts`, native, latest],
      stderr: "inherit",
    }).output();
    assert(out.success, "the reading process failed");
    const got = JSON.parse(new TextDecoder().decode(out.stdout));
    assertEquals(got, {
      native: true,
      loaded: true,
      shape: [2, 4],
      data: Array.from({ length: 8 }, (_, i) => 8 + i),
    });
  },
});
