import { assert, assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { type CacheDigest, h5pyCacheDigest, tensorDigest } from "./helpers/cache_digest.ts";
import { ShardSink, type ShardSinkOptions } from "../stages/shard_sink.ts";
import { DeflateStream } from "../stages/deflate_stream.ts";
import { DirLock, LOCK_FILE } from "../cache/dir_lock.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { ConfigError, FormatError, LockError, SampleError } from "../errors.ts";
import { openCache } from "../ops/cache_reader.ts";
import { parseIndex } from "../formats/shard_index.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

/** A small sample: hidden_states (T,16) f16, mel (1,T,8) f16, an int64 vector. */
function makeSample(key: string, seed: number): Sample {
  const T = 1 + (seed * 7) % 23;
  const hs = new Float16Array(T * 16).map((_, i) => Math.sin(seed * 13 + i) * 3);
  const mel = new Float16Array(T * 8).map((_, i) => Math.cos(seed + i * 0.1) - 5);
  const ids = BigInt64Array.from({ length: 3 }, (_, i) => BigInt(seed * 1000 + i));
  return {
    key,
    tensors: {
      hidden_states: { dtype: "float16", shape: [T, 16], data: hs },
      mel_spectrogram: { dtype: "float16", shape: [1, T, 8], data: mel },
      ids: { dtype: "int64", shape: [3], data: ids },
    },
  };
}

async function expectedDigest(samples: Sample[]): Promise<CacheDigest> {
  const out: CacheDigest = {};
  for (const s of samples) {
    out[s.key] = {};
    for (const [name, t] of Object.entries(s.tensors)) out[s.key][name] = await tensorDigest(t);
  }
  return out;
}

async function runSink(
  dir: string,
  records: (Sample | SampleFailure)[],
  options: ShardSinkOptions,
) {
  const sink = new ShardSink(dir, options);
  await ReadableStream.from(records)
    .pipeThrough(new DeflateStream({ workers: 0, chunkBytes: 256 }))
    .pipeTo(sink);
  return sink.report;
}

function readIndex(dir: string) {
  return parseIndex(Deno.readTextFileSync(`${dir}/hdf5_index.json`), dir);
}

function shardFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".h5")).sort();
}

Deno.test({
  name: "ShardSink rolls over at exactly samples_per_hdf5 (N-1, N, N+1 samples)",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    for (const n of [2, 3, 4, 7]) {
      const dir = await Deno.makeTempDir();
      const samples = Array.from({ length: n }, (_, i) => makeSample(`LJ001-${i}`, i));
      const report = await runSink(dir, samples, { samplesPerFile: 3 });
      const shards = Math.ceil(n / 3);
      assertEquals(report.written, n);
      assertEquals(report.shards, shards);
      assertEquals(shardFiles(dir).length, shards);
      const index = readIndex(dir);
      assertEquals(index.current_file_idx, shards);
      assertEquals(index.current_file_count, n - 3 * (shards - 1));
      assertEquals(index.samples_per_file, 3);
      assertEquals(
        Object.values(index.sample_index).map((e) => e.file_idx),
        samples.map((_, i) => 1 + Math.floor(i / 3)),
      );
      assertEquals(await h5pyCacheDigest(py, dir), await expectedDigest(samples));
      const meta = JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
      assertEquals([meta.storage_format, meta.num_hdf5_files, meta.total_samples], [
        "hdf5",
        shards,
        n,
      ]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ShardSink stores nested LibriTTS keys and non-ASCII keys as nested groups",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const dir = await Deno.makeTempDir();
    const keys = [
      "train-clean-100/103/1240/103_1240_000001_000000",
      "train-clean-100/103/1240/103_1240_000002_000000",
      "train-clean-100/103/1241/103_1241_000001_000000",
      "dev-clean/84/121123/84_121123_000007_000001",
      "日本語/ü/😀",
    ];
    const samples = keys.map((k, i) => makeSample(k, i + 10));
    await runSink(dir, samples, { samplesPerFile: 100 });
    assertEquals(await h5pyCacheDigest(py, dir), await expectedDigest(samples));
    const groups = await runPython(
      py,
      "import h5py,sys; f=h5py.File(sys.argv[1]); print(sorted(f['train-clean-100/103'].keys()))",
      [`${dir}/features_00001.h5`],
    );
    assertEquals(groups.trim(), "['1240', '1241']");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "ShardSink resumes: indexed keys are skipped and new samples continue the last shard",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const dir = await Deno.makeTempDir();
    const all = Array.from({ length: 8 }, (_, i) => makeSample(`k${i}`, i));
    const first = await runSink(dir, all.slice(0, 4), { samplesPerFile: 3 });
    assertEquals([first.written, first.shards], [4, 2]);
    const second = await runSink(dir, all, { samplesPerFile: 3 });
    assertEquals([second.written, second.skipped, second.shards], [4, 4, 3]);
    const index = readIndex(dir);
    assertEquals(Object.keys(index.sample_index), all.map((s) => s.key));
    assertEquals([index.current_file_idx, index.current_file_count], [3, 2]);
    assertEquals(await h5pyCacheDigest(py, dir), await expectedDigest(all));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "ShardSink with overwriteExisting replaces a sample in place and keeps its index position",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const dir = await Deno.makeTempDir();
    await runSink(dir, [makeSample("a", 1), makeSample("b", 2)], { samplesPerFile: 5 });
    const replaced = { ...makeSample("a", 99), key: "a" };
    const report = await runSink(dir, [replaced, makeSample("c", 3)], {
      samplesPerFile: 5,
      overwriteExisting: true,
    });
    assertEquals(report.written, 2);
    const index = readIndex(dir);
    assertEquals(Object.keys(index.sample_index), ["a", "b", "c"]);
    assertEquals(index.current_file_count, 3);
    assertEquals(
      await h5pyCacheDigest(py, dir),
      await expectedDigest([replaced, makeSample("b", 2), makeSample("c", 3)]),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "ShardSink logs failed samples to error_log.json and error_files.txt and stores the rest",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const dir = await Deno.makeTempDir();
    const good = [makeSample("x1", 1), makeSample("x3", 3)];
    const bad: SampleFailure = {
      key: "x2",
      origin: "/data/x2.npz",
      error: new SampleError("x2", "truncated file", "/data/x2.npz"),
    };
    const badKey = makeSample("a/./b", 4);
    const report = await runSink(dir, [good[0], bad, badKey, good[1]], { samplesPerFile: 10 });
    assertEquals([report.written, report.failed], [2, 2]);
    const log = JSON.parse(Deno.readTextFileSync(`${dir}/error_log.json`));
    assertEquals(log.errors.map((f: { sample_key: string }) => f.sample_key), ["x2", "a/./b"]);
    assert(log.errors[0].error_message.includes("truncated file"));
    assertEquals([log.total_errors, log.errors[0].file_path, log.errors[0].retry_count], [
      2,
      "/data/x2.npz",
      0,
    ]);
    assertEquals(Deno.readTextFileSync(`${dir}/error_files.txt`), "/data/x2.npz\na/./b\n");
    assertEquals(await h5pyCacheDigest(py, dir), await expectedDigest(good));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "ShardSink writes the index at every checkpoint_interval samples",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const seen: number[] = [];
    await runSink(dir, Array.from({ length: 5 }, (_, i) => makeSample(`s${i}`, i)), {
      samplesPerFile: 100,
      checkpointInterval: 2,
      onProgress: () => {
        try {
          seen.push(Object.keys(readIndex(dir).sample_index).length);
        } catch {
          seen.push(0);
        }
      },
    });
    // onProgress runs before the checkpoint that the same sample triggers.
    assertEquals(seen, [0, 0, 2, 2, 4]);
    assertEquals(Object.keys(readIndex(dir).sample_index).length, 5);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("ShardSink refuses an existing cache written with another samples_per_hdf5", async () => {
  const dir = await Deno.makeTempDir();
  await runSink(dir, [makeSample("a", 1)], { samplesPerFile: 5 });
  await assertRejects(
    () => runSink(dir, [makeSample("b", 2)], { samplesPerFile: 6 }),
    (e: unknown) => e instanceof ConfigError && e.path === "preprocessing.samples_per_hdf5",
  );
  await assertRejects(
    () => runSink(dir, [makeSample("b", 2)], { samplesPerFile: 5, useFloat16: false }),
    ConfigError,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ShardSink records its typed chunk encoding in metadata.json and resumes only with the same", async () => {
  const dir = await Deno.makeTempDir();
  const encoding = { compressionLevel: 4, shuffle: false, chunkBytes: 16384 };
  // A metadata field named like a chunk setting does not decide what is recorded: the typed one does.
  await runSink(dir, [makeSample("a", 1)], { encoding, metadata: { compression_level: 9 } });
  const meta = JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
  assertEquals([meta.compression_level, meta.shuffle, meta.chunk_bytes], [4, false, 16384]);
  for (
    const [field, value, path] of [
      ["compressionLevel", 6, "preprocessing.compression_level"],
      ["shuffle", true, "preprocessing.shuffle"],
      ["chunkBytes", 4096, "preprocessing.chunk_bytes"],
    ] as const
  ) {
    await assertRejects(
      () => runSink(dir, [makeSample("b", 2)], { encoding: { ...encoding, [field]: value } }),
      (e: unknown) =>
        e instanceof ConfigError && e.path === path && e.message.includes("metadata.json"),
    );
  }
  // The same encoding resumes; none given (chunks encoded elsewhere) checks nothing.
  await runSink(dir, [makeSample("b", 2)], { encoding });
  await runSink(dir, [makeSample("c", 3)], {});
  assertEquals(Object.keys(readIndex(dir).sample_index).sort(), ["a", "b", "c"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DirLock refuses a second writer and takes over a lock left by a dead process", async () => {
  const dir = await Deno.makeTempDir();
  const lock = DirLock.acquire(dir);
  assertThrows(() => DirLock.acquire(dir), LockError);
  await assertRejects(() => runSink(dir, [makeSample("a", 1)], {}), LockError);
  lock.release();
  // A pid that cannot be alive: the lock is stale.
  Deno.writeTextFileSync(
    `${dir}/${LOCK_FILE}`,
    JSON.stringify({ pid: 2 ** 22 + 7, host: Deno.hostname(), since: "then" }),
  );
  const report = await runSink(dir, [makeSample("a", 1)], {});
  assertEquals(report.written, 1);
  assertThrows(() => Deno.statSync(`${dir}/${LOCK_FILE}`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

/** A pre-encoded sample with one int64 scalar-ish dataset; `bytes` may be wrong on purpose. */
function encodedInt(key: string, fill: number, bytes = 8) {
  return {
    key,
    inputBytes: 8,
    datasets: {
      x: {
        dtype: "int64" as const,
        shape: [1],
        layout: { kind: "contiguous" as const, bytes: new Uint8Array(bytes).fill(fill) },
      },
    },
  };
}

async function sinkRun(dir: string, records: ReturnType<typeof encodedInt>[], overwrite = false) {
  const sink = new ShardSink(dir, { samplesPerFile: 10, overwriteExisting: overwrite });
  await ReadableStream.from(records).pipeTo(sink);
  return sink.report;
}

Deno.test("ShardSink keeps the stored copy when an overwriting replacement cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  await sinkRun(dir, [encodedInt("a", 7), encodedInt("b", 7)]);
  const report = await sinkRun(dir, [encodedInt("a", 9, 5)], true);
  assertEquals(report.failed, 1);
  const cache = await openCache(dir);
  const a = await cache.get("a");
  cache.close();
  assertEquals(new Uint8Array(a.x.data.buffer, a.x.data.byteOffset, 8), new Uint8Array(8).fill(7));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ShardSink refuses an index whose current_file_count contradicts its entries, shard untouched", async () => {
  const dir = await Deno.makeTempDir();
  await sinkRun(dir, [encodedInt("a", 7), encodedInt("b", 7), encodedInt("c", 7)]);
  const indexPath = `${dir}/hdf5_index.json`;
  const index = JSON.parse(await Deno.readTextFile(indexPath));
  index.current_file_count = 0;
  await Deno.writeTextFile(indexPath, JSON.stringify(index));
  const before = await Deno.readFile(`${dir}/features_00001.h5`);
  await assertRejects(
    () => sinkRun(dir, [encodedInt("d", 7)]),
    FormatError,
    "current_file_count is 0, but 3 samples are indexed in features_00001.h5",
  );
  assertEquals(await Deno.readFile(`${dir}/features_00001.h5`), before);
  index.current_file_count = 3;
  index.sample_index.c.file_idx = 2;
  await Deno.writeTextFile(indexPath, JSON.stringify(index));
  await assertRejects(
    () => sinkRun(dir, [encodedInt("d", 7)]),
    FormatError,
    "past current_file_idx 1",
  );
  assertEquals(await Deno.readFile(`${dir}/features_00001.h5`), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ShardSink leaves a caller's chunk buffers alone unless told they are the pipeline's", async () => {
  const dir = await Deno.makeTempDir();
  const shared = new Uint8Array(16).fill(3);
  const sample = (key: string) => ({
    key,
    inputBytes: 16,
    datasets: {
      x: {
        dtype: "uint8" as const,
        shape: [16],
        layout: { kind: "chunked" as const, chunkShape: [16], filters: [], chunks: [shared] },
      },
    },
  });
  const sink = new ShardSink(dir, { samplesPerFile: 10 });
  await ReadableStream.from([sample("a"), sample("b")]).pipeTo(sink);
  assertEquals(sink.report.written, 2);
  assertEquals(shared.byteLength, 16);
  await Deno.remove(dir, { recursive: true });
});
