import { assertEquals, assertStrictEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { toFloat16 } from "../formats/float16.ts";

function f32(...bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

function f64(...bits: bigint[]): Float64Array {
  return new Float64Array(new BigUint64Array(bits).buffer);
}

function halfBits(data: Float16Array): number[] {
  return [...new Uint16Array(data.buffer, data.byteOffset, data.length)];
}

// [float32 bits, float16 bits] as numpy 1.24 astype(np.float16) gives them.
const F32_KNOWN: [number, number][] = [
  [0x00000000, 0x0000], // +0
  [0x80000000, 0x8000], // -0
  [0x3f800000, 0x3c00], // 1
  [0x477fe000, 0x7bff], // 65504, the largest half
  [0x477fefff, 0x7bff], // 65519.996, just below the tie
  [0x477ff000, 0x7c00], // 65520, tie with odd 0x7bff: rounds to inf
  [0xc77ff000, 0xfc00], // -65520
  [0x47800000, 0x7c00], // 65536
  [0x3f801000, 0x3c00], // 1 + 2^-11: tie, to even
  [0x3f803000, 0x3c02], // 1 + 3*2^-11: tie, to even (up)
  [0x3f801001, 0x3c01], // just above the tie
  [0x33800000, 0x0001], // 2^-24, smallest subnormal
  [0x33000000, 0x0000], // 2^-25: tie with 0, to even
  [0xb3000000, 0x8000], // -2^-25: signed zero
  [0x33000001, 0x0001], // just above 2^-25
  [0x33c00000, 0x0002], // 3*2^-25: tie between 1 and 2, to even
  [0x38800000, 0x0400], // 2^-14, smallest normal
  [0x387fc000, 0x03ff], // 2^-14 - 2^-24, largest subnormal
  [0x387fe000, 0x0400], // 2^-14 - 2^-25: tie, to even (the normal)
  [0x00000001, 0x0000], // float32 subnormal
  [0x7f800000, 0x7c00], // +inf
  [0xff800000, 0xfc00], // -inf
  [0x7fc00000, 0x7e00], // quiet NaN
  [0x7fc00001, 0x7e00], // payload below the kept bits
  [0xffc12345, 0xfe09], // negative NaN with payload
  [0x7f800001, 0x7c01], // signalling NaN whose kept bits are 0 stays NaN
  [0x7fa00000, 0x7d00], // signalling NaN payload kept
];

// Inputs that float32 would round twice: direct conversion must differ from via-float32.
const F64_KNOWN: [bigint, number][] = [
  [0x3ff0020000000001n, 0x3c01], // 1 + 2^-11 + 2^-52: above the tie (float32 says tie -> 0x3c00)
  [0x40effdffffffffffn, 0x7bff], // 65519.99999: below the tie (float32 says 65520 -> inf)
  [0x3e60000000000001n, 0x0001], // 2^-25 + ulp (float32 says 2^-25 -> 0)
  [0x40effe0000000000n, 0x7c00], // 65520
  [0x8000000000000000n, 0x8000], // -0
  [0x7ff8000000000001n, 0x7e00], // NaN
  [0xfff4000000000000n, 0xfd00], // negative signalling NaN with payload
  [0x7ff0000000000001n, 0x7c01], // signalling NaN whose kept bits are 0
  [0xfff0000000000000n, 0xfc00], // -inf
];

Deno.test("toFloat16 matches numpy on float32 edge classes (known bits)", () => {
  const { data, overflowed } = toFloat16(f32(...F32_KNOWN.map(([i]) => i)), "warn");
  assertEquals(halfBits(data).map((h) => h.toString(16)), F32_KNOWN.map(([, h]) => h.toString(16)));
  assertStrictEquals(overflowed, 3);
});

Deno.test("toFloat16 converts float64 directly, without rounding through float32", () => {
  const { data, overflowed } = toFloat16(f64(...F64_KNOWN.map(([i]) => i)), "warn");
  assertEquals(halfBits(data).map((h) => h.toString(16)), F64_KNOWN.map(([, h]) => h.toString(16)));
  assertStrictEquals(overflowed, 1);
});

Deno.test("toFloat16 clamps finite overflow to ±65504 and keeps real infinities", () => {
  const src = f32(0x477ff000, 0xc77ff000, 0x7f800000, 0xff800000, 0x7fc00000, 0x477fe000);
  const { data, overflowed } = toFloat16(src, "clamp");
  assertEquals(halfBits(data), [0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x7bff]);
  assertStrictEquals(overflowed, 2);
  const big = toFloat16(new Float64Array([1e300, -1e300]), "clamp");
  assertEquals([...big.data], [65504, -65504]);
  assertStrictEquals(big.overflowed, 2);
});

Deno.test("toFloat16 stores overflow as inf under warn and error and counts it", () => {
  for (const policy of ["warn", "error"] as const) {
    const { data, overflowed } = toFloat16(new Float32Array([1e6, -1e6, 1, Infinity]), policy);
    assertEquals([...data], [Infinity, -Infinity, 1, Infinity]);
    assertStrictEquals(overflowed, 2);
  }
});

Deno.test("toFloat16 converts a subarray view at an offset", () => {
  const whole = new Float32Array([9, 1.5, -2, 1e9]);
  const { data, overflowed } = toFloat16(whole.subarray(1), "warn");
  assertEquals([...data], [1.5, -2, Infinity]);
  assertStrictEquals(overflowed, 1);
  const nan = toFloat16(f32(0, 0xffc12345).subarray(1), "warn");
  assertEquals(halfBits(nan.data), [0xfe09]);
});

const python = await findH5pyPython();

// numpy writes its own edge cases plus random bit patterns; we convert the same inputs.
const NUMPY_FIXTURE = `
import sys, numpy as np
rng = np.random.default_rng(1234)
e32 = [0x7f800000, 0xff800000, 0x80000000, 0x7fc00000]
for base in [65504.0, 65519.99, 65520.0, 2.0**-24, 2.0**-25, 2.0**-14, 1.0, 3*2.0**-25]:
    b = np.array([base], dtype=np.float32).view(np.uint32)[0]
    e32 += [int(b) + d for d in range(-3, 4)]
# every tie between adjacent halves, taken from all finite halves
h = np.arange(0, 0x7c00, dtype=np.uint16).view(np.float16).astype(np.float64)
mids = ((h[:-1] + h[1:]) / 2).astype(np.float32).view(np.uint32)
rand32 = rng.integers(0, 2**32, 200000, dtype=np.uint64).astype(np.uint32)
nans = (np.uint32(0x7f800000) | rng.integers(1, 2**23, 1000, dtype=np.uint32)) | (rng.integers(0, 2, 1000, dtype=np.uint32) << 31)
all32 = np.concatenate([np.array(e32, dtype=np.uint32), mids, mids | np.uint32(0x80000000), rand32, nans.astype(np.uint32)])
mids64 = ((h[:-1] + h[1:]) / 2)
near64 = np.concatenate([mids64, np.nextafter(mids64, 0), np.nextafter(mids64, np.inf), [65519.99999, 65520.0, 1e300, -0.0, 2.0**-25, np.nextafter(2.0**-25, 1)]])
rand64 = rng.normal(0, 3000, 50000)
all64 = np.concatenate([near64, -near64, rand64]).astype(np.float64)
with open(sys.argv[1], "wb") as f:
    for a in [all32, all32.view(np.float32).astype(np.float16), all64, all64.astype(np.float16)]:
        f.write(np.uint32(a.nbytes).tobytes()); f.write(a.tobytes())
`;

function readBlocks(bytes: Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length;) {
    const n = view.getUint32(at, true);
    blocks.push(bytes.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return blocks;
}

function firstMismatch(ours: Float16Array, theirs: Uint8Array, input: ArrayLike<unknown>): string {
  const a = halfBits(ours);
  const b = new Uint16Array(theirs.buffer, theirs.byteOffset, theirs.byteLength / 2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return `#${i} input ${input[i]}: ours 0x${a[i].toString(16)}, numpy 0x${b[i].toString(16)}`;
    }
  }
  return a.length === b.length ? "" : `length ${a.length} vs ${b.length}`;
}

Deno.test({
  name: "toFloat16 matches numpy astype(np.float16) bit for bit (fixture from numpy)",
  ignore: ignoreWithout(python, "python3 with numpy"),
  async fn() {
    const py = requireTool(python, "python3 with numpy");
    const file = await Deno.makeTempFile({ suffix: ".bin" });
    try {
      await runPython(py, NUMPY_FIXTURE, [file]);
      const [in32, out32, in64, out64] = readBlocks(await Deno.readFile(file));
      const src32 = new Float32Array(in32.buffer);
      assertStrictEquals(firstMismatch(toFloat16(src32, "warn").data, out32, src32), "");
      const src64 = new Float64Array(in64.buffer);
      assertStrictEquals(firstMismatch(toFloat16(src64, "warn").data, out64, src64), "");
      assert32Coverage(src32);
    } finally {
      await Deno.remove(file);
    }
  },
});

// The fixture must really hold the classes it claims to (a silent empty fixture passes anything).
function assert32Coverage(src: Float32Array): void {
  const has = (p: (x: number) => boolean) => src.some(p);
  assertEquals(
    [
      has((x) => Number.isNaN(x)),
      has((x) => x === Infinity),
      has((x) => x === 65520),
      has((x) => x > 0 && x < 2 ** -24),
      has((x) => x < 0 && x > -(2 ** -14)),
    ],
    [true, true, true, true, true],
  );
}
