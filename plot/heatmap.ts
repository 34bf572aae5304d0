/**
 * A time-by-bin heat map as a person reads a spectrogram: time on x (ticks in seconds), bins on
 * y with bin 0 at the bottom, a perceptual colour map, a colour bar with its values, a title.
 * Pure: numbers in, an RGB raster out.
 *
 * @module
 */
import { colorAt } from "./colormap.ts";
import { drawText, fitText, GLYPH_HEIGHT, textWidth } from "./font.ts";
import { Raster, type Rgb } from "./raster.ts";

/** Options of {@linkcode renderHeatmap}. */
export interface HeatmapOptions {
  /** Line above the plot. */
  title?: string;
  /** Label of the y axis. Default `bin`. */
  yLabel?: string;
  /** Frames per second, for the time ticks. Default 50. */
  framesPerSecond?: number;
  /** Number of the first frame shown (so ticks give time in the utterance). Default 0. */
  firstFrame?: number;
  /** Values mapped to the two ends of the colour map; default: the 0.5th and 99.5th percentiles. */
  vmin?: number;
  vmax?: number;
  /** Largest plot area in pixels; the data are averaged down to fit. Default 960 x 480. */
  maxWidth?: number;
  maxHeight?: number;
}

/** The pixel boxes of a rendered heat map, for callers and tests. */
export interface HeatmapLayout {
  /** The data area: x, y of its top-left corner, width, height. */
  plot: { x: number; y: number; width: number; height: number };
  /** The colour bar: value vmin at its bottom row, vmax at its top row. */
  colorbar: { x: number; y: number; width: number; height: number };
  vmin: number;
  vmax: number;
}

const SCALE = 2;
const TEXT_H = GLYPH_HEIGHT * SCALE;
const INK: Rgb = [20, 20, 20];
const NAN_COLOR: Rgb = [255, 0, 255];
const TICK = 5;
const GAP = 6;

/** The 0.5th and 99.5th percentiles of the finite values (of at most ~200k samples of them). */
export function robustRange(values: ArrayLike<number>): [number, number] {
  const step = Math.max(1, Math.floor(values.length / 200_000));
  const finite: number[] = [];
  for (let i = 0; i < values.length; i += step) {
    const v = values[i];
    if (Number.isFinite(v)) finite.push(v);
  }
  if (finite.length === 0) return [0, 1];
  const sorted = Float64Array.from(finite).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const lo = at(0.005);
  const hi = at(0.995);
  return lo < hi ? [lo, hi] : [lo - 0.5, lo + 0.5];
}

/** A step of 1, 2 or 5 times a power of ten giving at most `maxTicks` ticks over `span`. */
export function niceStep(span: number, maxTicks: number): number {
  const raw = span / Math.max(1, maxTicks);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function label(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const text = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Source index range [from, to) covered by output pixel `i` of `n` over `size` items. */
function span(i: number, n: number, size: number): [number, number] {
  const from = Math.floor((i * size) / n);
  return [from, Math.max(from + 1, Math.floor(((i + 1) * size) / n))];
}

/** Pixels for `size` items: whole pixels per item up to `max`, else `max` (items averaged). */
function extent(size: number, max: number, preferred: number): number {
  if (size >= max) return max;
  return size * Math.max(1, Math.min(8, Math.floor(preferred / size)));
}

/**
 * Renders `values` (`frames` rows of `bins` values, frame after frame) as a heat map.
 *
 * @example
 * ```ts
 * import { renderHeatmap } from "./heatmap.ts";
 * const values = Float32Array.from({ length: 20 * 8 }, (_, i) => i % 8);
 * const { raster, layout } = renderHeatmap(values, 20, 8, { title: "ramp" });
 * if (raster.width < layout.plot.width || layout.vmax <= layout.vmin) throw new Error();
 * ```
 */
export function renderHeatmap(
  values: ArrayLike<number>,
  frames: number,
  bins: number,
  options: HeatmapOptions = {},
): { raster: Raster; layout: HeatmapLayout } {
  if (!Number.isSafeInteger(frames) || !Number.isSafeInteger(bins) || frames < 1 || bins < 1) {
    throw new RangeError(`renderHeatmap: need at least 1 frame and 1 bin, got ${frames}x${bins}`);
  }
  if (values.length !== frames * bins) {
    throw new RangeError(
      `renderHeatmap: ${frames} frames x ${bins} bins need ${
        frames * bins
      } values, got ${values.length}`,
    );
  }
  const fps = options.framesPerSecond ?? 50;
  if (!(fps > 0)) throw new RangeError(`renderHeatmap: framesPerSecond must be > 0, got ${fps}`);
  const first = options.firstFrame ?? 0;
  let [vmin, vmax] = robustRange(values);
  vmin = options.vmin ?? vmin;
  vmax = options.vmax ?? vmax;
  if (!(vmax > vmin)) {
    throw new RangeError(`renderHeatmap: vmax must be above vmin, got ${vmin}..${vmax}`);
  }
  const width = extent(frames, options.maxWidth ?? 960, 800);
  const height = extent(bins, options.maxHeight ?? 480, 320);

  // Ticks first: their labels decide the margins.
  const t0 = first / fps;
  const t1 = (first + frames) / fps;
  const tStep = niceStep(t1 - t0, Math.max(2, Math.floor(width / 70)));
  const bStep = Math.max(1, niceStep(bins, Math.max(2, Math.floor(height / 40))));
  const yTicks: number[] = [];
  for (let b = 0; b < bins; b += bStep) yTicks.push(b);
  const cStep = niceStep(vmax - vmin, Math.max(2, Math.floor(height / 40)));
  const cTicks: number[] = [];
  for (let v = Math.ceil(vmin / cStep) * cStep; v <= vmax + cStep * 1e-9; v += cStep) {
    cTicks.push(v);
  }
  const yLabelWidth = Math.max(...yTicks.map((b) => textWidth(String(b), SCALE)));
  const cLabelWidth = Math.max(0, ...cTicks.map((v) => textWidth(label(v, cStep), SCALE)));
  const yLabel = options.yLabel ?? "bin";

  const left = GAP + TEXT_H + GAP + yLabelWidth + GAP + TICK;
  const top = GAP * 2 + TEXT_H + GAP;
  const barX = left + width + GAP * 3;
  const barWidth = 16;
  // The title never widens the image: a long one is cut with "..." to the width there is.
  const right = barX + barWidth + TICK + GAP + cLabelWidth + GAP * 2;
  const bottom = top + height + TICK + GAP + TEXT_H + GAP + TEXT_H + GAP * 2;
  const raster = new Raster(right, bottom);

  // The data: pixel (px, py) averages the frames and bins it covers; bin 0 at the bottom.
  const scale = 1 / (vmax - vmin);
  for (let px = 0; px < width; px++) {
    const [f0, f1] = span(px, width, frames);
    for (let py = 0; py < height; py++) {
      const [b0, b1] = span(height - 1 - py, height, bins);
      let sum = 0;
      let n = 0;
      for (let f = f0; f < f1; f++) {
        for (let b = b0; b < b1; b++) {
          const v = values[f * bins + b];
          if (Number.isFinite(v)) {
            sum += v;
            n++;
          }
        }
      }
      raster.set(left + px, top + py, n ? colorAt((sum / n - vmin) * scale) : NAN_COLOR);
    }
  }

  // Frame and axes.
  raster.fill(left - 1, top - 1, width + 2, 1, INK);
  raster.fill(left - 1, top + height, width + 2, 1, INK);
  raster.fill(left - 1, top - 1, 1, height + 2, INK);
  raster.fill(left + width, top - 1, 1, height + 2, INK);

  // x: seconds.
  const xAt = (t: number) => left + Math.round(((t * fps - first) / frames) * width);
  const labelY = top + height + TICK + GAP;
  for (let t = Math.ceil(t0 / tStep - 1e-9) * tStep; t <= t1 + 1e-9; t += tStep) {
    const x = Math.min(left + width, xAt(t));
    raster.fill(x, top + height, 1, TICK + 1, INK);
    const text = label(t, tStep);
    drawText(raster, x - textWidth(text, SCALE) / 2, labelY, text, { scale: SCALE, color: INK });
  }
  const xLabel = "time (s)";
  drawText(raster, left + (width - textWidth(xLabel, SCALE)) / 2, labelY + TEXT_H + GAP, xLabel, {
    scale: SCALE,
    color: INK,
  });

  // y: bins, at the middle of their rows.
  for (const b of yTicks) {
    const y = top + height - Math.round(((b + 0.5) / bins) * height);
    raster.fill(left - 1 - TICK, y, TICK, 1, INK);
    const text = String(b);
    drawText(raster, left - 1 - TICK - GAP - textWidth(text, SCALE), y - TEXT_H / 2, text, {
      scale: SCALE,
      color: INK,
    });
  }
  drawText(raster, GAP, top + (height - textWidth(yLabel, SCALE)) / 2, yLabel, {
    scale: SCALE,
    color: INK,
    vertical: true,
  });

  // Colour bar: vmin at the bottom row, vmax at the top.
  for (let py = 0; py < height; py++) {
    const color = colorAt(height > 1 ? 1 - py / (height - 1) : 1);
    raster.fill(barX, top + py, barWidth, 1, color);
  }
  raster.fill(barX - 1, top - 1, barWidth + 2, 1, INK);
  raster.fill(barX - 1, top + height, barWidth + 2, 1, INK);
  raster.fill(barX - 1, top - 1, 1, height + 2, INK);
  raster.fill(barX + barWidth, top - 1, 1, height + 2, INK);
  for (const v of cTicks) {
    const y = top + Math.round((1 - (v - vmin) / (vmax - vmin)) * (height - 1));
    raster.fill(barX + barWidth, y, TICK, 1, INK);
    drawText(raster, barX + barWidth + TICK + GAP, y - TEXT_H / 2, label(v, cStep), {
      scale: SCALE,
      color: INK,
    });
  }

  if (options.title) {
    const title = fitText(options.title, right - left - GAP * 2, SCALE);
    drawText(raster, left, GAP * 2, title, { scale: SCALE, color: INK });
  }
  return {
    raster,
    layout: {
      plot: { x: left, y: top, width, height },
      colorbar: { x: barX, y: top, width: barWidth, height },
      vmin,
      vmax,
    },
  };
}
