/**
 * A real-input FFT for power-of-two sizes, the kernel of the STFT behind mel spectrograms and
 * Kaldi-style filterbanks. Pure: numbers in, numbers out.
 *
 * @module
 */

/**
 * Forward FFT of real frames of one power-of-two size (>= 8). Built once per size and reused:
 * the twiddle and bit-reversal tables are computed in the constructor. Sums run in float64.
 *
 * The N real samples are packed as N/2 complex ones (even samples real, odd imaginary), sent
 * through one radix-2 complex FFT of size N/2, then split into the N/2 + 1 bins of the real
 * spectrum: half the work of a complex FFT of size N.
 *
 * @example
 * ```ts
 * import { RealFft } from "./fft.ts";
 * import assert from "node:assert/strict";
 *
 * const fft = new RealFft(8);
 * const re = new Float64Array(5), im = new Float64Array(5);
 * fft.forward(Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1), re, im);
 * assert.equal(re[0], 8); // DC bin: the sum
 * assert.equal(Math.abs(re[1]) + Math.abs(im[1]), 0); // nothing else
 * ```
 */
export class RealFft {
  /** Frame length N. */
  readonly size: number;
  /** Number of output bins, N / 2 + 1. */
  readonly bins: number;
  #half: number;
  #rev: Uint32Array;
  // Twiddles of the complex FFT of size N/2: cos/sin(2 pi k / (N/2)), k < N/4.
  #cos: Float64Array;
  #sin: Float64Array;
  // Twiddles of the split step: cos/sin(2 pi k / N), k <= N/2.
  #splitCos: Float64Array;
  #splitSin: Float64Array;
  #re: Float64Array;
  #im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 8 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft size must be a power of two >= 8, got ${size}`);
    }
    this.size = size;
    this.bins = size / 2 + 1;
    const m = size / 2;
    this.#half = m;
    const bits = Math.log2(m);
    this.#rev = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
      this.#rev[i] = r;
    }
    this.#cos = new Float64Array(Math.max(1, m / 2));
    this.#sin = new Float64Array(Math.max(1, m / 2));
    for (let k = 0; k < m / 2; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / m);
      this.#sin[k] = Math.sin((2 * Math.PI * k) / m);
    }
    this.#splitCos = new Float64Array(m + 1);
    this.#splitSin = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.#splitCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.#splitSin[k] = Math.sin((2 * Math.PI * k) / size);
    }
    this.#re = new Float64Array(m);
    this.#im = new Float64Array(m);
  }

  /**
   * The spectrum X[k] = sum_n x[n] e^(-2 pi i k n / N), k = 0 .. N/2, of `input` (length N):
   * real parts into `re`, imaginary parts into `im` (each of length >= N/2 + 1).
   */
  forward(input: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const m = this.#half;
    if (input.length !== this.size) {
      throw new RangeError(`RealFft(${this.size}) needs ${this.size} samples, got ${input.length}`);
    }
    if (re.length < m + 1 || im.length < m + 1) {
      throw new RangeError(`RealFft(${this.size}) output arrays need length >= ${m + 1}`);
    }
    const zr = this.#re, zi = this.#im, rev = this.#rev;
    for (let i = 0; i < m; i++) {
      const j = rev[i];
      zr[j] = input[2 * i];
      zi[j] = input[2 * i + 1];
    }
    // Stages of length 2 and 4 together: their twiddles are 1 and -i, so no multiplications.
    for (let a = 0; a < m; a += 4) {
      const r0 = zr[a] + zr[a + 1], i0 = zi[a] + zi[a + 1];
      const r1 = zr[a] - zr[a + 1], i1 = zi[a] - zi[a + 1];
      const r2 = zr[a + 2] + zr[a + 3], i2 = zi[a + 2] + zi[a + 3];
      const r3 = zr[a + 2] - zr[a + 3], i3 = zi[a + 2] - zi[a + 3];
      zr[a] = r0 + r2;
      zi[a] = i0 + i2;
      zr[a + 2] = r0 - r2;
      zi[a + 2] = i0 - i2;
      zr[a + 1] = r1 + i3;
      zi[a + 1] = i1 - r3;
      zr[a + 3] = r1 - i3;
      zi[a + 3] = i1 + r3;
    }
    const cos = this.#cos, sin = this.#sin;
    let block = 16;
    if (Math.log2(m) % 2 === 1) {
      // An odd count of stages left: one radix-2 stage, so the rest pair up.
      for (let k = 0; k < 4; k++) {
        const wr = cos[k * (m / 8)], wi = -sin[k * (m / 8)];
        for (let a = k; a < m; a += 8) {
          const b = a + 4;
          const xr = zr[b], xi = zi[b];
          const br = xr * wr - xi * wi, bi = xr * wi + xi * wr;
          zr[b] = zr[a] - br;
          zi[b] = zi[a] - bi;
          zr[a] += br;
          zi[a] += bi;
        }
      }
      block = 32;
    }
    // Two radix-2 stages per pass (blocks of q -> 4q), halving loads and stores.
    for (; block <= m; block <<= 2) {
      const q = block >> 2;
      const step1 = (m / block) * 2, step2 = m / block;
      for (let k = 0; k < q; k++) {
        const w1r = cos[k * step1], w1i = -sin[k * step1];
        const w2r = cos[k * step2], w2i = -sin[k * step2];
        for (let a0 = k; a0 < m; a0 += block) {
          const a1 = a0 + q, a2 = a1 + q, a3 = a2 + q;
          let xr = zr[a1], xi = zi[a1];
          const p1r = xr * w1r - xi * w1i, p1i = xr * w1i + xi * w1r;
          xr = zr[a3];
          xi = zi[a3];
          const p3r = xr * w1r - xi * w1i, p3i = xr * w1i + xi * w1r;
          const t0r = zr[a0] + p1r, t0i = zi[a0] + p1i;
          const t1r = zr[a0] - p1r, t1i = zi[a0] - p1i;
          const t2r = zr[a2] + p3r, t2i = zi[a2] + p3i;
          const t3r = zr[a2] - p3r, t3i = zi[a2] - p3i;
          const u2r = t2r * w2r - t2i * w2i, u2i = t2r * w2i + t2i * w2r;
          // W^(k + block/4) = -i W^k.
          const u3r = t3r * w2i + t3i * w2r, u3i = t3i * w2i - t3r * w2r;
          zr[a0] = t0r + u2r;
          zi[a0] = t0i + u2i;
          zr[a2] = t0r - u2r;
          zi[a2] = t0i - u2i;
          zr[a1] = t1r + u3r;
          zi[a1] = t1i + u3i;
          zr[a3] = t1r - u3r;
          zi[a3] = t1i - u3i;
        }
      }
    }
    // Split Z (FFT of the packed signal) into the even- and odd-sample spectra E, O:
    // X[k] = E[k] + e^(-2 pi i k / N) O[k].
    const sc = this.#splitCos, ss = this.#splitSin;
    re[0] = zr[0] + zi[0];
    im[0] = 0;
    re[m] = zr[0] - zi[0];
    im[m] = 0;
    for (let k = 1; k < m; k++) {
      const ar = zr[k], ai = zi[k], br = zr[m - k], bi = -zi[m - k];
      const er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
      const or = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
      const c = sc[k], s = ss[k];
      re[k] = er + or * c + oi * s;
      im[k] = ei + oi * c - or * s;
    }
  }
}
