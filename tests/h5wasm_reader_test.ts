import { FormatError } from "../errors.ts";
import { bytesOf } from "../formats/dtype.ts";
import { H5File } from "../formats/h5wasm/h5_file.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

const scratch = Deno.makeTempDirSync({ prefix: "h5wasm_reader_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));

// Every dtype we map, in both byte orders where it matters, chunked and contiguous, a scalar,
// an empty dataset, shuffle+deflate and no filter; Python dumps the little-endian bytes.
const MAKE = String.raw`
import h5py, numpy as np, sys, json
rng = np.random.default_rng(3)
path, dump = sys.argv[1], sys.argv[2]
out = {}
with h5py.File(path, "w") as f:
    def put(name, a, **kw):
        f.create_dataset(name, data=a, **kw)
        le = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
        out[name] = dict(dtype=str(le.dtype), shape=list(a.shape), hex=np.ascontiguousarray(le).tobytes().hex())
    g = f.create_group("types")
    for t in ["f2", "f4", "f8"]:
        put("types/" + t, (rng.standard_normal((6, 5)) * 100).astype(t), compression="gzip")
        put("types/be_" + t, (rng.standard_normal((6, 5)) * 100).astype(">" + t))
    for t in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
        info = np.iinfo(t)
        put("types/" + t, rng.integers(info.min, info.max, (7,), dtype=t, endpoint=True))
    put("types/be_i4", np.array([1, -2, 3], dtype=">i4"))
    put("types/bool", np.array([[True, False, True], [False, False, True]]))
    put("types/scalar", np.float32(2.5))
    put("types/empty", np.zeros((0, 8), np.float16), chunks=(4, 8), maxshape=(None, 8))
    put("shuffled", rng.standard_normal((40, 33)).astype("f2"), compression="gzip", shuffle=True, chunks=(7, 10))
    put("a/b/c/mel", rng.standard_normal((1, 57, 80)).astype("f2"), compression="gzip", compression_opts=4)
    f.create_dataset("odd/complex", data=np.ones(3, np.complex64))
    f.create_group("odd/empty_group")
json.dump(out, open(dump, "w"))
`;

interface Dumped {
  dtype: string;
  shape: number[];
  hex: string;
}

let made: Promise<{ file: string; dump: Record<string, Dumped> }> | undefined;
function sample() {
  made ??= (async () => {
    const file = `${scratch}/types.h5`;
    const dump = `${scratch}/types.json`;
    await runPython(requireTool(python, "python3 with h5py"), MAKE, [file, dump]);
    return { file, dump: JSON.parse(await Deno.readTextFile(dump)) };
  })();
  return made;
}

function hex(data: ArrayBufferView): string {
  return [...bytesOf(data as Uint8Array)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const NUMPY_TO_DTYPE: Record<string, string> = {
  float16: "float16",
  float32: "float32",
  float64: "float64",
  int8: "int8",
  int16: "int16",
  int32: "int32",
  int64: "int64",
  uint8: "uint8",
  uint16: "uint16",
  uint32: "uint32",
  uint64: "uint64",
  bool: "bool",
};

Deno.test({
  name: "H5File reads every supported dtype bit-exactly, big-endian ones as little-endian",
  ignore,
  async fn() {
    const { file, dump } = await sample();
    const h5 = await H5File.open(file);
    try {
      for (const [path, want] of Object.entries(dump)) {
        const t = h5.read(path);
        assertEquals(t.dtype, NUMPY_TO_DTYPE[want.dtype], path);
        assertEquals(t.shape, want.shape, path);
        assertEquals(hex(t.data), want.hex, path);
      }
      assert(h5.read("types/f2").data instanceof Float16Array);
      assert(h5.read("types/i8").data instanceof BigInt64Array);
      assertEquals(h5.read("types/scalar").shape, []);
    } finally {
      h5.close();
    }
  },
});

Deno.test({
  name: "H5File reads hyperslabs equal to slices of the whole dataset",
  ignore,
  async fn() {
    const { file } = await sample();
    const h5 = await H5File.open(file);
    try {
      const whole = h5.read("shuffled").data as Float16Array;
      for (const [r0, n] of [[0, 1], [6, 2], [13, 27], [39, 1], [0, 40], [5, 0]]) {
        const t = h5.read("shuffled", { start: [r0, 0], count: [n, 33] });
        assertEquals(t.shape, [n, 33]);
        assertEquals(hex(t.data), hex(whole.subarray(r0 * 33, (r0 + n) * 33)), `rows ${r0}+${n}`);
      }
      const cols = h5.read("shuffled", { start: [2, 9], count: [3, 4] }).data as Float16Array;
      const want: number[] = [];
      for (let r = 2; r < 5; r++) want.push(...whole.subarray(r * 33 + 9, r * 33 + 13));
      assertEquals(hex(cols), hex(Float16Array.from(want)));
      const mel = h5.read("a/b/c/mel", { start: [0, 50, 0], count: [1, 7, 80] });
      assertEquals(mel.shape, [1, 7, 80]);
      for (const bad of [{ start: [0, 0], count: [41, 33] }, { start: [-1, 0] }, { start: [0] }]) {
        assertThrows(
          () => h5.read("shuffled", bad),
          (e: Error) =>
            e instanceof RangeError && /shuffled/.test(e.message) && /\[40,33\]/.test(e.message),
        );
      }
    } finally {
      h5.close();
    }
  },
});

Deno.test({
  name: "H5File describes datasets and lists groups",
  ignore,
  async fn() {
    const { file } = await sample();
    const h5 = await H5File.open(file);
    try {
      const info = h5.datasetInfo("shuffled");
      assertEquals([info.dtype, info.shape, info.chunkShape], ["float16", [40, 33], [7, 10]]);
      assertEquals(info.filters.map((f) => f.id), [2, 1]);
      const contiguous = h5.datasetInfo("types/be_f4");
      assertEquals([contiguous.chunkShape, contiguous.filters], [undefined, []]);
      assertEquals(h5.datasetInfo("types/bool").dtype, "bool");
      assertEquals(h5.children("/"), [
        { name: "a", kind: "group" },
        { name: "odd", kind: "group" },
        { name: "shuffled", kind: "dataset" },
        { name: "types", kind: "group" },
      ]);
      assertEquals(h5.names("odd"), ["complex", "empty_group"]);
      assertEquals([h5.kind("a/b"), h5.kind("a/b/c/mel"), h5.kind("nope")], [
        "group",
        "dataset",
        undefined,
      ]);
    } finally {
      h5.close();
    }
  },
});

Deno.test({
  name: "H5File errors name the file and the object",
  ignore,
  async fn() {
    const { file } = await sample();
    await assertRejects(
      H5File.open(`${scratch}/missing.h5`),
      (e: Error) => e instanceof FormatError && e.file === `${scratch}/missing.h5`,
    );
    await Deno.writeTextFile(`${scratch}/text.h5`, "plain text, not HDF5");
    await assertRejects(H5File.open(`${scratch}/text.h5`), /text\.h5: cannot open as HDF5/);
    const h5 = await H5File.open(file);
    try {
      assertThrows(
        () => h5.read("a/b/none"),
        (e: Error) => e instanceof FormatError && e.file === file && /\/a\/b\/none/.test(e.message),
      );
      assertThrows(
        () => h5.read("odd/complex"),
        (e: Error) =>
          e instanceof FormatError &&
          /odd\/complex: unsupported HDF5 datatype \(class 6/.test(e.message),
      );
      assertThrows(() => h5.children("nope"), /cannot list group \/nope/);
    } finally {
      h5.close();
    }
    assertEquals(h5.isOpen, false);
    assertThrows(() => h5.read("shuffled"), /file is closed/);
  },
});
