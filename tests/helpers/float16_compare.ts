/**
 * How two float32 feature arrays compare once stored as float16, as the cache stores them.
 *
 * @module
 */

/** Counts of {@linkcode compareFloat16}. */
export interface Float16Comparison {
  /** Values compared. */
  values: number;
  /** Values whose float16 roundings are the same. */
  identical: number;
  /**
   * Largest distance in float16 ULPs, at the reference value's magnitude but not below that of
   * `floor`: near zero, where a float16 ULP shrinks to nothing, float32 rounding of a sum of
   * O(1) terms would otherwise count as thousands of ULPs.
   */
  worstUlp: number;
}

function ulp16(x: number): number {
  return 2 ** (Math.floor(Math.log2(x)) - 10);
}

/** Compares `got` with `ref` after both are rounded to float16. */
export function compareFloat16(got: Float32Array, ref: Float32Array, floor = 2 ** -4) {
  const a = new Float16Array(got);
  const b = new Float16Array(ref);
  let identical = 0;
  let worstUlp = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) identical++;
    else {worstUlp = Math.max(
        worstUlp,
        Math.abs(a[i] - b[i]) / ulp16(Math.max(floor, Math.abs(ref[i]))),
      );}
  }
  return { values: a.length, identical, worstUlp } satisfies Float16Comparison;
}
