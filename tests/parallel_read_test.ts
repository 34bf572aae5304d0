// Large reads inflate on two threads (InflateHelper: this thread and a helper worker on a
// shared buffer): the arrays are the same as one thread reads, and as h5py reads; damage fails
// with the one-thread error; a reader starts the helper only after enough large reads, and
// small reads, one-off reads and `parallelReadBytes: Infinity` never start one.
import { type CacheReader, openCache } from "../ops/cache_reader.ts";
import { pack } from "../ops/pack.ts";
import type { Tensor } from "../formats/tensor.ts";
import { bytesOf } from "../formats/dtype.ts";
import { NativeH5File } from "../formats/hdf5/reader/mod.ts";
import { InflateHelper, type ParallelInflate } from "../formats/parallel_inflate.ts";
import { createDeflater, createInflater } from "../formats/zlib_codec.ts";
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

/** Runs `fn` until the helper has taken part (it starts in tens of ms), at most 5 s. */
function untilHelped(helper: InflateHelper, fn: () => void): void {
  const until = performance.now() + 5000;
  do fn(); while (helper.helped === 0 && performance.now() < until);
}

Deno.test("InflateHelper inflates as one thread does, over several rounds, and reports bad streams", () => {
  const deflater = createDeflater(4);
  const inflater = createInflater();
  let seed = 7;
  const noise = (n: number) =>
    Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  // 3000 chunks of 3 sizes: more jobs and more bytes than one round of the shared buffer holds.
  const plain = Array.from({ length: 3000 }, (_, i) => noise([4096, 16384, 700][i % 3]));
  const jobs = plain.map((p) => ({ src: deflater.deflate(p), dst: new Uint8Array(p.length) }));
  // One chunk larger than the whole buffer (inflated here alone), one corrupt, one too big.
  const huge = new Uint8Array(6 << 20).fill(3);
  jobs.push({ src: deflater.deflate(huge), dst: new Uint8Array(huge.length) });
  const corrupt = deflater.deflate(noise(5000));
  corrupt.fill(0xff, 10, 40);
  jobs.push({ src: corrupt, dst: new Uint8Array(5000) });
  jobs.push({ src: deflater.deflate(noise(9000)), dst: new Uint8Array(8000) });
  const helper = new InflateHelper();
  try {
    let results: ReturnType<InflateHelper["inflateAll"]> = [];
    untilHelped(helper, () => {
      for (const j of jobs) j.dst.fill(0);
      results = helper.inflateAll(jobs, inflater);
    });
    if (twoCores) assert(helper.helped > 0, "the helper thread took part");
    if (helper.helped > 0) assert(helper.ready, "a helper that took part says it is ready");
    plain.forEach((p, i) => {
      assertEquals(results[i], p.length, `job ${i}`);
      assert(jobs[i].dst.every((x, k) => x === p[k]), `job ${i}: bytes differ`);
    });
    assertEquals(results[3000], huge.length);
    assert(jobs[3000].dst.every((x) => x === 3), "the chunk larger than the buffer");
    let want: Error | undefined;
    try {
      inflater.inflateInto(corrupt, new Uint8Array(5000));
    } catch (e) {
      want = e as Error;
    }
    const got = results[3001];
    assert(got instanceof Error && want, `a corrupt stream is an error, got ${got}`);
    assertEquals(got.message, want.message);
    assertEquals(results[3002], -1, "a stream longer than its room");
  } finally {
    helper.close();
  }
  helper.close();
  let closed: unknown;
  try {
    helper.inflateAll(jobs.slice(0, 1), inflater);
  } catch (e) {
    closed = e;
  }
  assert(closed instanceof Error && /closed/.test(closed.message), `${closed}`);
});

Deno.test("a dataset read on two threads equals the one-thread read, and fails as it does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parallel_read_" });
  const helper = new InflateHelper();
  const parallel: ParallelInflate = { minBytes: 0, helper: () => helper };
  try {
    const ids = {
      dtype: "int32" as const,
      shape: [7],
      data: Int32Array.from([1, 2, 3, 4, 5, 6, 7]),
    };
    await pack(
      ReadableStream.from([
        { key: "long", tensors: utterance(3000, 3) },
        { key: "shuffled", tensors: { ...utterance(900, 5), ids } },
      ]),
      dir,
    );
    await pack(
      ReadableStream.from([{ key: "s", tensors: utterance(700, 9) }]),
      `${dir}/shuffle`,
      { preprocessing: { shuffle: true } },
    );
    const file = NativeH5File.open(`${dir}/features_00001.h5`);
    const shuffled = NativeH5File.open(`${dir}/shuffle/features_00001.h5`);
    try {
      const reads: [NativeH5File, string, { start?: number[]; count?: number[] }][] = [
        [file, "/long/hidden_states", {}],
        [file, "/long/hidden_states", { start: [5, 0], count: [2890, 1024] }],
        [file, "/long/hidden_states", { start: [13, 100], count: [61, 300] }],
        [file, "/long/mel_spectrogram", { start: [0, 7, 0], count: [1, 2500, 80] }],
        [file, "/shuffled/hidden_states", {}],
        [file, "/shuffled/ids", {}],
        [shuffled, "/s/hidden_states", { start: [3, 0], count: [600, 1024] }],
      ];
      untilHelped(helper, () => void file.read("/long/hidden_states", { parallel }));
      for (const [f, path, slab] of reads) {
        const want = f.read(path, slab);
        const got = f.read(path, { ...slab, parallel });
        assertSameTensors({ x: got }, { x: want }, `${path} ${JSON.stringify(slab)}`);
      }
      if (twoCores) assert(helper.helped > 0, "the helper thread took part");
    } finally {
      file.close();
      shuffled.close();
    }
    // Damage in the later frames' chunks: the same error, named the same way.
    const shard = `${dir}/features_00001.h5`;
    const bytes = await Deno.readFile(shard);
    bytes.fill(0x5a, Math.floor(bytes.length * 0.4), Math.floor(bytes.length * 0.5));
    await Deno.writeFile(shard, bytes);
    const damaged = NativeH5File.open(shard);
    const errorOf = (options: { parallel?: ParallelInflate }) => {
      try {
        damaged.read("/long/hidden_states", options);
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected the read to fail");
    };
    try {
      const want = errorOf({});
      const got = errorOf({ parallel });
      assertEquals(got.constructor, want.constructor);
      assertEquals(got.message, want.message);
    } finally {
      damaged.close();
    }
  } finally {
    helper.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the cache reader starts one helper after enough large reads; small and one-off reads start none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parallel_read_" });
  let reader: CacheReader | undefined;
  let plain: CacheReader | undefined;
  try {
    await pack(
      ReadableStream.from([
        // 3000 frames of 1024 float16 hidden states: 6 MiB a read.
        { key: "long", tensors: utterance(3000, 3) },
        { key: "short", tensors: utterance(20, 4) },
      ]),
      dir,
    );
    plain = await openCache(dir, { parallelReadBytes: Infinity });
    reader = await openCache(dir);
    const want = await plain.get("long");
    const [, oneOff] = await countingWorkers(() => reader!.get("long"));
    assertEquals(oneOff, 0, "one large read does not start a worker");
    const [, smalls] = await countingWorkers(async () => {
      for (let i = 0; i < 50; i++) await reader!.get("short");
    });
    assertEquals(smalls, 0, "small reads stay on this thread");
    // 6 MiB a read: the helper starts within the next six large reads, and only once.
    const [, started] = await countingWorkers(async () => {
      for (let i = 0; i < 12; i++) {
        assertSameTensors(await reader!.get("long"), want, `read ${i}`);
        assertSameTensors(
          await reader!.get("long", { frames: [100, 2900] }),
          await plain!.get("long", { frames: [100, 2900] }),
          `frames, read ${i}`,
        );
      }
    });
    assertEquals(started, twoCores ? 1 : 0);
    const [, never] = await countingWorkers(async () => {
      for (let i = 0; i < 12; i++) await plain!.get("long");
    });
    assertEquals(never, 0, "parallelReadBytes: Infinity never starts one");
    if (python) {
      const digest = await h5pyCacheDigest(python, dir);
      const got = await reader.get("long");
      for (const [name, t] of Object.entries(got)) {
        assertEquals(await tensorDigest(t), digest.long[name], `long/${name} vs h5py`);
      }
    }
  } finally {
    reader?.close();
    plain?.close();
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
