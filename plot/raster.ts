/**
 * An RGB raster to draw on: rectangles and single pixels, clipped to the image.
 *
 * @module
 */
import type { RgbPixels } from "./png.ts";

/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/** A width x height RGB image, filled with `background`. */
export class Raster implements RgbPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(width: number, height: number, background: Rgb = [255, 255, 255]) {
    if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`Raster: size must be whole pixels >= 1, got ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 3);
    this.fill(0, 0, width, height, background);
  }

  /** Sets one pixel (ignored outside the image). */
  set(x: number, y: number, color: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = color[0];
    this.data[i + 1] = color[1];
    this.data[i + 2] = color[2];
  }

  /** Fills the rectangle at (x, y) of w x h pixels, clipped. */
  fill(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, x);
    const y0 = Math.max(0, y);
    const x1 = Math.min(this.width, x + w);
    const y1 = Math.min(this.height, y + h);
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) this.set(xx, yy, color);
    }
  }
}
