/**
 * A 5 x 7 bitmap font of our own for plot labels: digits, letters, and the punctuation that
 * keys, numbers and axis labels use. Unknown characters draw as `?`.
 *
 * @module
 */
import type { Raster, Rgb } from "./raster.ts";

/** Glyph cell: 5 columns by 7 rows, plus one column of spacing. */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
const ADVANCE = GLYPH_WIDTH + 1;

// Each glyph: seven rows of five pixels, top row first, '#' = ink.
const GLYPHS: Record<string, string> = {
  " ": "..... ..... ..... ..... ..... ..... .....",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "####. ....# ....# .###. ....# ....# ####.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "####. #...# #...# #...# #...# #...# ####.",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .####",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",
  a: "..... ..... .###. ....# .#### #...# .####",
  b: "#.... #.... #.##. ##..# #...# #...# ####.",
  c: "..... ..... .###. #.... #.... #...# .###.",
  d: "....# ....# .##.# #..## #...# #...# .####",
  e: "..... ..... .###. #...# ##### #.... .###.",
  f: "..##. .#..# .#... ###.. .#... .#... .#...",
  g: "..... .#### #...# #...# .#### ....# .###.",
  h: "#.... #.... #.##. ##..# #...# #...# #...#",
  i: "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
  j: "...#. ..... ..##. ...#. ...#. #..#. .##..",
  k: "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
  l: ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  m: "..... ..... ##.#. #.#.# #.#.# #...# #...#",
  n: "..... ..... #.##. ##..# #...# #...# #...#",
  o: "..... ..... .###. #...# #...# #...# .###.",
  p: "..... ..... ####. #...# ####. #.... #....",
  q: "..... ..... .##.# #..## .#### ....# ....#",
  r: "..... ..... #.##. ##..# #.... #.... #....",
  s: "..... ..... .###. #.... .###. ....# ####.",
  t: ".#... .#... ###.. .#... .#... .#..# ..##.",
  u: "..... ..... #...# #...# #...# #..## .##.#",
  v: "..... ..... #...# #...# #...# .#.#. ..#..",
  w: "..... ..... #...# #...# #.#.# #.#.# .#.#.",
  x: "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  y: "..... ..... #...# #...# .#### ....# .###.",
  z: "..... ..... ##### ...#. ..#.. .#... #####",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... .##.. ..#.. .#...",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "_": "..... ..... ..... ..... ..... ..... #####",
  "/": "....# ....# ...#. ..#.. .#... #.... #....",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  "%": "##..# ##..# ...#. ..#.. .#... #..## #..##",
  "?": ".###. #...# ...#. ..#.. ..#.. ..... ..#..",
};

const BITMAPS = new Map<string, Uint8Array>(
  Object.entries(GLYPHS).map(([ch, rows]) => [
    ch,
    Uint8Array.from(rows.replaceAll(" ", ""), (c) => (c === "#" ? 1 : 0)),
  ]),
);

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length ? (text.length * ADVANCE - 1) * scale : 0;
}

/**
 * `text` cut to fit `maxWidth` pixels at `scale`: its middle replaced by `...`, so the start
 * and the end (a long key's corpus split and its dataset and shape) both stay readable.
 *
 * @example
 * ```ts
 * import { fitText, textWidth } from "./font.ts";
 * const cut = fitText("train-clean-100/103/1240/103_1240_000001_000000", 120);
 * if (textWidth(cut) > 120 || !cut.includes("...")) throw new Error(cut);
 * ```
 */
export function fitText(text: string, maxWidth: number, scale = 1): string {
  if (textWidth(text, scale) <= maxWidth) return text;
  const chars = Math.floor((maxWidth / scale + 1) / ADVANCE);
  if (chars <= 3) return "...".slice(0, Math.max(0, chars));
  const keep = chars - 3;
  const head = Math.ceil(keep / 2);
  return text.slice(0, head) + "..." + text.slice(text.length - (keep - head));
}

/** Options of {@linkcode drawText}. */
export interface TextOptions {
  color?: Rgb;
  /** Pixels per font pixel. Default 1. */
  scale?: number;
  /** Rotated a quarter turn counter-clockwise (reads bottom to top), for a y-axis label. */
  vertical?: boolean;
}

/**
 * Draws `text` with its top-left corner at (x, y); a vertical text's box is
 * `GLYPH_HEIGHT * scale` wide and `textWidth(text, scale)` tall.
 *
 * @example
 * ```ts
 * import { Raster } from "./raster.ts";
 * import { drawText, textWidth } from "./font.ts";
 * const r = new Raster(textWidth("1"), 7);
 * drawText(r, 0, 0, "1", { color: [0, 0, 0] });
 * if (r.data[(0 * 5 + 2) * 3] !== 0) throw new Error("ink at the top of the 1");
 * ```
 */
export function drawText(
  raster: Raster,
  x: number,
  y: number,
  text: string,
  options: TextOptions = {},
): void {
  const color = options.color ?? [0, 0, 0];
  const s = options.scale ?? 1;
  x = Math.round(x);
  y = Math.round(y);
  const length = textWidth(text, s);
  let i = 0;
  for (const ch of text) {
    const bits = BITMAPS.get(ch) ?? BITMAPS.get("?")!;
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (!bits[row * GLYPH_WIDTH + col]) continue;
        const gx = i * ADVANCE + col; // along the text
        if (options.vertical) {
          raster.fill(x + row * s, y + length - (gx + 1) * s, s, s, color);
        } else {
          raster.fill(x + gx * s, y + row * s, s, s, color);
        }
      }
    }
    i++;
  }
}
