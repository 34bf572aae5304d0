import assert from "node:assert/strict";
import { RealFft } from "../audio/fft.ts";
import { seededRandom } from "./helpers/random.ts";

// The DFT by its definition, in float64: O(N^2), independent of any FFT factorisation.
function naiveDft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length, bins = n / 2 + 1;
  const re = new Float64Array(bins), im = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < n; t++) {
      const phase = (-2 * Math.PI * ((k * t) % n)) / n;
      sr += x[t] * Math.cos(phase);
      si += x[t] * Math.sin(phase);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

Deno.test("RealFft equals the DFT definition for every power of two from 8 to 2048", () => {
  const random = seededRandom(9);
  for (let n = 8; n <= 2048; n *= 2) {
    const x = new Float64Array(n).map(() => random() * 2 - 1);
    const want = naiveDft(x);
    const fft = new RealFft(n);
    const re = new Float64Array(fft.bins), im = new Float64Array(fft.bins);
    fft.forward(x, re, im);
    let worst = 0;
    for (let k = 0; k < fft.bins; k++) {
      worst = Math.max(worst, Math.abs(re[k] - want.re[k]), Math.abs(im[k] - want.im[k]));
    }
    // Values are O(sqrt(n)); float64 rounding of both sums stays far below this.
    assert.ok(worst < 1e-10 * n, `n=${n}: worst difference ${worst}`);
  }
});

Deno.test("RealFft is reusable: a second frame does not see the first", () => {
  const fft = new RealFft(16);
  const re = new Float64Array(9), im = new Float64Array(9);
  fft.forward(new Float64Array(16).fill(3), re, im);
  const impulse = new Float64Array(16);
  impulse[0] = 1;
  fft.forward(impulse, re, im);
  for (let k = 0; k < 9; k++) {
    assert.ok(Math.abs(re[k] - 1) < 1e-15 && Math.abs(im[k]) < 1e-15, `bin ${k}`);
  }
});

Deno.test("RealFft rejects sizes that are not powers of two and frames of the wrong length", () => {
  assert.throws(() => new RealFft(400), /power of two >= 8, got 400/);
  assert.throws(() => new RealFft(4), /got 4/);
  const fft = new RealFft(8);
  assert.throws(
    () => fft.forward(new Float32Array(7), new Float64Array(5), new Float64Array(5)),
    /needs 8 samples, got 7/,
  );
  assert.throws(
    () => fft.forward(new Float32Array(8), new Float64Array(4), new Float64Array(5)),
    /length >= 5/,
  );
});
