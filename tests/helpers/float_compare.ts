/**
 * Float comparisons for tests against reference libraries: worst absolute difference in
 * float32, and after float16 rounding the share of identical values and the worst ULP distance.
 *
 * @module
 */

/** How two float arrays compare. */
export interface Comparison {
  /** Largest |a - b| in the original precision. */
  maxAbs: number;
  /** Share of elements identical after rounding both to float16 (0..1). */
  identical16: number;
  /** Largest distance in float16 units in the last place. */
  worstUlp16: number;
}

// float16 bits mapped to a line where adjacent values differ by one.
function ordered(bits: number): number {
  return bits & 0x8000 ? -(bits & 0x7fff) : bits;
}

/** Compares `a` with the reference `b` (same length). */
export function compareFloats(a: Float32Array, b: Float32Array): Comparison {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let maxAbs = 0, same = 0, worstUlp16 = 0;
  const ha = new Uint16Array(new Float16Array(a).buffer);
  const hb = new Uint16Array(new Float16Array(b).buffer);
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    const ulp = Math.abs(ordered(ha[i]) - ordered(hb[i]));
    if (ulp === 0) same++;
    worstUlp16 = Math.max(worstUlp16, ulp);
  }
  return { maxAbs, identical16: a.length ? same / a.length : 1, worstUlp16 };
}
