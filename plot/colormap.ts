/**
 * A perceptual colour map: dark blue-violet through teal and green to yellow, lightness rising
 * steadily, readable in grey and by most colour-blind viewers. Made here by interpolating nine
 * stops of the viridis ramp into a 256-entry table.
 *
 * @module
 */

/** Nine stops at equal steps, low to high (sRGB). */
const STOPS = [
  0x440154,
  0x472d7b,
  0x3b528b,
  0x2c728e,
  0x21918c,
  0x28ae80,
  0x5ec962,
  0xaddc30,
  0xfde725,
];

/** Entries of {@linkcode COLORMAP}. */
export const COLORMAP_SIZE = 256;

function buildTable(): Uint8Array {
  const table = new Uint8Array(COLORMAP_SIZE * 3);
  const segments = STOPS.length - 1;
  for (let i = 0; i < COLORMAP_SIZE; i++) {
    const pos = (i / (COLORMAP_SIZE - 1)) * segments;
    const s = Math.min(segments - 1, Math.floor(pos));
    const f = pos - s;
    for (let c = 0; c < 3; c++) {
      const shift = 16 - 8 * c;
      const a = (STOPS[s] >> shift) & 0xff;
      const b = (STOPS[s + 1] >> shift) & 0xff;
      table[i * 3 + c] = Math.round(a + (b - a) * f);
    }
  }
  return table;
}

/** The table: entry i is bytes `3i .. 3i+2` (R, G, B). */
export const COLORMAP: Uint8Array = buildTable();

/**
 * The colour of `t` in [0, 1] (clamped) as `[r, g, b]`.
 *
 * @example
 * ```ts
 * import { colorAt } from "./colormap.ts";
 * const [r, g, b] = colorAt(1);
 * if (r !== 0xfd || g !== 0xe7 || b !== 0x25) throw new Error();
 * ```
 */
export function colorAt(t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const i = Math.round(x * (COLORMAP_SIZE - 1)) * 3;
  return [COLORMAP[i], COLORMAP[i + 1], COLORMAP[i + 2]];
}
