/**
 * Conversion of float32/float64 data to IEEE float16, bit for bit as numpy's
 * `astype(np.float16)`: round to nearest even, subnormals, signed zeros, infinities, and NaN
 * payloads kept the way numpy keeps them.
 *
 * The native `Float16Array` constructor rounds each value directly from its exact double, so it
 * is exact for float32 and float64 alike (no double rounding) and faster than a hand-written
 * bit-twiddling loop (~1.5 vs ~1.3 GB/s of float32 here). It canonicalises NaNs, which numpy
 * does not, so one pass over the result restores numpy's NaN bits and handles overflow.
 *
 * @module
 */

/** What to do with finite values whose float16 rounding is beyond ±65504. */
export type Float16Overflow = "warn" | "error" | "clamp";

/** The accepted overflow policies. */
export const FLOAT16_OVERFLOW_POLICIES: readonly Float16Overflow[] = ["warn", "error", "clamp"];

/** Largest finite float16 (0x7bff). */
export const FLOAT16_MAX = 65504;

/** Result of {@linkcode toFloat16}. */
export interface Float16Result {
  /** The converted elements. */
  data: Float16Array;
  /** How many finite inputs rounded beyond ±65504 (stored as ±inf, or ±65504 under "clamp"). */
  overflowed: number;
}

/**
 * Converts `src` to float16 as numpy's `astype(np.float16)` does. Finite inputs that round
 * beyond ±65504 become ±inf (as numpy) under "warn" and "error", ±65504 under "clamp"; either
 * way they are counted in `overflowed` so the caller can word its warning or error. The result
 * goes into `into` when given (2 bytes per element, 2-byte aligned: memory the caller reuses).
 *
 * @example
 * ```ts
 * const policy: Float16Overflow = "clamp";
 * if (!FLOAT16_OVERFLOW_POLICIES.includes(policy)) throw new Error("unknown policy");
 * const result: Float16Result = toFloat16(new Float32Array([1.5, 70000]), policy);
 * if (result.data[0] !== 1.5) throw new Error("1.5 is exact in float16");
 * if (result.data[1] !== FLOAT16_MAX || result.overflowed !== 1) throw new Error("clamped");
 * ```
 */
export function toFloat16(
  src: Float32Array | Float64Array,
  overflow: Float16Overflow = "warn",
  into?: Uint8Array,
): Float16Result {
  let data: Float16Array;
  if (into) {
    data = new Float16Array(into.buffer, into.byteOffset, src.length);
    data.set(src);
  } else {
    data = new Float16Array(src);
  }
  const bits = new Uint16Array(data.buffer, data.byteOffset, data.length);
  const wide = src instanceof Float64Array;
  let overflowed = 0;
  for (let i = 0; i < bits.length; i++) {
    // Only infinities and NaNs need a second look; everything else is already exact.
    if ((bits[i] & 0x7c00) !== 0x7c00) continue;
    const x = src[i];
    if (x !== x) {
      bits[i] = wide ? nanBits64(src as Float64Array, i) : nanBits32(src as Float32Array, i);
    } else if (Number.isFinite(x)) {
      overflowed++;
      if (overflow === "clamp") bits[i] = (bits[i] & 0x8000) | 0x7bff;
    }
  }
  return { data, overflowed };
}

// numpy keeps the sign and the top mantissa bits of a NaN, and keeps it a NaN when those are 0.
function nanBits32(src: Float32Array, i: number): number {
  const f = new Uint32Array(src.buffer, src.byteOffset + i * 4, 1)[0];
  const h = 0x7c00 | ((f & 0x7fffff) >>> 13);
  return ((f >>> 16) & 0x8000) | (h === 0x7c00 ? 0x7c01 : h);
}

function nanBits64(src: Float64Array, i: number): number {
  const view = new DataView(src.buffer, src.byteOffset + i * 8, 8);
  const hi = view.getUint32(4, true);
  const h = 0x7c00 | ((hi & 0xfffff) >>> 10);
  return ((hi >>> 16) & 0x8000) | (h === 0x7c00 ? 0x7c01 : h);
}
