import { assert, assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import {
  assertMatchesNumpy,
  assertSameBytes,
  catchFormatError,
  numpyFixtures,
  ramp,
  utterance,
} from "./helpers/npz_fixtures.ts";
import { decodeNpz, DEFAULT_MAX_SAMPLE_BYTES, encodeNpz } from "../formats/npz.ts";
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";
import { listZip, readZipEntry } from "../formats/zip_reader.ts";
import { writeZip } from "../formats/zip_writer.ts";
import { FLAG_DATA_DESCRIPTOR } from "../formats/zip_records.ts";
import { encodeNpy } from "../formats/npy.ts";
import { bytesOf, type DType, DTYPES } from "../formats/dtype.ts";
import { FormatError } from "../errors.ts";

const python = await findH5pyPython();
const noPython = ignoreWithout(python, "python3 with numpy");

const NUMPY_NPZ = `
h = rng.standard_normal((37, 1024)).astype('<f4')
m = rng.standard_normal((1, 37, 80)).astype('<f4')
arrays = {
    'hidden_states': h,
    'mel_spectrogram': m,
    'f8': rng.standard_normal((4, 3)),
    'i8': np.array([-2**63, 7, 2**63 - 1], '<i8'),
    'flags': np.array([True, False, True]),
    'one': rng.standard_normal((1, 1, 80)).astype('<f4'),
    'scalar': np.array(2.5),
    'fort': np.asfortranarray(rng.standard_normal((5, 6)).astype('<f4')),
    'big': rng.standard_normal((3, 4)).astype('>f4'),
    'empty': np.zeros((0, 80), '<f4'),
    'mél_ß': np.arange(4, dtype='<i2'),
}
for k, a in arrays.items():
    expect(k, a)
np.savez(path('stored.npz'), **arrays)
np.savez_compressed(path('deflated.npz'), **arrays)
class Unseekable:
    # A pipe-like sink: zipfile then writes data descriptors after each member.
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
    def read(self, n=-1): raise OSError('write-only')
    def tell(self): raise OSError('unseekable')
    def seekable(self): return False
with open(path('streamed.npz'), 'wb') as f:
    np.savez_compressed(Unseekable(f), **arrays)
`;

// zipfile's force_zip64 (as numpy writes members), next to a plain stored member.
const ZIP64 = `
import io
def npy(a):
    b = io.BytesIO(); np.save(b, a); return b.getvalue()
with zipfile.ZipFile(path('zip64.npz'), 'w', zipfile.ZIP_DEFLATED) as z:
    with z.open('hidden_states.npy', 'w', force_zip64=True) as f:
        np.lib.format.write_array(f, h)
    z.writestr('mel_spectrogram.npy', npy(m), compress_type=zipfile.ZIP_STORED)
`;

async function withNumpyNpz<T>(
  fn: (dir: string, expected: Awaited<ReturnType<typeof numpyFixtures>>) => Promise<T>,
): Promise<T> {
  const py = requireTool(python, "python3 with numpy");
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir, await numpyFixtures(py, dir, NUMPY_NPZ + ZIP64));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "decodeNpz reads numpy savez, savez_compressed, streamed and zip64 archives bit-exactly",
  ignore: noPython,
  fn: () =>
    withNumpyNpz(async (dir, expected) => {
      const streamed = await Deno.readFile(`${dir}/streamed.npz`);
      const described = listZip(streamed, "streamed.npz").every((e) =>
        e.flags & FLAG_DATA_DESCRIPTOR
      );
      assert(described, "zipfile writes data descriptors to an unseekable file");
      for (const file of ["stored.npz", "deflated.npz", "streamed.npz"]) {
        const arrays = decodeNpz(await Deno.readFile(`${dir}/${file}`), file);
        assertEquals(Object.keys(arrays).sort(), Object.keys(expected).sort());
        for (const [name, t] of Object.entries(arrays)) {
          assertMatchesNumpy(t, expected[name], `${file} ${name}`);
        }
      }
      const z = decodeNpz(await Deno.readFile(`${dir}/zip64.npz`), "zip64.npz");
      assertMatchesNumpy(z.hidden_states, expected.hidden_states, "zip64 hidden_states");
      assertMatchesNumpy(z.mel_spectrogram, expected.mel_spectrogram, "zip64 mel_spectrogram");
    }),
});

Deno.test({
  name: "encodeNpz archives load in numpy.load, stored or deflated as asked",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      const arrays = {
        ...utterance(23),
        ids: ramp("int64", [4]),
        mask: ramp("bool", [2, 5]),
        half: ramp("float16", [3, 2], 0.5),
        "naïve_名": ramp("uint16", [3]),
        scalar: ramp("float64", []),
      };
      for (const name of Object.keys(arrays)) {
        await Deno.writeFile(`${dir}/${name}.raw`, bytesOf(arrays[name as "ids"].data));
      }
      await Deno.writeFile(`${dir}/stored.npz`, encodeNpz(arrays, { compress: false }));
      await Deno.writeFile(`${dir}/deflated.npz`, encodeNpz(arrays, { compress: true }));
      await Deno.writeFile(
        `${dir}/forced64.npz`,
        writeZip(
          Object.entries(arrays).map(([n, t]) => ({ name: `${n}.npy`, parts: [encodeNpy(t)] })),
          { compress: true, forceZip64: true },
        ),
      );
      const out = await runPython(
        py,
        `
import json, sys, zipfile, numpy as np
d = sys.argv[1]
res = {}
for f in ['stored', 'deflated', 'forced64']:
    p = f'{d}/{f}.npz'
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None
        methods = sorted({i.compress_type for i in z.infolist()})
    with np.load(p) as npz:
        arrays = {k: [npz[k].dtype.name, list(npz[k].shape),
                      npz[k].tobytes() == open(f'{d}/{k}.raw', 'rb').read()] for k in npz.files}
    res[f] = {'methods': methods, 'arrays': arrays}
print(json.dumps(res))
`,
        [dir],
      );
      const res = JSON.parse(out);
      const want = Object.fromEntries(
        Object.entries(arrays).map(([k, t]) => [k, [t.dtype, t.shape, true]]),
      );
      assertEquals(res.stored, { methods: [0], arrays: want });
      assertEquals(res.deflated, { methods: [8], arrays: want });
      assertEquals(res.forced64, { methods: [8], arrays: want });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "listZip reads Python's zip64 end record (more than 65535 members)",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      await runPython(
        py,
        `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(65537):
        z.writestr('a%d.npy' % i, b'x' * (i % 3))
`,
        [`${dir}/many.zip`],
      );
      const bytes = await Deno.readFile(`${dir}/many.zip`);
      const entries = listZip(bytes, "many.zip");
      assertEquals(entries.length, 65537);
      assertEquals(entries[65536].name, "a65536.npy");
      assertEquals(readZipEntry(bytes, entries[65536], "many.zip"), new Uint8Array([120]));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "listZip decodes names without the UTF-8 flag as code page 437, as Python does",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      const bytes = writeZip([{ name: "x.npy", parts: [new Uint8Array(3)] }], {
        compress: false,
      });
      // Overwrite the name "x" in the local and central records with a cp437 byte.
      const at = bytes.indexOf(0x78);
      bytes[at] = 0x82;
      bytes[bytes.lastIndexOf(0x78)] = 0x82;
      await Deno.writeFile(`${dir}/cp437.zip`, bytes);
      const out = await runPython(
        py,
        "import zipfile,sys,json; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))",
        [`${dir}/cp437.zip`],
      );
      assertEquals(listZip(bytes, "cp437.zip").map((e) => e.name), JSON.parse(out));
      assertEquals(JSON.parse(out), ["é.npy"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("encodeNpz round-trips every dtype, stored and deflated", () => {
  const arrays = Object.fromEntries(
    (Object.keys(DTYPES) as DType[]).map((d) => [d, ramp(d, d === "bool" ? [] : [3, 7])]),
  );
  for (const compress of [false, true]) {
    const back = decodeNpz(encodeNpz(arrays, { compress }), "x.npz");
    assertEquals(Object.keys(back), Object.keys(arrays));
    for (const [name, t] of Object.entries(arrays)) {
      assertEquals([back[name].dtype, back[name].shape], [t.dtype, t.shape]);
      assertSameBytes(bytesOf(back[name].data), bytesOf(t.data), `${compress} ${name}`);
    }
  }
});

Deno.test("encodeNpz rejects missing options and bad tensors with the value received", () => {
  const a = ramp("uint8", [2]);
  assertThrows(
    () => encodeNpz({ a }, {} as never),
    /options\.compress must be true or false, got undefined/,
  );
  assertThrows(() => encodeNpz({ a }, { compress: true, level: 11 }), /level must be .*got 11/);
  assertThrows(
    () => encodeNpz({ a: { ...a, shape: [3] } }, { compress: false }),
    /needs 3 elements, data has 2/,
  );
});

Deno.test("decodeNpz keeps odd array names as plain keys and rejects duplicates", () => {
  const a = ramp("uint8", [2]);
  const back = decodeNpz(
    encodeNpz({ ["__proto__"]: a, "x.y": a } as never, { compress: false }),
    "o.npz",
  );
  assertEquals(Object.keys(back), ["__proto__", "x.y"]);
  assertEquals(Object.getPrototypeOf(back), Object.prototype);
  const twice = writeZip([
    { name: "a.npy", parts: [encodeNpy(a)] },
    { name: "a.npy", parts: [encodeNpy(a)] },
  ], { compress: false });
  assertMatch(catchFormatError(() => decodeNpz(twice, "t.npz")).message, /array "a" appears twice/);
});

Deno.test("decodeNpz reads zip64 central records and end records that writeZip forces", () => {
  const arrays = utterance(5);
  const bytes = writeZip(
    Object.entries(arrays).map(([n, t]) => ({ name: `${n}.npy`, parts: [encodeNpy(t)] })),
    { compress: false, forceZip64: true },
  );
  const entries = listZip(bytes, "z.npz");
  assertEquals(entries.map((e) => e.size), entries.map((e) => e.compressedSize));
  assert(entries[1].headerOffset > 0);
  const back = decodeNpz(bytes, "z.npz");
  assertSameBytes(bytesOf(back.mel_spectrogram.data), bytesOf(arrays.mel_spectrogram.data), "mel");
});

Deno.test("readZipEntry returns stored members as views of the archive", () => {
  const bytes = encodeNpz(utterance(3), { compress: false });
  const [entry] = listZip(bytes, "v.npz");
  const data = readZipEntry(bytes, entry, "v.npz");
  assert(data.buffer === bytes.buffer, "stored member should not be copied");
});

Deno.test("decodeNpz names a truncated file and why", () => {
  const file = "processed/LJ001-0001.npz";
  for (const compress of [false, true]) {
    const good = encodeNpz(utterance(8), { compress });
    const half = catchFormatError(() => decodeNpz(good.subarray(0, good.length >> 1), file));
    assertEquals(half.file, file);
    assertMatch(half.message, /^processed\/LJ001-0001\.npz: no zip end-of-central-directory/);
    assertMatch(catchFormatError(() => decodeNpz(good.subarray(0, 10), file)).message, /too short/);
    assertMatch(catchFormatError(() => decodeNpz(new Uint8Array(0), file)).message, /0 bytes/);
  }
});

Deno.test("decodeNpz names corrupt data: CRC, deflate stream, bad array inside", () => {
  const stored = encodeNpz(utterance(8), { compress: false });
  const flipped = stored.slice();
  flipped[5000] ^= 0x40;
  assertMatch(
    catchFormatError(() => decodeNpz(flipped, "a.npz")).message,
    /^a\.npz: member "hidden_states\.npy": CRC-32 mismatch/,
  );
  const deflated = encodeNpz(utterance(8), { compress: true });
  const garbled = deflated.slice();
  garbled.fill(0xff, 2000, 2100);
  assertMatch(
    catchFormatError(() => decodeNpz(garbled, "b.npz")).message,
    /^b\.npz: member "hidden_states\.npy": (corrupt deflate data|CRC-32 mismatch|inflates to)/,
  );
  const notNpy = writeZip([{
    name: "x.npy",
    parts: [new TextEncoder().encode("hello, not numpy")],
  }], {
    compress: false,
  });
  const e = catchFormatError(() => decodeNpz(notNpy, "c.npz"));
  assertMatch(e.message, /^c\.npz: array "x": not an NPY file/);
  assertEquals(e.file, "c.npz");
});

Deno.test("decodeNpz fuzz: truncations and byte flips are FormatErrors, never crashes", () => {
  for (const compress of [false, true]) {
    const good = encodeNpz({ a: ramp("int16", [4, 5]), b: ramp("float32", [3]) }, { compress });
    for (let cut = 0; cut < good.length; cut++) {
      assertThrows(() => decodeNpz(good.subarray(0, cut), "f.npz"), FormatError);
    }
    for (let i = 0; i < good.length; i++) {
      for (const x of [0x00, 0xff, good[i] ^ 1]) {
        const bad = good.slice();
        bad[i] = x;
        try {
          decodeNpz(bad, "f.npz");
        } catch (e) {
          assert(e instanceof FormatError, `byte ${i}=${x}: ${e}`);
        }
      }
    }
  }
});

Deno.test("decodeNpz rejects encrypted members and unknown methods by name", () => {
  const bytes = encodeNpz({ a: ramp("uint8", [4]) }, { compress: false });
  const method = bytes.slice();
  // The central record starts "PK\1\2"; flags sit at +8, the method at +10.
  const central = findSig(method, [0x50, 0x4b, 0x01, 0x02]);
  assert(central > 0);
  method[central + 10] = 14;
  assertMatch(catchFormatError(() => decodeNpz(method, "m.npz")).message, /compression method 14/);
  const enc = bytes.slice();
  enc[central + 8] |= 1;
  assertMatch(catchFormatError(() => decodeNpz(enc, "e.npz")).message, /is encrypted/);
});

function findSig(bytes: Uint8Array, sig: number[]): number {
  outer: for (let i = 0; i + sig.length <= bytes.length; i++) {
    for (let j = 0; j < sig.length; j++) if (bytes[i + j] !== sig[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("decodeNpz's own cap is the default of preprocessing.max_sample_bytes", () => {
  // formats/ sits below config/, so the number is written twice; this holds them equal.
  assertEquals(DEFAULT_MAX_SAMPLE_BYTES, PREPROCESSING_DEFAULTS.max_sample_bytes);
  assertEquals(DEFAULT_MAX_SAMPLE_BYTES, 2 ** 30);
});
