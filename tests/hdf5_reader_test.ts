import { seededRandom as rng } from "./helpers/random.ts";
import { FormatError, KeyError } from "../errors.ts";
import { deflateSync } from "../deps.ts";
import { shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { bytesOf, type DType, DTYPES, elementCount } from "../formats/dtype.ts";
import type { DatasetSpec, FilterSpec } from "../formats/hdf5/dataset_spec.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import { isUnsupported, NativeH5File, UnsupportedHdf5Error } from "../formats/hdf5/reader/mod.ts";
import { Lru } from "../formats/hdf5/reader/lru.ts";
import { createInflater } from "../formats/zlib_codec.ts";
import { H5File } from "../formats/h5wasm/h5_file.ts";
import { loadH5wasm } from "../formats/h5wasm/module.ts";
import { NativeFirstReader, openShard, ShardCache } from "../formats/shard_reader.ts";
import { readSample } from "../formats/read_sample.ts";
import { openCache } from "../ops/cache_reader.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import { sha256 } from "./helpers/hdf5_py.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const PYTHON = await findH5pyPython();
const ignore = ignoreWithout(PYTHON, "python3 with h5py");
const python = () => requireTool(PYTHON, "python3 with h5py");

const scratch = Deno.makeTempDirSync({ prefix: "hdf5_reader_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));

/** A hyperslab to compare: start and count per axis. */
interface Slab {
  start: number[];
  count: number[];
}

interface Probe {
  path: string;
  slabs: Slab[];
}

interface Dumped {
  dtype: string;
  shape: number[];
  full: string;
  slabs: string[];
}

// What h5py reads: SHA-256 of the C-order bytes of each dataset, whole and per hyperslab.
const DUMP = String.raw`
import h5py, hashlib, json, sys
import numpy as np
path, probes = sys.argv[1], json.load(open(sys.argv[2]))
h = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
out = {}
with h5py.File(path, "r") as f:
    for p in probes:
        d = f[p["path"]]
        out[p["path"]] = dict(dtype=str(d.dtype), shape=list(d.shape), full=h(d[()]),
            slabs=[h(d[tuple(slice(s, s + c) for s, c in zip(x["start"], x["count"]))]) for x in p["slabs"]])
print(json.dumps(out))
`;

async function h5pyDump(file: string, probes: Probe[]): Promise<Record<string, Dumped>> {
  const json = `${file}.probes.json`;
  await Deno.writeTextFile(json, JSON.stringify(probes));
  return JSON.parse(await runPython(python(), DUMP, [file, json]));
}

/** Edge and random hyperslabs of `shape`: first/last rows, a 1-row slab, a random box. */
function slabsFor(shape: number[], r: () => number): Slab[] {
  if (shape.length === 0) return [];
  const full = shape.slice();
  const rows = (a: number, b: number): Slab => ({
    start: shape.map((_, i) => (i === 0 ? a : 0)),
    count: full.map((d, i) => (i === 0 ? b - a : d)),
  });
  const n = shape[0];
  const out = [rows(0, 0), rows(0, n)];
  if (n > 0) out.push(rows(0, 1), rows(n - 1, n), rows(Math.floor(n / 3), n));
  if (n > 2) out.push(rows(1, n - 1));
  const start = shape.map((d) => Math.floor(r() * (d + 1)));
  out.push({ start, count: shape.map((d, i) => Math.floor(r() * (d - start[i] + 1))) });
  return out;
}

async function hashOf(data: ArrayBufferView): Promise<string> {
  return await sha256(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Asserts that every probe reads natively exactly as h5py read it. */
async function assertSameAsH5py(file: string, probes: Probe[]): Promise<number> {
  const want = await h5pyDump(file, probes);
  const f = NativeH5File.open(file);
  let checked = 0;
  try {
    for (const p of probes) {
      const w = want[p.path];
      const info = f.describe(p.path);
      assertEquals([info.dtype, info.shape], [w.dtype, w.shape], p.path);
      assertEquals(await hashOf(f.read(p.path).data), w.full, `${p.path} whole`);
      for (const [i, s] of p.slabs.entries()) {
        const t = f.read(p.path, s);
        assertEquals(t.shape, s.count, `${p.path} slab shape`);
        assertEquals(await hashOf(t.data), w.slabs[i], `${p.path} slab ${JSON.stringify(s)}`);
        checked++;
      }
      checked++;
    }
  } finally {
    f.close();
  }
  return checked;
}

const ALL_DTYPES = Object.keys(DTYPES) as DType[];
const NAMES = ["a", "utt", "é", "日本", "😀", "\uFF5E", "~", "1034", "11", "x y", "Ω", "b.c"];

/** A random dataset spec written our way: rank 0..3, T = 0 and 1 included, any filters. */
function randomSpec(r: () => number, dtype: DType): DatasetSpec {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const size = DTYPES[dtype].size;
  const rank = int(0, 3);
  const shape = Array.from(
    { length: rank },
    (_, i) => (i === 0 ? [0, 1, int(2, 60)][int(0, 2)] : int(1, 9)),
  );
  const raw = new Uint8Array(elementCount(shape) * size);
  for (let i = 0; i < raw.length; i++) raw[i] = dtype === "bool" ? int(0, 1) : int(0, 255);
  if (rank === 0 || r() < 0.15) return { dtype, shape, layout: { kind: "contiguous", bytes: raw } };
  const chunkShape = shape.map((d, i) => (i === 0 ? int(1, Math.max(d, 8)) : int(1, d)));
  const filters: FilterSpec[] = [];
  if (r() < 0.5) filters.push({ id: "shuffle" });
  if (r() < 0.7) filters.push({ id: "deflate", level: int(1, 9) });
  const chunks = [...splitChunks(raw, shape, chunkShape, size)].map((c) => {
    let b = filters.some((f) => f.id === "shuffle") ? shuffleBytes(c, size) : c;
    const d = filters.find((f) => f.id === "deflate");
    if (d && d.id === "deflate") b = new Uint8Array(deflateSync(b, { level: d.level }));
    return b;
  });
  return { dtype, shape, layout: { kind: "chunked", chunkShape, filters, chunks } };
}

Deno.test({
  name:
    "NativeH5File reads our writer's files bit-exactly as h5py does (all dtypes, ranks 0-3, slabs)",
  ignore,
  async fn() {
    const r = rng(11);
    const file = `${scratch}/ours.h5`;
    const w = Hdf5FileWriter.create(file);
    const probes: Probe[] = [];
    const used = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const dtype = i < ALL_DTYPES.length ? ALL_DTYPES[i] : ALL_DTYPES[Math.floor(r() * 12)];
      let path: string;
      do {
        const depth = 1 + Math.floor(r() * 3);
        path = [
          ...Array.from({ length: depth }, () => NAMES[Math.floor(r() * NAMES.length)]),
          `d${i}`,
        ]
          .join("/");
      } while (used.has(path));
      used.add(path);
      const spec = randomSpec(r, dtype);
      w.writeDataset(path, spec);
      probes.push({ path, slabs: slabsFor(spec.shape, r) });
    }
    // T = 0 and T = 1, shuffle on and off, float16 and bool, explicitly.
    for (
      const [name, dtype, t, shuffle] of [
        ["edge/t0", "float16", 0, true],
        ["edge/t1", "float16", 1, false],
        ["edge/t1s", "bool", 1, true],
        ["edge/i64", "int64", 37, true],
      ] as const
    ) {
      const shape = [t, 5];
      const raw = new Uint8Array(elementCount(shape) * DTYPES[dtype].size).map((_, i) =>
        dtype === "bool" ? i % 2 : (i * 7) & 255
      );
      const filters: FilterSpec[] = shuffle
        ? [{ id: "shuffle" }, { id: "deflate", level: 4 }]
        : [{ id: "deflate", level: 4 }];
      const chunkShape = [t === 0 ? 8 : Math.min(t, 8), 5];
      const chunks = [...splitChunks(raw, shape, chunkShape, DTYPES[dtype].size)].map((c) =>
        new Uint8Array(deflateSync(shuffle ? shuffleBytes(c, DTYPES[dtype].size) : c))
      );
      w.writeDataset(name, {
        dtype,
        shape,
        layout: { kind: "chunked", chunkShape, filters, chunks },
      });
      probes.push({ path: name, slabs: slabsFor(shape, r) });
    }
    w.close();
    const checked = await assertSameAsH5py(file, probes);
    assert(checked > 500, `only ${checked} reads compared`);
  },
});

Deno.test({
  name: "NativeH5File lists groups in h5py's order and looks names up by UTF-8 bytes",
  ignore,
  async fn() {
    const file = `${scratch}/names.h5`;
    const w = Hdf5FileWriter.create(file);
    const names = ["\uFF5E", "😀", "a", "B", "é", "103", "1034", "11", "x y", "z.v2"];
    for (const n of names) {
      w.writeDataset(`g/${n}`, {
        dtype: "int32",
        shape: [],
        layout: { kind: "contiguous", bytes: new Uint8Array(new Int32Array([n.length]).buffer) },
      });
    }
    w.close();
    const py = await runPython(
      python(),
      `import h5py, sys, json\nprint(json.dumps(list(h5py.File(sys.argv[1], "r")["g"].keys())))`,
      [file],
    );
    const f = NativeH5File.open(file);
    try {
      assertEquals(f.names("g"), JSON.parse(py));
      // Listed once and kept: what a caller does to its copy never reaches the next call.
      const listed = f.names("/g");
      listed.reverse().push("stray");
      assertEquals(f.names("g/"), JSON.parse(py));
      for (const n of names) assertEquals(f.kind(`/g/${n}`), "dataset", n);
      assertEquals(f.kind("g"), "group");
      assertEquals(f.kind("/g/nope"), undefined);
      assertEquals(f.kind("/g/a/below_a_dataset"), undefined);
      assertThrows(() => f.describe("/g"), {
        name: "FormatError",
        message: /no readable dataset at \/g$/,
      });
      assertThrows(() => f.names("/g/a"), {
        name: "FormatError",
        message: /cannot list group \/g\/a/,
      });
      assertEquals(f.read("g/x y").data, new Int32Array([3]));
    } finally {
      f.close();
    }
  },
});

Deno.test({
  name: "NativeH5File finds keys in a 25k-sample shard by descending the B-tree",
  ignore,
  async fn() {
    const file = `${scratch}/flat25k.h5`;
    const w = Hdf5FileWriter.create(file);
    const n = 25_000;
    const valueOf = (i: number) => new Float32Array([i, i / 2, -i, 0.5]);
    const keyOf = (i: number) => `${(i * 7919) % 100_003}_utt${i}`;
    for (let i = 0; i < n; i++) {
      w.writeDataset(`${keyOf(i)}/v`, {
        dtype: "float32",
        shape: [4],
        layout: { kind: "contiguous", bytes: bytesOf(valueOf(i)) },
      });
    }
    w.close();
    const r = rng(5);
    const picks = Array.from({ length: 300 }, () => Math.floor(r() * n));
    const probes = picks.slice(0, 40).map((i) => ({ path: `${keyOf(i)}/v`, slabs: [] }));
    await assertSameAsH5py(file, probes);
    const f = NativeH5File.open(file);
    try {
      for (const i of picks) {
        assertEquals(f.read(`/${keyOf(i)}/v`).data, valueOf(i), keyOf(i));
      }
      assertEquals(f.kind(`${keyOf(0)}x`), undefined);
      assertEquals(f.kind("0"), undefined);
      assertEquals(f.kind("\u{10FFFF}"), undefined);
    } finally {
      f.close();
    }
  },
});

// h5py's defaults ('earliest'): auto chunks, gzip, shuffle, bool, contiguous, scalar, T = 0,
// plus a dataset with a non-zero fill value and unwritten chunks (native must hand it over).
const MAKE_H5PY = String.raw`
import h5py, numpy as np, sys
rng = np.random.default_rng(7)
with h5py.File(sys.argv[1], "w", libver=sys.argv[2]) as f:
    for i, t in enumerate(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]):
        a = (rng.standard_normal((rng.integers(1, 300), 3 + i)) * 100).astype(t)
        f.create_dataset(f"auto/{t}", data=a, chunks=True, compression="gzip", shuffle=i % 2 == 0)
        f.create_dataset(f"contig/{t}", data=a)
    f.create_dataset("bool/b", data=rng.random((57, 3)) < 0.5, compression="gzip")
    f.create_dataset("bool/contig", data=rng.random((5,)) < 0.5)
    f.create_dataset("s/scalar", data=np.float32(2.5))
    f.create_dataset("s/t0", data=np.zeros((0, 8), "f2"), chunks=(4, 8), maxshape=(None, 8))
    f.create_dataset("s/big", data=rng.standard_normal((1, 700, 80)).astype("f2"), chunks=(1, 64, 80), compression="gzip", compression_opts=4, shuffle=True)
    d = f.create_dataset("s/filled", shape=(40, 4), chunks=(8, 4), dtype="i4", fillvalue=7)
    d[0:8] = 1
    f.create_dataset("s/be", data=np.arange(12, dtype=">f4").reshape(3, 4), compression="gzip")
    f.create_dataset("s/complex", data=np.ones(3, np.complex64))
`;
const HANDED_OVER = ["s/filled", "s/be", "s/complex"];

Deno.test({
  name:
    "NativeH5File reads h5py's default files bit-exactly; fill values, big-endian and complex hand over to h5wasm",
  ignore,
  async fn() {
    const file = `${scratch}/h5py_default.h5`;
    await runPython(python(), MAKE_H5PY, [file, "earliest"]);
    const paths = JSON.parse(
      await runPython(
        python(),
        String.raw`import h5py, sys, json
out = []
h5py.File(sys.argv[1], "r").visititems(lambda n, o: out.append([n, list(o.shape)]) if isinstance(o, h5py.Dataset) else None)
print(json.dumps(out))`,
        [file],
      ),
    ) as [string, number[]][];
    const r = rng(3);
    const probes = paths.filter(([p]) => !HANDED_OVER.includes(p)).map(([path, shape]) => ({
      path,
      slabs: slabsFor(shape, r),
    }));
    assert(probes.length >= 25);
    await assertSameAsH5py(file, probes);

    const native = NativeH5File.open(file);
    assertThrows(
      () => native.read("s/filled"),
      (e) => e instanceof UnsupportedHdf5Error && /fill value/.test(e.message),
    );
    native.close();
    const module = await loadH5wasm();
    const mixed = openShard(module, file);
    assert(mixed instanceof NativeFirstReader);
    try {
      const got = readSample(mixed, "s", "s", "h5py_default.h5", { datasets: ["filled", "be"] });
      assertEquals(got.filled.data, new Int32Array(40 * 4).fill(7).fill(1, 0, 32));
      assertEquals(got.be.data, new Float32Array(12).map((_, i) => i));
      assertEquals(
        readSample(mixed, "s", "s", "h5py_default.h5", { datasets: ["be"], frames: [1, 3] }).be,
        { dtype: "float32", shape: [2, 4], data: new Float32Array(8).map((_, i) => i + 4) },
      );
      assertThrows(
        () => readSample(mixed, "s", "s", "h5py_default.h5", { datasets: ["complex"] }),
        (e) => e instanceof FormatError && /unsupported HDF5 datatype/.test(e.message),
      );
      assertThrows(
        () => readSample(mixed, "s", "s", "h5py_default.h5", { datasets: ["nope"] }),
        (e) => e instanceof KeyError && e.message.includes('no dataset "nope"'),
      );
    } finally {
      mixed.close();
    }
  },
});

Deno.test({
  name: "ShardCache falls back to h5wasm for an h5py file written with libver='latest'",
  ignore,
  async fn() {
    const file = `${scratch}/latest.h5`;
    await runPython(python(), MAKE_H5PY, [file, "latest"]);
    assertThrows(
      () => NativeH5File.open(file),
      (e) => e instanceof UnsupportedHdf5Error && /superblock version [23]/.test(e.message),
    );
    const module = await loadH5wasm();
    const cache = new ShardCache(module, 2);
    try {
      const f = cache.get(file);
      assert(f instanceof H5File, "expected the h5wasm reader");
      const probes = [{ path: "s/big", slabs: [] }, { path: "bool/b", slabs: [] }];
      const want = await h5pyDump(file, probes);
      const got = readSample(f, "s", "s", "latest.h5", { datasets: ["big"] });
      assertEquals(await hashOf(got.big.data), want["s/big"].full);
      const sliced = readSample(f, "s", "s", "latest.h5", {
        datasets: ["big"],
        frames: [600, 700],
      });
      assertEquals(sliced.big.shape, [1, 100, 80]);
    } finally {
      cache.clear();
    }
  },
});

/** Flips bytes in the middle of the first stored chunk of `dataset` (located by h5py). */
async function corruptFirstChunk(file: string, dataset: string): Promise<void> {
  const [offset, size] = JSON.parse(
    await runPython(
      python(),
      String.raw`import h5py, sys, json
c = h5py.File(sys.argv[1], "r")[sys.argv[2]].id.get_chunk_info(0)
print(json.dumps([c.byte_offset, c.size]))`,
      [file, dataset],
    ),
  );
  const f = await Deno.open(file, { read: true, write: true });
  const at = offset + Math.floor(size / 2);
  const b = new Uint8Array(4);
  await f.seek(at, Deno.SeekMode.Start);
  await f.read(b);
  await f.seek(at, Deno.SeekMode.Start);
  await f.write(b.map((x) => x ^ 0xff));
  f.close();
}

Deno.test({
  name: "NativeH5File reports a chunk with flipped bytes as a FormatError naming file and dataset",
  ignore,
  async fn() {
    const dir = `${scratch}/corrupt`;
    await Deno.mkdir(dir);
    const file = `${dir}/features_00001.h5`;
    const w = Hdf5FileWriter.create(file);
    const raw = new Uint8Array(64 * 16 * 2).map((_, i) => (i * 31) & 255);
    const chunkShape = [16, 16];
    const chunks = [...splitChunks(raw, [64, 16], chunkShape, 2)].map((c) =>
      new Uint8Array(deflateSync(c, { level: 4 }))
    );
    const spec: DatasetSpec = {
      dtype: "float16",
      shape: [64, 16],
      layout: { kind: "chunked", chunkShape, filters: [{ id: "deflate", level: 4 }], chunks },
    };
    w.writeDataset("k1/hidden_states", spec);
    w.writeDataset("k2/hidden_states", spec);
    w.close();
    await Deno.writeTextFile(
      `${dir}/hdf5_index.json`,
      JSON.stringify({
        sample_index: {
          k1: { file_idx: 1, group_name: "k1" },
          k2: { file_idx: 1, group_name: "k2" },
        },
        current_file_idx: 1,
        current_file_count: 2,
        samples_per_file: 10,
        use_float16: true,
      }),
    );
    await corruptFirstChunk(file, "k1/hidden_states");
    const f = NativeH5File.open(file);
    try {
      let error: unknown;
      try {
        f.read("k1/hidden_states");
      } catch (e) {
        error = e;
      }
      assert(error instanceof FormatError, `expected a FormatError, got ${error}`);
      assert(!isUnsupported(error), "corruption must not pass for 'unsupported'");
      assert(
        error.message.includes(file) && error.message.includes("/k1/hidden_states"),
        error.message,
      );
      // Frames past the corrupt chunk still read; the other sample is intact.
      assertEquals(f.read("k1/hidden_states", { start: [16, 0], count: [48, 16] }).shape, [48, 16]);
      assertEquals(bytesOf(f.read("k2/hidden_states").data), raw);
    } finally {
      f.close();
    }
    const cache = await openCache(dir);
    try {
      await assertRejects(
        () => cache.get("k1"),
        (e) => e instanceof FormatError && /\/k1\/hidden_states.*does not inflate/.test(e.message),
      );
      await assertRejects(
        () => cache.get("k1", { frames: [0, 70] }),
        (e) =>
          e instanceof FormatError && e.key === "k1" && e.dataset === "/k1/hidden_states" &&
          e.offset === 96,
      );
      await assertRejects(
        () => cache.get("k2", { datasets: ["nope"] }),
        (e) => e instanceof KeyError && e.message.includes('no dataset "nope"'),
      );
      assertEquals((await cache.get("k2", { frames: [60, 64] })).hidden_states.shape, [4, 16]);
    } finally {
      cache.close();
    }
  },
});

Deno.test("Lru keeps the native reader's caches within their entry and weight bounds", () => {
  const lru = new Lru<number, string>(3, 10);
  for (let i = 0; i < 5; i++) lru.set(i, `v${i}`, 2);
  assertEquals([lru.size, lru.get(0), lru.get(4)], [3, undefined, "v4"]);
  lru.get(2); // 2 becomes the most recent: 3 goes first
  lru.set(9, "heavy", 6);
  assertEquals([lru.get(3), lru.get(2), lru.get(9), lru.size], [undefined, "v2", "heavy", 3]);
  lru.set(10, "too heavy alone", 50);
  assertEquals([lru.size, lru.get(10)], [1, "too heavy alone"]);
});

Deno.test("createInflater inflates zlib streams, recovers after corrupt ones and reports sizes", () => {
  const inflater = createInflater();
  const r = rng(9);
  for (const size of [1, 1000, 12288, 200_000]) {
    const raw = new Uint8Array(size).map(() => Math.floor(r() * 40));
    const packed = new Uint8Array(deflateSync(raw, { level: 4 }));
    assertEquals(inflater.inflate(packed, size), raw, `${size} bytes`);
    const flipped = packed.slice();
    flipped[flipped.length >> 1] ^= 0xff;
    flipped[flipped.length - 1] ^= 0xff;
    assertThrows(() => inflater.inflate(flipped, size), /incorrect data check|invalid/);
    assertThrows(() => inflater.inflate(packed.subarray(0, packed.length - 5), size), Error);
    // The stream says how big it is: a wrong expectation shows in the length.
    assertEquals(inflater.inflate(packed, size + 100).length, size);
    assert(inflater.inflate(packed, Math.floor(size / 2)).length !== Math.floor(size / 2));
  }
});
