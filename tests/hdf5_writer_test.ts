import { seededRandom as rng } from "./helpers/random.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "./helpers/assert.ts";
import {
  findH5dump,
  findH5pyPython,
  ignoreWithout,
  requireTool,
  runPython,
} from "./helpers/interop.ts";
import { checkWithH5py, type ExpectedDataset, sha256 } from "./helpers/hdf5_py.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import type { DatasetSpec, FilterSpec } from "../formats/hdf5/dataset_spec.ts";
import { type DType, DTYPES, elementCount } from "../formats/dtype.ts";
import { shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { deflateSync } from "../deps.ts";
import { FormatError, KeyError } from "../errors.ts";
import { h5wasm } from "../deps.ts";

const PYTHON = await findH5pyPython();
const H5DUMP = await findH5dump();
const NO_PY = ignoreWithout(PYTHON, "python3 with h5py");
const NO_DUMP = ignoreWithout(H5DUMP, "h5dump");

interface Case {
  path: string;
  spec: DatasetSpec;
  expected: ExpectedDataset;
  raw: Uint8Array;
}

const ALL_DTYPES = Object.keys(DTYPES) as DType[];
const NAME_PARTS = ["a", "b", "utt", "é", "日本", "😀", "\uFF5E", "~", "1034", "11", "x y", "Ω"];

/** A random dataset: rank 0..3 (0-length and 1-length first axes included), any dtype. */
async function randomCase(r: () => number, path: string, dtype?: DType): Promise<Case> {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  dtype ??= pick(ALL_DTYPES);
  const size = DTYPES[dtype].size;
  const rank = int(0, 3);
  const shape = Array.from(
    { length: rank },
    (_, i) => (i === 0 ? pick([0, 1, int(2, 45)]) : int(1, 9)),
  );
  const raw = new Uint8Array(elementCount(shape) * size);
  for (let i = 0; i < raw.length; i++) raw[i] = dtype === "bool" ? int(0, 1) : int(0, 255);
  let spec: DatasetSpec;
  let chunks: number[] | null = null;
  let deflate: number | null = null;
  let shuffle = false;
  if (rank === 0 || r() < 0.15) {
    spec = { dtype, shape, layout: { kind: "contiguous", bytes: raw } };
  } else {
    const chunkShape = shape.map((d, i) => (i === 0 ? int(1, Math.max(d, 8)) : int(1, d)));
    shuffle = r() < 0.5;
    deflate = r() < 0.7 ? int(0, 9) : null;
    const filters: FilterSpec[] = [];
    if (shuffle) filters.push({ id: "shuffle" });
    if (deflate !== null) filters.push({ id: "deflate", level: deflate });
    const out = [...splitChunks(raw, shape, chunkShape, size)].map((c) => {
      let b = shuffle ? shuffleBytes(c, size) : c;
      if (deflate !== null) b = new Uint8Array(deflateSync(b, { level: deflate }));
      return b;
    });
    spec = { dtype, shape, layout: { kind: "chunked", chunkShape, filters, chunks: out } };
    chunks = chunkShape;
  }
  const expected = { path, dtype, shape, chunks, deflate, shuffle, sha256: await sha256(raw) };
  return { path, spec, expected, raw };
}

function randomPath(r: () => number, used: Set<string>): string {
  for (;;) {
    const depth = 1 + Math.floor(r() * 3);
    const names = Array.from(
      { length: depth },
      () => NAME_PARTS[Math.floor(r() * NAME_PARTS.length)],
    );
    const path = [...names, `d${Math.floor(r() * 1000)}`].join("/");
    // A path must not be a prefix of another (a dataset cannot hold children).
    if (
      ![...used].some((u) => u === path || u.startsWith(path + "/") || path.startsWith(u + "/"))
    ) {
      used.add(path);
      return path;
    }
  }
}

async function randomCases(seed: number, n: number): Promise<Case[]> {
  const r = rng(seed);
  const used = new Set<string>();
  const cases: Case[] = [];
  // Every dtype at least once, then random ones.
  for (let i = 0; i < n; i++) {
    cases.push(
      await randomCase(r, randomPath(r, used), i < ALL_DTYPES.length ? ALL_DTYPES[i] : undefined),
    );
  }
  return cases;
}

async function h5dumpClean(file: string): Promise<void> {
  const out = await new Deno.Command(requireTool(H5DUMP, "h5dump"), {
    args: [file],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals({ code: out.code, stderr: new TextDecoder().decode(out.stderr) }, {
    code: 0,
    stderr: "",
  });
}

async function assertH5py(
  file: string,
  cases: readonly { expected: ExpectedDataset }[],
): Promise<void> {
  const res = await checkWithH5py(requireTool(PYTHON, "h5py"), file, cases.map((c) => c.expected));
  assertEquals(res.bad, []);
  assertEquals(res.checked, cases.length);
}

// deno-lint-ignore no-explicit-any
type H5Module = any;
let wasm: Promise<H5Module> | undefined;

/** Reads every case's raw bytes with h5wasm's low-level API (float16 included) and a hyperslab. */
async function assertH5wasm(file: string, cases: readonly Case[]): Promise<void> {
  const m = await (wasm ??= h5wasm.ready);
  const fid = m.open(file, m.H5F_ACC_RDONLY, false, -1, -1);
  try {
    for (const c of cases) {
      const p = "/" + c.path;
      const meta = m.get_dataset_metadata(fid, p);
      assertEquals([p, meta.shape, meta.size], [p, c.spec.shape, DTYPES[c.spec.dtype].size]);
      const n = c.raw.length;
      const ptr = m._malloc(Math.max(n, 1));
      try {
        if (n > 0) {
          m.get_dataset_data(fid, p, null, null, null, BigInt(ptr));
          assertStrictEquals(
            await sha256(m.HEAPU8.slice(ptr, ptr + n)),
            c.expected.sha256,
            `${p} via h5wasm`,
          );
          const shape = c.spec.shape;
          if (shape.length > 0 && shape[0] > 2) {
            // Rows [1, shape0-1): a hyperslab crossing chunk boundaries.
            const rows = shape[0] - 2;
            const rowBytes = n / shape[0];
            const count = [BigInt(rows), ...shape.slice(1).map(BigInt)];
            const offset = [1n, ...shape.slice(1).map(() => 0n)];
            m.get_dataset_data(fid, p, count, offset, shape.map(() => 1n), BigInt(ptr));
            assertEquals(
              m.HEAPU8.slice(ptr, ptr + rows * rowBytes),
              c.raw.slice(rowBytes, rowBytes * (rows + 1)),
              `${p} rows`,
            );
          }
        }
      } finally {
        m._free(ptr);
      }
    }
  } finally {
    m.close_file(fid);
  }
}

function writeAll(file: string, cases: readonly Case[]): void {
  const w = Hdf5FileWriter.create(file);
  for (const c of cases) w.writeDataset(c.path, c.spec);
  w.close();
}

const tmp = await Deno.makeTempDir({ prefix: "hdf5_writer_test_" });
addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

Deno.test("Hdf5FileWriter round-trips random datasets bit-exactly in h5wasm", async () => {
  for (const seed of [1, 2, 3]) {
    const cases = await randomCases(seed, 40);
    const file = `${tmp}/wasm_${seed}.h5`;
    writeAll(file, cases);
    await assertH5wasm(file, cases);
  }
});

Deno.test({
  name: "Hdf5FileWriter round-trips random datasets bit-exactly in h5py and h5dump",
  ignore: NO_PY || NO_DUMP,
  fn: async () => {
    for (const seed of [11, 12, 13]) {
      const cases = await randomCases(seed, 40);
      const file = `${tmp}/py_${seed}.h5`;
      writeAll(file, cases);
      await assertH5py(file, cases);
      await h5dumpClean(file);
    }
  },
});

const MODIFY = String.raw`
import h5py, sys
import numpy as np
path, empty = sys.argv[1], sys.argv[2]
with h5py.File(path, "r+") as f:
    def rewrite(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.chunks and obj.size > 0:
            data = obj[()]
            obj[...] = np.zeros_like(data)   # chunks change size: B-tree nodes rewritten
            obj[...] = data
    f.visititems(rewrite)
    d = f[empty]
    d.resize((5,) + d.shape[1:])
    d[...] = np.ones(d.shape, d.dtype)
with h5py.File(path, "a") as f:
    f.attrs["appended"] = 1
    g = f.create_group("appended/group")
    g.create_dataset("gz", data=np.arange(1000, dtype="i4"), compression="gzip", chunks=(100,))
with h5py.File(path, "r") as f:
    assert (f["appended/group/gz"][:] == np.arange(1000)).all()
    assert (f[empty][:] == 1).all(), f[empty][:]
    print("ok")
`;

Deno.test({
  name: "Hdf5FileWriter files survive h5py 'r+' rewrites and 'a' appends, then re-read bit-exactly",
  ignore: NO_PY || NO_DUMP,
  fn: async () => {
    const cases = await randomCases(21, 40);
    const empty: DatasetSpec = {
      dtype: "float16",
      shape: [0, 3],
      layout: {
        kind: "chunked",
        chunkShape: [4, 3],
        filters: [{ id: "deflate", level: 4 }],
        chunks: [],
      },
    };
    const file = `${tmp}/modify.h5`;
    const w = Hdf5FileWriter.create(file);
    for (const c of cases) w.writeDataset(c.path, c.spec);
    w.writeDataset("zero/T0", empty);
    w.close();
    const python = requireTool(PYTHON, "h5py");
    assertEquals((await runPython(python, MODIFY, [file, "zero/T0"])).trim(), "ok");
    await assertH5py(file, cases);
    await h5dumpClean(file);

    // Our writer resumes the file h5py changed (its root header now has a continuation).
    const r = Hdf5FileWriter.resume(file);
    assert(r.has("appended/group/gz") && r.has("zero/T0"));
    r.writeDataset("after/x", smallSpec(8));
    r.close();
    await assertH5py(file, cases);
    const out = await runPython(
      python,
      String.raw`
import h5py, sys
import numpy as np
f = h5py.File(sys.argv[1], "r")
print(f.attrs["appended"], (f["appended/group/gz"][:] == np.arange(1000)).all(), f["zero/T0"].shape, f["after/x"][:].tolist())
`,
      [file],
    );
    assertEquals(out.trim(), "1 True (5, 3) [8, 9, 10]");
    await h5dumpClean(file);
  },
});

const ATTRIBUTES = String.raw`
import h5py, sys, json
f = h5py.File(sys.argv[1], "r")
def plain(v):
    return v.decode() if isinstance(v, bytes) else v.item() if hasattr(v, "item") else v
out = {p: {k: [plain(v), type(plain(v)).__name__, str(f[p].attrs[k].dtype) if hasattr(f[p].attrs[k], "dtype") else "bytes"] for k, v in f[p].attrs.items()} for p in ["g", "g/d"]}
print(json.dumps(out, sort_keys=True))
`;

Deno.test({
  name: "Hdf5FileWriter attributes on groups and datasets read back in h5py with their types",
  ignore: NO_PY,
  fn: async () => {
    const file = `${tmp}/attrs.h5`;
    const w = Hdf5FileWriter.create(file);
    w.createGroup("g", { count: 3, ratio: 0.5, flag: true, name: "日本語 ok", big: 2n ** 63n });
    w.writeDataset("g/d", { ...smallSpec(1), attributes: { neg: -7, empty: "", no: false } });
    w.close();
    const out = JSON.parse(await runPython(requireTool(PYTHON, "h5py"), ATTRIBUTES, [file]));
    assertEquals(out, {
      g: {
        big: [9223372036854775808, "int", "uint64"],
        count: [3, "int", "int64"],
        flag: [true, "bool", "bool"],
        name: ["日本語 ok", "str", "|S12"],
        ratio: [0.5, "float", "float64"],
      },
      "g/d": {
        empty: ["", "str", "|S0"],
        neg: [-7, "int", "int64"],
        no: [false, "bool", "bool"],
      },
    });
  },
});

function smallSpec(value: number): DatasetSpec {
  const raw = new Uint8Array(new Int32Array([value, value + 1, value + 2]).buffer);
  return {
    dtype: "int32",
    shape: [3],
    layout: {
      kind: "chunked",
      chunkShape: [2],
      filters: [{ id: "deflate", level: 4 }],
      chunks: [...splitChunks(raw, [3], [2], 4)].map((c) => new Uint8Array(deflateSync(c))),
    },
  };
}

/** A contiguous dataset big enough to bypass the write buffer. */
function bigSpec(): DatasetSpec {
  return {
    dtype: "uint8",
    shape: [1 << 20],
    layout: { kind: "contiguous", bytes: new Uint8Array(1 << 20).fill(9) },
  };
}

const LIST = String.raw`
import h5py, sys, json
out = {}
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()].tolist()
    f.visititems(visit)
print(json.dumps(out, sort_keys=True))
`;

async function listDatasets(file: string): Promise<Record<string, number[]>> {
  return JSON.parse(await runPython(requireTool(PYTHON, "h5py"), LIST, [file]));
}

const expect = (...entries: [string, number][]) =>
  Object.fromEntries(entries.map(([k, v]) => [k, [v, v + 1, v + 2]]));

Deno.test({
  name:
    "Hdf5FileWriter: abort keeps exactly the last checkpoint; the longer file still opens; resume continues",
  ignore: NO_PY || NO_DUMP,
  fn: async () => {
    const file = `${tmp}/checkpoint.h5`;
    const w = Hdf5FileWriter.create(file);
    w.writeDataset("s/1/x", smallSpec(10));
    w.writeDataset("s/2/x", smallSpec(20));
    w.checkpoint();
    const eof = w.size;
    w.writeDataset("s/3/x", smallSpec(30));
    w.writeDataset("s/1/y", smallSpec(40));
    w.checkpoint();
    const eof2 = w.size;
    w.writeDataset("s/4/x", smallSpec(50)); // lost: no checkpoint after it
    w.writeDataset("s/5/big", bigSpec()); // goes straight to disk, past the stored EOF
    w.abort();
    assert(eof2 > eof);
    const length = (await Deno.stat(file)).size;
    assert(length > eof2, `file ${length} should extend past its EOF ${eof2} after abort`);
    const checkpointed = expect(["s/1/x", 10], ["s/1/y", 40], ["s/2/x", 20], ["s/3/x", 30]);
    // Readers ignore bytes past the stored EOF (as after kill -9 following a checkpoint).
    assertEquals(await listDatasets(file), checkpointed);
    await h5dumpClean(file);

    const r = Hdf5FileWriter.resume(file);
    assertEquals(r.size, eof2);
    assertEquals((await Deno.stat(file)).size, eof2);
    assertEquals(r.sampleGroups().sort(), ["s/1", "s/2", "s/3"]);
    assert(r.has("s/1/y") && r.has("s/3") && !r.has("s/4") && !r.has("s/1/z"));
    assertThrows(() => r.writeDataset("s/2/x", smallSpec(0)), KeyError);
    r.writeDataset("s/4/x", smallSpec(60));
    r.writeDataset("t/1/x", smallSpec(70));
    r.close();
    assertEquals(await listDatasets(file), {
      ...checkpointed,
      ...expect(["s/4/x", 60], ["t/1/x", 70]),
    });
    await h5dumpClean(file);

    // A second resume sees everything once.
    const again = Hdf5FileWriter.resume(file);
    assertEquals(again.sampleGroups().sort(), ["s/1", "s/2", "s/3", "s/4", "t/1"]);
    again.abort();
  },
});

Deno.test({
  name:
    "Hdf5FileWriter.unlink drops a sample and its emptied implicit parents at the next checkpoint",
  ignore: NO_PY,
  fn: async () => {
    const file = `${tmp}/unlink.h5`;
    const w = Hdf5FileWriter.create(file);
    w.writeDataset("a/b/c/x", smallSpec(1));
    w.writeDataset("a/d/x", smallSpec(2));
    w.createGroup("kept", { note: "explicit" });
    w.writeDataset("kept/x", smallSpec(3));
    w.checkpoint();
    w.unlink("a/b/c/x");
    w.unlink("kept/x");
    assert(!w.has("a/b") && w.has("a/d/x") && w.has("kept"));
    assertThrows(() => w.unlink("a/b"), KeyError);
    w.writeDataset("a/d/y", smallSpec(4));
    w.close();
    assertEquals(await listDatasets(file), expect(["a/d/x", 2], ["a/d/y", 4]));
    const groups = await runPython(
      requireTool(PYTHON, "h5py"),
      `import h5py,sys; f=h5py.File(sys.argv[1]); print(sorted(f.keys()), sorted(f['a'].keys()), f['kept'].attrs['note'])`,
      [file],
    );
    assertEquals(groups.trim(), "['a', 'kept'] ['d'] b'explicit'");
  },
});

Deno.test("Hdf5FileWriter refuses bad paths with KeyError naming them", () => {
  const w = Hdf5FileWriter.create(`${tmp}/names.h5`);
  try {
    w.writeDataset("g/x", smallSpec(1));
    for (const bad of ["", "a//b", "a/./b", "a/\0", "g/x", "g/x/y", "g/"]) {
      const e = assertThrowsKey(() => w.writeDataset(bad, smallSpec(1)));
      assert(e.message.includes(JSON.stringify(bad)), e.message);
    }
    assertThrows(() => w.createGroup("g/x"), KeyError);
    assertThrows(() => w.unlink("nope"), KeyError);
    assertEquals(w.has("g/x/y"), false);
  } finally {
    w.abort();
  }
});

function assertThrowsKey(fn: () => void): KeyError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof KeyError, String(e));
    return e;
  }
  throw new Error("expected a KeyError");
}

Deno.test("Hdf5FileWriter.resume refuses a non-HDF5 file and a never-checkpointed file with FormatError", () => {
  const junk = `${tmp}/junk.h5`;
  Deno.writeFileSync(junk, new Uint8Array(200).fill(7));
  assertThrows(
    () => Hdf5FileWriter.resume(junk),
    (e: unknown) =>
      e instanceof FormatError && e.message.includes(junk) && /signature/.test(e.message),
  );
  const fresh = `${tmp}/fresh.h5`;
  const w = Hdf5FileWriter.create(fresh);
  w.writeDataset("x", bigSpec());
  w.abort();
  assertThrows(
    () => Hdf5FileWriter.resume(fresh),
    (e: unknown) => e instanceof FormatError && /no checkpoint/.test(e.message),
  );
  Deno.writeFileSync(fresh, new Uint8Array(0));
  assertThrows(
    () => Hdf5FileWriter.resume(fresh),
    (e: unknown) => e instanceof FormatError && /too short/.test(e.message),
  );
});

const H5PY_FILE = String.raw`
import h5py, sys
import numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["origin"] = "h5py"
    for i in range(30):
        f.create_dataset(f"spk/{i:03d}/hidden_states", data=np.arange(12, dtype="f2").reshape(4, 3) + i, chunks=(2, 3), compression="gzip")
    f["spk"].attrs["n"] = 30
`;

Deno.test({
  name:
    "Hdf5FileWriter.resume continues a file h5py wrote (default libver), keeping its attributes",
  ignore: NO_PY || NO_DUMP,
  fn: async () => {
    const python = requireTool(PYTHON, "h5py");
    const file = `${tmp}/from_h5py.h5`;
    await runPython(python, H5PY_FILE, [file]);
    const w = Hdf5FileWriter.resume(file);
    assertEquals(w.sampleGroups().length, 30);
    assert(w.has("spk/007/hidden_states"));
    w.writeDataset("spk/100/hidden_states", smallSpec(5));
    w.createGroup("spk", { added: true });
    w.close();
    const out = await runPython(
      python,
      String.raw`
import h5py, sys
import numpy as np
f = h5py.File(sys.argv[1], "r")
ok = all((f[f"spk/{i:03d}/hidden_states"][()] == np.arange(12, dtype="f2").reshape(4, 3) + i).all() for i in range(30))
print(ok, f.attrs["origin"], f["spk"].attrs["n"], f["spk"].attrs["added"], f["spk/100/hidden_states"][()].tolist(), len(f["spk"]))
`,
      [file],
    );
    assertEquals(out.trim(), "True h5py 30 True [5, 6, 7] 31");
    await h5dumpClean(file);
  },
});

Deno.test("Hdf5FileWriter.checkpoint rewrites only groups changed since the last checkpoint", () => {
  const w = Hdf5FileWriter.create(`${tmp}/incremental.h5`);
  try {
    for (let i = 0; i < 100; i++) w.writeDataset(`spk/${i}/x`, smallSpec(i));
    w.checkpoint();
    const first = w.size;
    w.checkpoint();
    w.createGroup("spk/7");
    assertEquals(w.size, first);
    const before = w.size;
    w.writeDataset("spk/100/x", smallSpec(100));
    const data = w.size - before;
    w.checkpoint();
    // Rewritten: the new sample group, spk (101 children: ~6.5 KB) and root, ~7.6 KB in all;
    // any old sample group rewritten as well would add over 900 bytes.
    const meta = w.size - before - data;
    assert(meta < 8192, `checkpoint wrote ${meta} bytes of group metadata`);
  } finally {
    w.abort();
  }
});

const CHILD = (writerUrl: string, file: string) => `
import { Hdf5FileWriter } from ${JSON.stringify(writerUrl)};
const w = Hdf5FileWriter.create(${JSON.stringify(file)});
const big = new Uint8Array(1 << 18);
for (let i = 0; ; i++) {
  const bytes = new Uint8Array(new Int32Array([i, i + 1, i + 2]).buffer);
  w.writeDataset("s/" + i + "/x", { dtype: "int32", shape: [3], layout: { kind: "contiguous", bytes } });
  w.writeDataset("s/" + i + "/pad", { dtype: "uint8", shape: [big.length], layout: { kind: "contiguous", bytes: big } });
  if (i % 20 === 19) {
    w.checkpoint();
    console.log(i + 1);
  }
}
`;

Deno.test({
  name:
    "Hdf5FileWriter survives kill -9 mid-write: h5py reads the last checkpoint, resume continues",
  ignore: NO_PY,
  fn: async () => {
    const file = `${tmp}/killed.h5`;
    const script = `${tmp}/child.ts`;
    await Deno.writeTextFile(
      script,
      CHILD(new URL("../formats/hdf5/file_writer.ts", import.meta.url).href, file),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n60\n") && !text.startsWith("60\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await lines.cancel();
    const done = Math.max(...text.trim().split("\n").map(Number));
    assert(done >= 60, text);
    const python = requireTool(PYTHON, "h5py");
    const check = String.raw`
import h5py, sys
f = h5py.File(sys.argv[1], "r")
n = len(f["s"])
ok = all(f[f"s/{i}/x"][()].tolist() == [i, i + 1, i + 2] for i in range(n))
print(n, ok)
`;
    const [n, ok] = (await runPython(python, check, [file])).trim().split(" ");
    assertEquals(ok, "True");
    assert(
      Number(n) >= done && Number(n) % 20 === 0,
      `h5py sees ${n} samples, ${done} checkpointed`,
    );

    const r = Hdf5FileWriter.resume(file);
    assertEquals(r.sampleGroups().length, Number(n));
    r.writeDataset(`s/${n}/x`, smallSpec(Number(n)));
    r.close();
    assertEquals((await runPython(python, check, [file])).trim(), `${Number(n) + 1} True`);
  },
});

const OUTSIDE_PROFILE = String.raw`
import h5py, sys
import numpy as np
d = sys.argv[1]
with h5py.File(d + "/soft.h5", "w") as f:
    f["a/d"] = np.arange(3)
    f["a/s"] = h5py.SoftLink("/a/d")
with h5py.File(d + "/latest.h5", "w", libver="latest") as f:
    f["a/d"] = np.arange(3)
with h5py.File(d + "/newstyle.h5", "w") as f:
    f["a/d"] = np.arange(3)
with h5py.File(d + "/newstyle.h5", "a") as f:
    f["a/a\u00f1adido"] = np.arange(3)
`;

Deno.test({
  name:
    "Hdf5FileWriter.resume refuses soft links, libver 'latest' and new-style groups with FormatError",
  ignore: NO_PY,
  fn: async () => {
    const dir = `${tmp}/outside`;
    await Deno.mkdir(dir);
    await runPython(requireTool(PYTHON, "h5py"), OUTSIDE_PROFILE, [dir]);
    const cases: [string, RegExp][] = [
      ["soft.h5", /"s" is a soft link/],
      ["latest.h5", /superblock version [23]/],
      ["newstyle.h5", /new-style group/],
    ];
    for (const [name, why] of cases) {
      const path = `${dir}/${name}`;
      const before = await Deno.readFile(path);
      assertThrows(
        () => Hdf5FileWriter.resume(path),
        (e: unknown) => e instanceof FormatError && e.message.includes(path) && why.test(e.message),
      );
      assertEquals(await Deno.readFile(path), before, `${name} must be left untouched`);
    }
  },
});
