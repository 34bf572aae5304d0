/**
 * PNG encoding of 8-bit RGB images: signature, IHDR, one zlib-compressed IDAT, IEND (PNG
 * specification, 2nd edition, sections 5 and 11). Pure: pixels in, bytes out.
 *
 * @module
 */
import { crc32, deflateSync } from "../deps.ts";

/** An 8-bit RGB image, row-major, top row first, `width * height * 3` bytes. */
export interface RgbPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** IHDR colour type 2: truecolour (RGB). */
const COLOR_RGB = 2;
/** Filter type 2 (Up) per scanline: heat maps repeat rows, which Up turns into zeros. */
const FILTER_UP = 2;

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  // The CRC covers the type and the data, not the length.
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)) >>> 0);
  return out;
}

/**
 * Encodes an RGB image as PNG.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const png = encodePng({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) });
 * if (png[1] !== 0x50 || png.length < 50) throw new Error();
 * ```
 */
export function encodePng(image: RgbPixels, level = 9): Uint8Array {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(
      `encodePng: width and height must be integers >= 1, got ${width}x${height}`,
    );
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `encodePng: ${width}x${height} RGB needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
  const ihdr = new Uint8Array(13);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_RGB;
  // compression 0 (zlib), filter method 0, interlace 0: already zero.
  const stride = width * 3;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    raw[row] = FILTER_UP;
    const at = y * stride;
    for (let x = 0; x < stride; x++) {
      raw[row + 1 + x] = data[at + x] - (y ? data[at - stride + x] : 0);
    }
  }
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level })),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
