// A large sample's chunks inflate on two threads (the later half of its frames on a helper
// worker): the arrays are the same as one thread reads, and as h5py reads; small reads, and a
// reader told `parallelReadBytes: Infinity`, never start a worker.
import { type CacheReader, openCache } from "../ops/cache_reader.ts";
import { pack } from "../ops/pack.ts";
import type { Tensor } from "../formats/tensor.ts";
import { bytesOf } from "../formats/dtype.ts";
import { utterance } from "./helpers/npz_fixtures.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { h5pyCacheDigest, tensorDigest } from "./helpers/cache_digest.ts";
import { findH5pyPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const twoCores = (navigator.hardwareConcurrency || 1) > 1;

/** Counts the Web Workers started while `fn` runs. */
async function countingWorkers<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const Original = globalThis.Worker;
  let started = 0;
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      started++;
    }
  };
  try {
    return [await fn(), started];
  } finally {
    globalThis.Worker = Original;
  }
}

function assertSameTensors(
  got: Record<string, Tensor>,
  want: Record<string, Tensor>,
  what: string,
) {
  assertEquals(Object.keys(got), Object.keys(want), what);
  for (const [name, t] of Object.entries(want)) {
    const g = got[name];
    assertEquals([g.dtype, g.shape], [t.dtype, t.shape], `${what} ${name}`);
    const a = bytesOf(g.data);
    const b = bytesOf(t.data);
    assert(a.length === b.length && a.every((x, i) => x === b[i]), `${what} ${name}: bytes differ`);
  }
}

Deno.test("a large sample read on two threads equals the one-thread read and h5py's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parallel_read_" });
  let split: CacheReader | undefined;
  let plain: CacheReader | undefined;
  try {
    const samples = [
      // 3000 frames of 1024 float16 hidden states: 6 MiB, above the default 4 MiB.
      { key: "long", tensors: utterance(3000, 3), origin: "long" },
      { key: "short", tensors: utterance(40, 4) },
      {
        key: "tokens",
        tensors: {
          ...utterance(2500, 5),
          ids: {
            dtype: "int32" as const,
            shape: [7],
            data: Int32Array.from([1, 2, 3, 4, 5, 6, 7]),
          },
        },
      },
    ];
    await pack(ReadableStream.from(samples), dir, { preprocessing: { samples_per_hdf5: 2 } });
    plain = await openCache(dir, { parallelReadBytes: Infinity });
    split = await openCache(dir);
    const reads: [string, { datasets?: string[]; frames?: [number, number?] }][] = [
      ["long", {}],
      ["long", { frames: [100, 2900] }],
      ["long", { frames: [-1700] }],
      ["long", { datasets: ["hidden_states"] }],
      ["tokens", {}],
      ["tokens", { frames: [3, 2200] }],
    ];
    let helpers = 0;
    for (const [key, options] of reads) {
      const want = await plain.get(key, options);
      const [got, started] = await countingWorkers(() => split!.get(key, options));
      assertSameTensors(got, want, `${key} ${JSON.stringify(options)}`);
      helpers += started;
    }
    // One helper, started by the first large read and kept for the next ones.
    assertEquals(helpers, twoCores ? 1 : 0);
    const [, smallStarts] = await countingWorkers(async () => {
      split!.close();
      split = await openCache(dir);
      return await split.get("short");
    });
    assertEquals(smallStarts, 0, "a small read stays on this thread");
    const [, lowStarts] = await countingWorkers(async () => {
      split!.close();
      split = await openCache(dir, { parallelReadBytes: 64 * 1024 });
      return await split.get("short");
    });
    assertEquals(lowStarts, twoCores ? 1 : 0, "above parallelReadBytes the helper starts");
    const [, plainStarts] = await countingWorkers(() => plain!.get("long"));
    assertEquals(plainStarts, 0, "parallelReadBytes: Infinity never starts one");
    if (python) {
      const digest = await h5pyCacheDigest(python, dir);
      for (const key of ["long", "tokens"]) {
        const got = await split.get(key);
        for (const [name, t] of Object.entries(got)) {
          assertEquals(await tensorDigest(t), digest[key][name], `${key}/${name} vs h5py`);
        }
      }
    }
  } finally {
    split?.close();
    plain?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a split read of a damaged shard fails as the one-thread read does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parallel_read_" });
  try {
    await pack(ReadableStream.from([{ key: "long", tensors: utterance(3000, 3) }]), dir);
    const shard = `${dir}/features_00001.h5`;
    const bytes = await Deno.readFile(shard);
    // Chunk data of the later frames lies just before the metadata at the end: scribble there.
    bytes.fill(0x5a, Math.floor(bytes.length * 0.6), Math.floor(bytes.length * 0.7));
    await Deno.writeFile(shard, bytes);
    const errorOf = async (options: { parallelReadBytes?: number }) => {
      const cache = await openCache(dir, options);
      try {
        await cache.get("long");
      } catch (e) {
        return e as Error;
      } finally {
        cache.close();
      }
      throw new Error("expected the read to fail");
    };
    const want = await errorOf({ parallelReadBytes: Infinity });
    const got = await errorOf({});
    assertEquals(got.constructor, want.constructor);
    assertEquals(got.message, want.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openCache refuses a parallelReadBytes that is not a positive number", async () => {
  for (const bad of [0, -1, NaN, "4" as unknown as number]) {
    let error: unknown;
    try {
      (await openCache("/nonexistent", { parallelReadBytes: bad })).close();
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, `${bad}: ${error}`);
  }
});
