// One worker runtime: every worker module serves through serveTasks(import.meta, ...), an error
// thrown in any kind of worker reaches the caller with its class, code, fields and cause, and
// importing a worker module anywhere but as a worker's entry module serves nothing.
import { FormatError, H5ShardError, SampleError } from "../errors.ts";
import { openCache } from "../ops/cache_reader.ts";
import { pack } from "../ops/pack.ts";
import { computeStats } from "../ops/stats.ts";
import type { Sample } from "../stages/record.ts";
import { type ChunkTask, encodeChunks } from "../stages/deflate_chunks.ts";
import { WORKER_ENTRIES } from "../workers/entries.ts";
import type { FeatureTask } from "../stages/feature_runner.ts";
import type { NpzTask } from "../stages/npz_decode.ts";
import { WorkerPool } from "../util/worker_pool.ts";
import { assert, assertEquals } from "./helpers/assert.ts";

/** The error `fn` rejects with, checked to be of `cls` when given. */
async function rejection<E extends Error = Error>(
  fn: () => unknown,
  cls?: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    return e as E;
  }
  throw new Error("expected a rejection");
}

const root = new URL("../", import.meta.url);
const workerUrl = (name: string) => new URL(`workers/${name}.ts`, root);

function f32(key: string, shape: number[]): Sample {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  return { key, tensors: { x: { dtype: "float32", shape, data } } };
}

Deno.test("importing a worker module on the main thread serves nothing", async () => {
  const before = (globalThis as { onmessage?: unknown }).onmessage;
  for (const entry of WORKER_ENTRIES) await import(new URL(entry, root).href);
  assertEquals((globalThis as { onmessage?: unknown }).onmessage, before);
});

Deno.test("a worker whose entry module imports a worker module is served by its own handler, and an error keeps class, fields and cause", async () => {
  const dir = await Deno.makeTempDir({ prefix: "worker_runtime_" });
  try {
    // The entry module imports every worker module first (as a user's extractor importing
    // mod.ts would inside a feature worker), then serves its own tasks.
    const imports = WORKER_ENTRIES.map((e) => `import ${JSON.stringify(new URL(e, root).href)};`);
    const entry = `${dir}/wrapper_worker.ts`;
    await Deno.writeTextFile(
      entry,
      `${imports.join("\n")}
import { serveTasks } from ${JSON.stringify(new URL("util/worker_pool.ts", root).href)};
import { FormatError, SampleError } from ${JSON.stringify(new URL("errors.ts", root).href)};
serveTasks(import.meta, (n: number) => {
  if (n > 0) return { value: "wrapper:" + n };
  throw new SampleError("LJ001-0001", "bad sample", "a.npz", "mel", {
    cause: new FormatError("a.npz", "inner", { offset: 4096, cause: new RangeError("deepest") }),
  });
});
`,
    );
    const pool = new WorkerPool<number, string>(new URL(`file://${entry}`), { size: 1 });
    try {
      assertEquals(await pool.run(7), "wrapper:7");
      const error = await rejection(() => pool.run(0), SampleError);
      assertEquals([error.code, error.key, error.file, error.dataset], [
        "sample",
        "LJ001-0001",
        "a.npz",
        "mel",
      ]);
      const cause = error.cause as FormatError;
      assert(cause instanceof FormatError, `cause is ${cause}`);
      assertEquals([cause.code, cause.file, cause.offset], ["format", "a.npz", 4096]);
      assert(cause.cause instanceof RangeError && cause.cause.message === "deepest", "deepest");
    } finally {
      pool.terminate();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the deflate worker's error comes back as its class", async () => {
  const pool = new WorkerPool<ChunkTask, unknown>(workerUrl("deflate_worker"), { size: 1 });
  try {
    // A zlib level that does not exist: the same error as on this thread.
    const task: ChunkTask = {
      bytes: new Uint8Array(16),
      shape: [4, 2],
      chunkShape: [2, 2],
      elementSize: 2,
      shuffle: true,
      level: 42,
    };
    const expected = await rejection(() => encodeChunks({ ...task, bytes: task.bytes.slice() }));
    const error = await rejection(() => pool.run(task));
    assertEquals(error.constructor, expected.constructor);
    assertEquals(error.message, expected.message);
  } finally {
    pool.terminate();
  }
});

Deno.test("the NPZ decode worker's error comes back as its class", async () => {
  const pool = new WorkerPool<NpzTask, unknown>(workerUrl("npz_decode_worker"), {
    size: 1,
  });
  try {
    await rejection(() => pool.run(null as unknown as NpzTask), TypeError);
  } finally {
    pool.terminate();
  }
});

Deno.test("the feature worker's error keeps class, fields and the extractor's own error as cause", async () => {
  const dir = await Deno.makeTempDir({ prefix: "worker_runtime_" });
  const pool = new WorkerPool<FeatureTask, unknown>(workerUrl("feature_worker"), { size: 1 });
  try {
    const module = `${dir}/broken_extractor.ts`;
    await Deno.writeTextFile(
      module,
      `import { SampleError } from ${JSON.stringify(new URL("errors.ts", root).href)};
export default () => {
  throw new SampleError("clip", "no weights", "w.bin", "hidden_states", { cause: new RangeError("n") });
};
`,
    );
    const task: FeatureTask = {
      extractors: [{ module: `file://${module}`, options: {} }],
      key: "clip",
      sampleRate: 16000,
      audio: new Float32Array(160),
    };
    const error = await rejection(() => pool.run(task), FormatError);
    assertEquals(error.code, "format");
    assert(error.message.includes("extractor factory failed"), error.message);
    const cause = error.cause as SampleError;
    assert(cause instanceof SampleError, `cause is ${cause}`);
    assertEquals([cause.key, cause.file, cause.dataset], ["clip", "w.bin", "hidden_states"]);
    assert(cause.cause instanceof RangeError, "the extractor's own cause");
  } finally {
    pool.terminate();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the read worker's error on a damaged shard is a FormatError naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "worker_runtime_" });
  try {
    await pack(ReadableStream.from([f32("a", [64, 8]), f32("b", [32, 8])]), dir, {
      preprocessing: { samples_per_hdf5: 10, use_float16: false },
    });
    const shard = `${dir}/features_00001.h5`;
    const bytes = await Deno.readFile(shard);
    // Chunk data lies at the end of the file: zero it, keeping the structure readable.
    bytes.fill(0xff, bytes.length - 600);
    await Deno.writeFile(shard, bytes);
    const local = await openCache(dir, { workers: 0 });
    const expected = await rejection(() => local.get("a"));
    local.close();
    const cache = await openCache(dir, { workers: 1 });
    try {
      const error = await rejection(() => cache.get("a"));
      assertEquals(error.constructor, expected.constructor);
      assert(error instanceof H5ShardError, `not an H5ShardError: ${error}`);
      assertEquals(error.code, (expected as H5ShardError).code);
      assertEquals(error.message, expected.message);
      assertEquals({ ...error, stack: undefined }, { ...expected, stack: undefined });
    } finally {
      cache.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stats worker's error is the SampleError thrown there, not a string", async () => {
  const dir = await Deno.makeTempDir({ prefix: "worker_runtime_" });
  try {
    // Two shards, so two units go to the workers; the first unit holds the mismatch.
    await pack(
      ReadableStream.from([f32("a", [4, 8]), f32("b", [4, 9]), f32("c", [4, 8])]),
      dir,
      { preprocessing: { samples_per_hdf5: 2, use_float16: false } },
    );
    const error = await rejection(
      () => computeStats(dir, { dataset: "x", workers: 2 }),
      SampleError,
    );
    assertEquals([error.code, error.key, error.dataset], ["sample", "b", "x"]);
    const good = `${dir}/good`;
    await pack(
      ReadableStream.from([f32("a", [4, 8]), f32("b", [4, 8]), f32("c", [4, 8])]),
      good,
      { preprocessing: { samples_per_hdf5: 2, use_float16: false } },
    );
    const ticks: number[] = [];
    const report = await computeStats(good, {
      dataset: "x",
      workers: 2,
      onProgress: (done) => ticks.push(done),
    });
    assertEquals(report.sample_count, 3);
    // A note per sample, sent by the workers as they go.
    assertEquals(ticks, [0, 1, 2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
