import { assert, assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import {
  assertMatchesNumpy,
  assertSameBytes,
  catchFormatError,
  numpyFixtures,
  ramp,
} from "./helpers/npz_fixtures.ts";
import { decodeNpy, encodeNpy } from "../formats/npy.ts";
import { bytesOf, type DType, DTYPES } from "../formats/dtype.ts";
import { FormatError } from "../errors.ts";

const python = await findH5pyPython();
const noPython = ignoreWithout(python, "python3 with numpy");

// Each fixture: a name and the numpy expression saved to <name>.npy.
const CASES: Record<string, string> = {
  f2: "rng.standard_normal((5, 7)).astype('<f2')",
  f4: "rng.standard_normal((6, 1024)).astype('<f4')",
  f8: "rng.standard_normal((3, 4, 5))",
  f4_special: "np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4e38], '<f4')",
  f4_nan_payload: "np.array([0x7fa00001, 0xffc12345], '<u4').view('<f4')",
  i1: "np.arange(-128, 128, dtype='i1')",
  u1: "np.arange(256, dtype='u1').reshape(16, 16)",
  i2: "np.arange(-300, 300, 7, dtype='<i2')",
  u2: "np.arange(0, 65535, 999, dtype='<u2')",
  i4: "np.arange(-2**31, 2**31 - 1, 2**27, dtype='<i4')",
  u4: "np.arange(0, 2**32 - 1, 2**28, dtype='<u4')",
  i8: "np.array([-2**63, -1, 0, 1, 2**63 - 1], '<i8')",
  u8: "np.array([0, 1, 2**64 - 1, 2**53 + 1], '<u8')",
  b1: "np.array([[True, False, True], [False, False, True]])",
  be_f4: "rng.standard_normal((4, 9)).astype('>f4')",
  be_f8: "rng.standard_normal(11).astype('>f8')",
  be_i8: "np.array([-2**63, -5, 2**40 + 3], '>i8')",
  be_u2: "np.arange(0, 65535, 4099, dtype='>u2')",
  be_f2: "rng.standard_normal(9).astype('>f2')",
  fortran_f4: "np.asfortranarray(rng.standard_normal((7, 13)).astype('<f4'))",
  fortran_f8_3d: "np.asfortranarray(rng.standard_normal((3, 5, 4)))",
  fortran_i1_3d: "np.asfortranarray(np.arange(60, dtype='i1').reshape(3, 4, 5))",
  fortran_i2: "np.asfortranarray(np.arange(20, dtype='<i2').reshape(4, 5))",
  fortran_be_f4: "np.asfortranarray(rng.standard_normal((3, 6)).astype('>f4'))",
  fortran_u8_mel: "np.asfortranarray(np.arange(2 * 6 * 3, dtype='<u8').reshape(2, 6, 3))",
  fortran_1d: "np.asfortranarray(np.arange(5, dtype='<f4'))",
  scalar_f8: "np.array(3.25)",
  scalar_i4: "np.array(-7, '<i4')",
  zero_rows: "np.zeros((0, 1024), '<f4')",
  zero_fortran: "np.asfortranarray(np.zeros((3, 0, 2), '<f4'))",
  one_frame_mel: "rng.standard_normal((1, 1, 80)).astype('<f4')",
};

const VERSIONS = `
a = rng.standard_normal((3, 4)).astype('<f4')
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(path('v%d.npy' % v[0]), 'wb') as f:
        np.lib.format.write_array(f, a, version=v)
expect('versions', a)
`;

function fixtureScript(): string {
  return Object.entries(CASES).map(([name, expr]) =>
    `a = ${expr}\nnp.save(path('${name}.npy'), a)\nexpect('${name}', a)\n`
  ).join("") + VERSIONS;
}

Deno.test({
  name: "decodeNpy reads numpy's files bit-exactly (dtypes, byte orders, Fortran, 0-d, empty)",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      const expected = await numpyFixtures(py, dir, fixtureScript());
      for (const name of Object.keys(CASES)) {
        const t = decodeNpy(await Deno.readFile(`${dir}/${name}.npy`), `${name}.npy`);
        assertMatchesNumpy(t, expected[name], name);
        assertEquals(t.data.length, expected[name].bytes.length / DTYPES[t.dtype].size);
      }
      for (const v of [1, 2, 3]) {
        const t = decodeNpy(await Deno.readFile(`${dir}/v${v}.npy`), `v${v}.npy`);
        assertMatchesNumpy(t, expected.versions, `version ${v}.0`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "encodeNpy writes the same bytes as numpy.save for C-order little-endian arrays",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      await numpyFixtures(py, dir, fixtureScript());
      const same = Object.keys(CASES).filter((n) =>
        !/^(be_|fortran_)/.test(n) || n === "fortran_1d"
      );
      for (const name of same) {
        const file = await Deno.readFile(`${dir}/${name}.npy`);
        assertSameBytes(encodeNpy(decodeNpy(file, name)), file, name);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "encodeNpy output loads in numpy with the same dtype, shape and values",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      const shapes: [DType, number[]][] = [
        ["float16", [3, 5]],
        ["float32", [7, 1024]],
        ["float64", []],
        ["int8", [4, 4]],
        ["int16", [9]],
        ["int32", [2, 3, 4]],
        ["int64", [5]],
        ["uint8", [0, 3]],
        ["uint16", [6]],
        ["uint32", [1, 1, 8]],
        ["uint64", [3]],
        ["bool", [10]],
      ];
      for (const [dtype, shape] of shapes) {
        const t = ramp(dtype, shape, dtype.startsWith("float") ? 0.25 : 1);
        await Deno.writeFile(`${dir}/${dtype}.npy`, encodeNpy(t));
        await Deno.writeFile(`${dir}/${dtype}.raw`, bytesOf(t.data));
      }
      const out = await runPython(
        py,
        `
import json, sys, numpy as np
d = sys.argv[1]
res = {}
for name in sys.argv[2:]:
    a = np.load(f'{d}/{name}.npy')
    raw = open(f'{d}/{name}.raw', 'rb').read()
    res[name] = [a.dtype.name, list(a.shape), a.flags['C_CONTIGUOUS'], a.tobytes() == raw]
print(json.dumps(res))
`,
        [dir, ...shapes.map(([d]) => d)],
      );
      const res = JSON.parse(out);
      for (const [dtype, shape] of shapes) {
        assertEquals(res[dtype], [dtype, shape, true, true], dtype);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "decodeNpy names numpy's object, structured, string and complex arrays",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      await numpyFixtures(
        py,
        dir,
        `
np.save(path('object.npy'), np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
np.save(path('structured.npy'), np.zeros(2, dtype=[('x', '<f4'), ('y', '<i2')]))
np.save(path('string.npy'), np.array(['ab', 'cde']))
np.save(path('complex.npy'), np.zeros(3, np.complex64))
`,
      );
      const cases: [string, RegExp][] = [
        ["object", /unsupported dtype "\|O" \(Python objects\)/],
        ["structured", /structured dtype/],
        ["string", /unsupported dtype "<U3" \(unicode strings\)/],
        ["complex", /unsupported dtype "<c8" \(complex numbers\)/],
      ];
      for (const [name, pattern] of cases) {
        const file = `${dir}/${name}.npy`;
        const e = catchFormatError(() => decodeNpy(Deno.readFileSync(file), file));
        assertMatch(e.message, new RegExp(`^${dir}/${name}\\.npy: `));
        assertMatch(e.message, pattern);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("decodeNpy returns a view for aligned little-endian C-order data", () => {
  const t = ramp("float32", [600, 1024], 0.5);
  const bytes = encodeNpy(t);
  const back = decodeNpy(bytes, "x.npy");
  assert(back.data.buffer === bytes.buffer, "no copy expected");
  assertEquals(back.data.byteOffset, 128);
  assertEquals(back.data[1000], 500);
});

Deno.test("decodeNpy copies unaligned data correctly", () => {
  const bytes = encodeNpy(ramp("float64", [3, 3], 1.5));
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const back = decodeNpy(shifted.subarray(1), "x.npy");
  assertEquals(Array.from(back.data as Float64Array), [0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12]);
});

Deno.test("encodeNpy round-trips every dtype through decodeNpy", () => {
  for (const dtype of Object.keys(DTYPES) as DType[]) {
    for (const shape of [[], [0], [5], [2, 3], [1, 4, 3]]) {
      const t = ramp(dtype, shape);
      const back = decodeNpy(encodeNpy(t), `${dtype}.npy`);
      assertEquals(back.dtype, dtype);
      assertEquals(back.shape, shape);
      assertSameBytes(bytesOf(back.data), bytesOf(t.data), `${dtype} ${shape}`);
    }
  }
});

Deno.test("encodeNpy switches to version 2.0 when the header outgrows 64 KiB", () => {
  const shape = new Array(22000).fill(1);
  const bytes = encodeNpy({ dtype: "uint8", shape, data: new Uint8Array([9]) });
  assertEquals([bytes[6], bytes[7]], [2, 0]);
  assertEquals((bytes.length - 1) % 64, 0);
  const back = decodeNpy(bytes, "big.npy");
  assertEquals(back.shape.length, 22000);
  assertEquals(back.data[0], 9);
});

Deno.test("encodeNpy pads the header with spaces to 64 bytes and ends it with a newline", () => {
  for (const shape of [[], [3], [123456, 2], [1, 2, 3, 4, 5, 6]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = encodeNpy({ dtype: "int8", shape, data: new Int8Array(n) });
    const headerLen = bytes[8] | (bytes[9] << 8);
    assertEquals((10 + headerLen) % 64, 0);
    assertEquals(bytes[10 + headerLen - 1], 0x0a);
    assertEquals(bytes.length, 10 + headerLen + n);
  }
});

Deno.test("encodeNpy rejects a tensor whose data does not fit its shape", () => {
  assertThrows(
    () => encodeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) }),
    /needs 4 elements/,
  );
});

/** An NPY file with a hand-written header text and `data`. */
function npyWith(header: string, data = new Uint8Array(0), version = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const pre = version === 1 ? 10 : 12;
  const out = new Uint8Array(pre + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, text.length, true);
  else v.setUint32(8, text.length, true);
  out.set(text, pre);
  out.set(data, pre + text.length);
  return out;
}

function assertFormatError(bytes: Uint8Array, pattern: RegExp, array?: string): void {
  const err = (() => {
    try {
      decodeNpy(bytes, "feat/LJ001-0001.npy", array);
    } catch (e) {
      return e;
    }
    throw new Error(`expected a FormatError matching ${pattern}`);
  })();
  assert(err instanceof FormatError, `not a FormatError: ${err}`);
  assertEquals(err.file, "feat/LJ001-0001.npy");
  assertMatch(err.message, /^feat\/LJ001-0001\.npy: /);
  assertMatch(err.message, pattern);
}

Deno.test("decodeNpy names the file and the dtype for unsupported dtypes", () => {
  const h = (descr: string) => `{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }\n`;
  assertFormatError(npyWith(h("'|O'")), /unsupported dtype "\|O" \(Python objects\)/);
  assertFormatError(npyWith(h("'<U5'")), /"<U5" \(unicode strings\)/);
  assertFormatError(npyWith(h("'|S3'")), /"\|S3" \(byte strings\)/);
  assertFormatError(npyWith(h("'<c8'")), /"<c8" \(complex numbers\)/);
  assertFormatError(npyWith(h("'<M8[ns]'")), /"<M8\[ns\]" \(datetimes\)/);
  assertFormatError(npyWith(h("'<f16'")), /unsupported dtype "<f16"/);
  assertFormatError(npyWith(h("[('a', '<f4'), ('b', '<i4')]")), /structured dtype/);
  assertFormatError(npyWith(h("'|V8'")), /raw void/, "hidden_states");
  assertFormatError(npyWith(h("'|V8'")), /array "hidden_states": unsupported/, "hidden_states");
});

Deno.test("decodeNpy names a truncated or garbled file", () => {
  const good = encodeNpy(ramp("float32", [4, 8]));
  assertFormatError(good.subarray(0, 5), /truncated: 5 bytes/);
  assertFormatError(good.subarray(0, 40), /truncated: the header claims 118 bytes/);
  assertFormatError(good.subarray(0, good.length - 1), /needs 128 data bytes, only 127 follow/);
  assertFormatError(new TextEncoder().encode("PK\x03\x04 not numpy at all"), /no \\x93NUMPY/);
  const v9 = good.slice();
  v9[6] = 9;
  assertFormatError(v9, /unsupported NPY version 9\.0/);
  assertFormatError(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"), /garbled/);
  assertFormatError(npyWith("{'descr': '<f4', 'fortran_order': False}\n"), /no valid shape/);
  assertFormatError(npyWith("{'descr': '<f4', 'shape': (1,)}"), /no boolean fortran_order/);
  assertFormatError(npyWith("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"), /fortran_order/);
  assertFormatError(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), /shape/);
  assertFormatError(npyWith("[1, 2]"), /garbled NPY header \(expected \{/);
  assertFormatError(npyWith("{'descr: '<f4'}"), /garbled/);
  assertFormatError(npyWith("{" + "x".repeat(5000)), /garbled NPY header .*"\{x{119}\.\.\."$/);
});

Deno.test("decodeNpy accepts Python 2 long shapes, version 2 headers and normalizes bool", () => {
  const header = "{'descr': '|b1', 'fortran_order': False, 'shape': (2L, 2L), }\n";
  const t = decodeNpy(npyWith(header, new Uint8Array([0, 1, 2, 255]), 2), "old.npy");
  assertEquals(t.shape, [2, 2]);
  assertEquals(Array.from(t.data as Uint8Array), [0, 1, 1, 1]);
});

Deno.test("decodeNpy fuzz: every truncation and byte flip is a FormatError or a decode", () => {
  const good = encodeNpy(ramp("int16", [3, 5]));
  for (let cut = 0; cut < good.length; cut++) {
    assertThrows(() => decodeNpy(good.subarray(0, cut), "f.npy"), FormatError);
  }
  for (let i = 0; i < 128; i++) {
    for (const x of [0x00, 0x27, 0x29, 0x7b, 0xff]) {
      const bad = good.slice();
      bad[i] = x;
      try {
        decodeNpy(bad, "f.npy");
      } catch (e) {
        assert(e instanceof FormatError, `flip ${i}=${x}: ${e}`);
      }
    }
  }
});
