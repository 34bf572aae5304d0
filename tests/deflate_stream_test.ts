import { seededRandom as rng } from "./helpers/random.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "./helpers/assert.ts";
import { inflateSync } from "../deps.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { SampleError } from "../errors.ts";
import { chooseChunkShape, shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { allocate, bytesOf, type DType, DTYPES, elementCount } from "../formats/dtype.ts";
import type { Tensor } from "../formats/tensor.ts";
import { DeflateStream, type DeflateStreamOptions } from "../stages/deflate_stream.ts";
import {
  type EncodedSample,
  isFailure,
  type Sample,
  type SampleFailure,
} from "../stages/record.ts";

type Out = EncodedSample | SampleFailure;

async function run(
  records: (Sample | SampleFailure)[],
  options?: DeflateStreamOptions,
): Promise<Out[]> {
  return await Array.fromAsync(
    ReadableStream.from(records).pipeThrough(new DeflateStream(options)),
  );
}

/** A tensor whose bytes are half noise, half runs, so deflate has something to do. */
function tensor(dtype: DType, shape: number[], random: () => number): Tensor {
  const data = allocate(dtype, elementCount(shape));
  const bytes = bytesOf(data);
  for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.5 ? (random() * 256) | 0 : 7;
  if (dtype === "bool") { for (let i = 0; i < bytes.length; i++) bytes[i] &= 1; }
  return { dtype, shape, data };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks one dataset against an independent encoding of the original bytes. */
function checkDataset(
  got: EncodedSample,
  name: string,
  dtype: DType,
  shape: number[],
  original: Uint8Array,
  level: number,
  shuffle: boolean,
  chunkBytes?: number,
): void {
  const spec = got.datasets[name];
  const what = `${got.key}/${name} ${dtype}${JSON.stringify(shape)}`;
  assertStrictEquals(spec.dtype, dtype, what);
  assertEquals(spec.shape, shape, what);
  const size = DTYPES[dtype].size;
  if (shape.length === 0) {
    assertEquals(spec.layout, { kind: "contiguous", bytes: original }, what);
    return;
  }
  assert(spec.layout.kind === "chunked", what);
  const chunkShape = chooseChunkShape(shape, size, chunkBytes)!;
  assertEquals(spec.layout.chunkShape, chunkShape, what);
  assertEquals(spec.layout.filters, [
    ...(shuffle ? [{ id: "shuffle" }] : []),
    ...(level > 0 ? [{ id: "deflate", level }] : []),
  ], what);
  const expected = [...splitChunks(original, shape, chunkShape, size)].map((c) =>
    shuffle ? shuffleBytes(c, size) : c
  );
  assertStrictEquals(spec.layout.chunks.length, expected.length, what);
  spec.layout.chunks.forEach((chunk, i) => {
    const raw = level > 0 ? new Uint8Array(inflateSync(chunk)) : chunk;
    assert(equalBytes(raw, expected[i]), `${what} chunk ${i} differs`);
  });
}

const SHAPES: [DType, number[]][] = [
  ["float16", [600, 1024]], // several worker tasks
  ["float16", [1, 97, 80]],
  ["float32", [33, 7, 5]],
  ["int8", [1000]],
  ["int64", [3, 11]],
  ["bool", [5, 1, 9]],
  ["uint16", [1, 1, 40]],
  ["float64", [2, 3000]],
  ["float16", []],
  ["int32", [0, 16]],
  ["float16", [1, 0, 80]],
];

for (const workers of [0, 2]) {
  for (const [level, shuffle] of [[4, false], [6, true], [0, false], [0, true]] as const) {
    Deno.test(`DeflateStream chunks inflate back to splitChunks bytes (workers ${workers}, level ${level}, shuffle ${shuffle})`, async () => {
      const random = rng(workers * 100 + level * 10 + (shuffle ? 1 : 0));
      const samples: Sample[] = [];
      const originals: Uint8Array[][] = [];
      for (let s = 0; s < 3; s++) {
        const tensors: Record<string, Tensor> = {};
        const copies: Uint8Array[] = [];
        SHAPES.forEach(([dtype, shape], i) => {
          const t = tensor(dtype, [...shape], random);
          tensors[`t${i}`] = t;
          copies.push(bytesOf(t.data).slice()); // the stage may detach the original
        });
        samples.push({ key: `s${s}`, tensors });
        originals.push(copies);
      }
      const out = await run(samples, { workers, level, shuffle });
      assertEquals(out.map((r) => r.key), ["s0", "s1", "s2"]);
      out.forEach((r, s) => {
        assert(!isFailure(r), isFailure(r) ? r.error.message : "");
        SHAPES.forEach(([dtype, shape], i) =>
          checkDataset(r as EncodedSample, `t${i}`, dtype, shape, originals[s][i], level, shuffle)
        );
      });
    });
  }
}

Deno.test("DeflateStream honours chunkBytes and splits a tensor given as a view", async () => {
  const random = rng(5);
  const backing = tensor("float16", [50, 64], random);
  const view = (backing.data as Float16Array).subarray(64 * 10, 64 * 40);
  const original = bytesOf(view).slice();
  const [out] = await run([
    { key: "v", tensors: { x: { dtype: "float16", shape: [30, 64], data: view } } },
  ], { workers: 2, chunkBytes: 500 });
  assert(!isFailure(out));
  checkDataset(out as EncodedSample, "x", "float16", [30, 64], original, 4, false, 500);
  const layout = (out as EncodedSample).datasets.x.layout;
  assertEquals(layout.kind === "chunked" && layout.chunkShape, [3, 64]);
  // Not owned whole, so it was copied, not transferred away.
  assertStrictEquals(view.length, 30 * 64);
});

Deno.test("DeflateStream moves a tensor's own buffer to the worker instead of copying it", async () => {
  const small = tensor("float16", [10, 64], rng(12));
  const big = tensor("float16", [600, 1024], rng(13));
  const [out] = await run([{ key: "t", tensors: { small, big } }], { workers: 2 });
  assert(!isFailure(out));
  assertStrictEquals(small.data.byteLength, 0); // transferred: detached here
  assertStrictEquals(big.data.byteLength, 0); // several tasks: copied per part, then freed
  const kept = tensor("float16", [10, 64], rng(12));
  await run([{ key: "t", tensors: { kept } }], { workers: 0 });
  assertStrictEquals(kept.data.byteLength, 10 * 64 * 2);
});

Deno.test("DeflateStream encodes one tensor given under two names (its buffer moves once)", async () => {
  const t = tensor("float16", [40, 64], rng(6));
  const original = bytesOf(t.data).slice();
  const [out] = await run([{ key: "twice", tensors: { a: t, b: t } }], { workers: 2 });
  assert(!isFailure(out), isFailure(out) ? out.error.message : "");
  checkDataset(out as EncodedSample, "a", "float16", [40, 64], original, 4, false);
  checkDataset(out as EncodedSample, "b", "float16", [40, 64], original, 4, false);
});

Deno.test("DeflateStream keeps record order with workers=2 on many small and a few large samples", async () => {
  const random = rng(42);
  const records: (Sample | SampleFailure)[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 120; i++) {
    const key = `k${String(i).padStart(3, "0")}`;
    expected.push(key);
    if (i % 17 === 5) {
      records.push({ key, error: new Error("unreadable") });
    } else if (i % 40 === 3) {
      records.push({ key, tensors: { h: tensor("float16", [800, 1024], random) } });
    } else {
      records.push({ key, tensors: { m: tensor("float16", [1, 1 + (i % 9), 80], random) } });
    }
  }
  const out = await run(records, { workers: 2 });
  assertEquals(out.map((r) => r.key), expected);
  out.forEach((r, i) => assertStrictEquals(isFailure(r), i % 17 === 5, r.key));
  assertStrictEquals((out[5] as SampleFailure).error.message, "unreadable");
});

Deno.test("DeflateStream fills inputBytes, inputDTypes, origin and warnings", async () => {
  const random = rng(1);
  const converted: Sample = {
    key: "a",
    origin: "/c/a.npz",
    warnings: ["dataset h: 2 values beyond float16 range stored as inf"],
    inputBytes: 4000,
    inputDTypes: { h: "float32", ids: "int32" },
    tensors: { h: tensor("float16", [10, 100], random), ids: tensor("int32", [5], random) },
  };
  const plain: Sample = {
    key: "b",
    tensors: { h: tensor("float32", [10, 100], random), ok: tensor("bool", [3], random) },
  };
  const [a, b] = (await run([converted, plain], { workers: 1 })) as EncodedSample[];
  assertStrictEquals(a.inputBytes, 4000);
  assertEquals(a.inputDTypes, { h: "float32", ids: "int32" });
  assertStrictEquals(a.origin, "/c/a.npz");
  assertEquals(a.warnings, ["dataset h: 2 values beyond float16 range stored as inf"]);
  assertStrictEquals(b.inputBytes, 4003);
  assertEquals(b.inputDTypes, { h: "float32", ok: "bool" });
  assertEquals(Object.keys(b.datasets), ["h", "ok"]);
});

Deno.test("DeflateStream stores scalars contiguous and zero-size tensors with no chunks", async () => {
  const [out] = (await run([{
    key: "z",
    tensors: {
      n: { dtype: "int64", shape: [], data: new BigInt64Array([-5n]) },
      empty: { dtype: "float16", shape: [0, 1024], data: new Float16Array(0) },
    },
  }], { workers: 2, shuffle: true })) as EncodedSample[];
  assertEquals(out.datasets.n.layout, {
    kind: "contiguous",
    bytes: new Uint8Array(new BigInt64Array([-5n]).buffer),
  });
  assertEquals(out.datasets.empty.layout, {
    kind: "chunked",
    chunkShape: [8, 1024],
    filters: [{ id: "shuffle" }, { id: "deflate", level: 4 }],
    chunks: [],
  });
});

Deno.test("DeflateStream turns an inconsistent tensor into a failure naming key and dataset", async () => {
  const out = await run([
    {
      key: "bad",
      tensors: {
        fine: { dtype: "int8", shape: [2], data: new Int8Array(2) },
        x: { dtype: "float16", shape: [4, 4], data: new Float16Array(3) },
      },
    },
    { key: "next", tensors: { y: { dtype: "int8", shape: [2], data: new Int8Array(2) } } },
  ]);
  assert(isFailure(out[0]));
  const error = (out[0] as SampleFailure).error as SampleError;
  assert(error instanceof SampleError);
  assertStrictEquals(error.key, "bad");
  assertStrictEquals(error.dataset, "x");
  assert(!isFailure(out[1]));
});

Deno.test("DeflateStream turns a record without tensors into a failure and goes on", async () => {
  const out = await run([
    { key: "no-tensors" } as Sample,
    { key: "next", tensors: { y: { dtype: "int8", shape: [2], data: new Int8Array(2) } } },
  ], { workers: 1 });
  assert(isFailure(out[0]));
  assertMatch((out[0] as SampleFailure).error.message, /"no-tensors".*not a sample/);
  assert(!isFailure(out[1]));
});

/** Counts the workers created and terminated while `fn` runs; optionally swaps their module. */
async function withWorkers(
  fn: (count: { created: number; terminated: number }) => Promise<void>,
  moduleUrl?: URL,
): Promise<void> {
  const Real = globalThis.Worker;
  const count = { created: 0, terminated: 0 };
  class Counted extends Real {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(moduleUrl ?? url, options);
      count.created++;
    }
    override terminate(): void {
      count.terminated++;
      super.terminate();
    }
  }
  globalThis.Worker = Counted;
  try {
    await fn(count);
  } finally {
    globalThis.Worker = Real;
  }
}

Deno.test("DeflateStream terminates its workers when the stream closes", async () => {
  await withWorkers(async (count) => {
    const out = await run([{ key: "a", tensors: { h: tensor("float16", [400, 1024], rng(3)) } }]);
    assertStrictEquals(out.length, 1);
    assertStrictEquals(count.created, 2);
    assertStrictEquals(count.terminated, 2);
  });
});

Deno.test("DeflateStream cancellation terminates workers", async () => {
  await withWorkers(async (count) => {
    const random = rng(9);
    let pulled = 0;
    const source = new ReadableStream<Sample>({
      pull(c) {
        c.enqueue({ key: `k${pulled++}`, tensors: { h: tensor("float16", [400, 1024], random) } });
      },
    });
    const reader = source.pipeThrough(new DeflateStream({ workers: 2, maxInFlightBytes: 2 << 20 }))
      .getReader();
    const first = await reader.read();
    assertStrictEquals(first.value?.key, "k0");
    await reader.cancel("enough");
    assertStrictEquals(count.created, 2);
    assertStrictEquals(count.terminated, 2);
    const after = pulled;
    await new Promise((r) => setTimeout(r, 50));
    assertStrictEquals(pulled, after); // the source is no longer pulled
  });
});

Deno.test("DeflateStream aborted from the writable side terminates workers", async () => {
  await withWorkers(async (count) => {
    const stream = new DeflateStream({ workers: 2 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const written = writer.write({
      key: "a",
      tensors: { h: tensor("float16", [400, 1024], rng(4)) },
    });
    assertStrictEquals((await reader.read()).value?.key, "a");
    await written;
    await writer.abort(new Error("stop"));
    await assertRejects(() => reader.read(), /stop/);
    assert(count.created > 0);
    assertStrictEquals(count.terminated, count.created);
  });
});

Deno.test("DeflateStream bounds the raw bytes in flight", async () => {
  const random = rng(8);
  const sampleBytes = 128 * 1024 * 2;
  let pulled = 0;
  let received = 0;
  let peak = 0;
  const source = new ReadableStream<Sample>({
    pull(c) {
      if (pulled === 40) return c.close();
      pulled++;
      peak = Math.max(peak, pulled - received);
      c.enqueue({ key: `k${pulled}`, tensors: { h: tensor("float16", [128, 1024], random) } });
    },
  }, { highWaterMark: 0 });
  const stream = source.pipeThrough(
    new DeflateStream({ workers: 2, maxInFlightBytes: 4 * sampleBytes }),
  );
  for await (const _ of stream) received++;
  assertStrictEquals(received, 40);
  // Bound plus the record being admitted and one in the pipe's queue.
  assert(peak <= 4 + 2, `peak ${peak} samples in flight`);
});

Deno.test("DeflateStream admits a sample larger than maxInFlightBytes", async () => {
  const out = await run(
    [1, 2, 3].map((i) => ({ key: `${i}`, tensors: { h: tensor("float16", [64, 1024], rng(i)) } })),
    { maxInFlightBytes: 1 },
  );
  assertEquals(out.map((r) => isFailure(r)), [false, false, false]);
});

// A worker module that serves the real deflate task but misbehaves on marked tasks (a shape with 13 and 3).
async function faultyWorker(): Promise<URL> {
  const task = new URL("../stages/deflate_chunks.ts", import.meta.url).href;
  const pool = new URL("../util/worker_pool.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  await Deno.writeTextFile(
    file,
    `import { deflateTask } from ${JSON.stringify(task)};
import { serveTasksHere } from ${JSON.stringify(pool)};
serveTasksHere(deflateTask);
const serve = self.onmessage;
self.onmessage = (event) => {
  const { id, payload } = event.data;
  if (payload.shape.join() === "13,3") throw new Error("worker crashed");
  if (payload.shape.join() === "13,5") return self.postMessage({ id, error: { name: "Error", message: "chunk rejected", fields: {} } });
  serve(event);
};
`,
  );
  return new URL(`file://${file}`);
}

Deno.test("DeflateStream turns a worker error into a failure naming key and dataset, and goes on", async () => {
  const url = await faultyWorker();
  try {
    await withWorkers(async (count) => {
      const random = rng(11);
      const good = (key: string): Sample => ({
        key,
        tensors: { m: tensor("float16", [1, 20, 80], random) },
      });
      const out = await run([
        good("a"),
        {
          key: "crash",
          tensors: { ok: tensor("int8", [4], random), mel: tensor("float16", [13, 3], random) },
        },
        good("b"),
        { key: "reject", tensors: { x: tensor("float32", [13, 5], random) } },
        good("c"),
        good("d"),
      ], { workers: 1 });
      assertEquals(out.map((r) => r.key), ["a", "crash", "b", "reject", "c", "d"]);
      const crash = (out[1] as SampleFailure).error as SampleError;
      assert(crash instanceof SampleError);
      assertStrictEquals(crash.dataset, "mel");
      assertMatch(crash.message, /"crash".*"mel".*worker crashed/);
      const reject = (out[3] as SampleFailure).error as SampleError;
      assertStrictEquals(reject.dataset, "x");
      assertMatch(reject.message, /chunk rejected/);
      assert(!isFailure(out[4]) && !isFailure(out[5]), "the run goes on after a worker died");
      assert(count.created >= 2, "a replacement worker was started");
      assertStrictEquals(count.terminated, count.created);
    }, url);
  } finally {
    await Deno.remove(url);
  }
});

Deno.test("DeflateStream rejects bad options quoting the value", () => {
  for (
    const [options, pattern] of [
      [{ level: 10 }, /level.*10/],
      [{ level: 1.5 }, /level.*1\.5/],
      [{ workers: -1 }, /workers.*-1/],
      [{ chunkBytes: 0 }, /chunkBytes.*0/],
      [{ maxInFlightBytes: "64M" }, /maxInFlightBytes.*"64M"/],
    ] as [DeflateStreamOptions, RegExp][]
  ) {
    assertThrows(
      () => new DeflateStream(options),
      (e: unknown) => e instanceof RangeError && pattern.test(e.message),
    );
  }
  assertThrows(
    () => new DeflateStream({ shuffle: 1 as unknown as boolean }),
    (e: unknown) => e instanceof TypeError && /shuffle.*1/.test(e.message),
  );
});

const python = await findH5pyPython();

// h5py stores our compressed chunks as they are (write_direct_chunk), then reads the datasets
// back through HDF5's own filter pipeline: the independent check of chunk layout and filters.
const H5PY_READBACK = `
import sys, json, base64, numpy as np, h5py
m = json.load(open(sys.argv[1]))
with h5py.File(sys.argv[2], "w") as f:
    for i, d in enumerate(m):
        kw = {}
        if d["level"] > 0: kw.update(compression="gzip", compression_opts=d["level"])
        if d["shuffle"]: kw["shuffle"] = True
        ds = f.create_dataset(f"d{i}", shape=tuple(d["shape"]), dtype=np.dtype(d["dtype"]).newbyteorder("<"), chunks=tuple(d["chunkShape"]), **kw)
        grid = [-(-s // c) for s, c in zip(d["shape"], d["chunkShape"])]
        for k, c in enumerate(d["chunks"]):
            idx = np.unravel_index(k, grid)
            ds.id.write_direct_chunk(tuple(int(j) * c for j, c in zip(idx, d["chunkShape"])), base64.b64decode(c))
bad = []
with h5py.File(sys.argv[2], "r") as f:
    for i, d in enumerate(m):
        if f[f"d{i}"][...].tobytes() != base64.b64decode(d["original"]): bad.append(i)
print(json.dumps({"checked": len(m), "bad": bad}))
`;

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

Deno.test({
  name: "DeflateStream chunks read back through h5py's filter pipeline (write_direct_chunk)",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const random = rng(21);
    const shapes: [DType, number[]][] = [
      ["float16", [203, 1024]],
      ["float16", [1, 97, 80]],
      ["float32", [33, 7, 5]],
      ["int64", [3, 11]],
      ["uint16", [1000]],
      ["int8", [1, 1, 40]],
    ];
    const manifest: unknown[] = [];
    for (const [level, shuffle] of [[4, false], [4, true], [0, false], [9, true]] as const) {
      const tensors: Record<string, Tensor> = {};
      const originals: Uint8Array[] = [];
      shapes.forEach(([dtype, shape], i) => {
        tensors[`t${i}`] = tensor(dtype, shape, random);
        originals.push(bytesOf(tensors[`t${i}`].data).slice());
      });
      const [out] = await run([{ key: "h5", tensors }], { level, shuffle, workers: 2 });
      assert(!isFailure(out));
      shapes.forEach(([dtype, shape], i) => {
        const layout = (out as EncodedSample).datasets[`t${i}`].layout;
        assert(layout.kind === "chunked");
        manifest.push({
          dtype,
          shape,
          level,
          shuffle,
          chunkShape: layout.chunkShape,
          chunks: layout.chunks.map(base64),
          original: base64(originals[i]),
        });
      });
    }
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/m.json`, JSON.stringify(manifest));
      const result = JSON.parse(
        await runPython(py, H5PY_READBACK, [`${dir}/m.json`, `${dir}/x.h5`]),
      );
      assertEquals(result, { checked: manifest.length, bad: [] });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
