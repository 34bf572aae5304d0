/**
 * {@linkcode plotSample}: one dataset of one sample as a PNG a person reads at a glance, a
 * spectrogram for `mel_spectrogram` (1, T, 80), a heat map for `hidden_states` (T, 1024).
 *
 * @module
 */
import { readCacheMetadata, recordedMelConfig } from "../cache/cache_metadata.ts";
import { SampleError } from "../errors.ts";
import { encodePng } from "../plot/png.ts";
import { type FrameRange, resolveFrames } from "../formats/read_sample.ts";
import { type HeatmapLayout, renderHeatmap } from "../plot/heatmap.ts";
import { openCache } from "./cache_reader.ts";

/** Options of {@linkcode plotSample}. */
export interface PlotOptions {
  /** Dataset to draw. Default `mel_spectrogram`. */
  dataset?: string;
  /** Frames to draw, as a Python slice `[start, end?]`, clamped (default: all). */
  frames?: FrameRange;
  /**
   * Frames per second for the time axis. Default: `sample_rate / hop_size` of the `mel_config`
   * in the cache's `metadata.json` when it has one, else 50 (16 kHz, hop 320).
   */
  framesPerSecond?: number;
  /** Values at the two ends of the colour map (default: 0.5th and 99.5th percentiles). */
  vmin?: number;
  vmax?: number;
}

/** What {@linkcode plotSample} made. */
export interface PlotResult {
  png: Uint8Array;
  width: number;
  height: number;
  /** The stored shape of the dataset read, after the frame range. */
  shape: number[];
  framesPerSecond: number;
  /** Where the data and the colour bar are in the image, and the values at the colour ends. */
  layout: HeatmapLayout;
}

/** Frames per second of a cache's features, from `metadata.json`'s mel_config when present. */
export function cacheFramesPerSecond(dir: string): Promise<number | undefined> {
  // No or unreadable metadata: the caller's default applies.
  const mel = recordedMelConfig(readCacheMetadata(dir));
  const rate = Number(mel?.sample_rate);
  const hop = Number(mel?.hop_size);
  return Promise.resolve(rate > 0 && hop > 0 ? rate / hop : undefined);
}

/**
 * Draws `dataset` of sample `key` of the cache in `dir`: time on x, bins on y (bin 0 at the
 * bottom), viridis-like colours, a colour bar.
 *
 * @example
 * ```ts
 * import { pack } from "../mod.ts";
 * import { plotSample } from "./plot.ts";
 * const data = Float32Array.from({ length: 100 * 8 }, (_, i) => Math.sin(i));
 * const mel = { dtype: "float32" as const, shape: [100, 8], data };
 * const dir = await Deno.makeTempDir();
 * await pack(ReadableStream.from([{ key: "a", tensors: { mel_spectrogram: mel } }]), dir);
 * const { png, shape } = await plotSample(dir, "a", { frames: [0, 50] });
 * if (shape.join() !== "50,8" || png[1] !== 0x50) throw new Error("a PNG of 50 frames");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function plotSample(
  dir: string,
  key: string,
  options: PlotOptions = {},
): Promise<PlotResult> {
  const dataset = options.dataset ?? "mel_spectrogram";
  const cache = await openCache(dir, { maxOpenFiles: 1 });
  let tensors;
  try {
    // Whole: one sample is small, and the resolved start is needed for the time axis.
    tensors = await cache.get(key, { datasets: [dataset] });
  } finally {
    cache.close();
  }
  const t = tensors[dataset];
  const { shape } = t;
  const timeFirst = shape.length === 2 || (shape.length === 3 && shape[0] === 1);
  if (!timeFirst || t.dtype === "bool") {
    throw new SampleError(
      key,
      `cannot draw ${t.dtype} ${
        JSON.stringify(shape)
      }: expected numbers shaped (T, D) or (1, T, D)`,
      undefined,
      dataset,
    );
  }
  const bins = shape.at(-1)!;
  const [first, end] = options.frames
    ? resolveFrames(options.frames, shape.at(-2)!)
    : [0, shape.at(-2)!];
  const frames = end - first;
  if (frames === 0 || bins === 0) {
    throw new SampleError(
      key,
      `nothing to draw in shape ${JSON.stringify(shape)}`,
      undefined,
      dataset,
    );
  }
  const rows = t.data.subarray(first * bins, end * bins);
  const values = typeof rows[0] === "bigint"
    ? Float64Array.from(rows as BigInt64Array, Number)
    : rows as ArrayLike<number>;
  const fps = options.framesPerSecond ?? await cacheFramesPerSecond(dir) ?? 50;
  const range = options.frames ? ` frames ${first}:${end}` : "";
  const drawn = shape.with(-2, frames);
  const { raster, layout } = renderHeatmap(values, frames, bins, {
    title: `${key}  ${dataset} ${t.dtype} (${drawn.join(", ")})${range}`,
    yLabel: dataset === "mel_spectrogram" ? "mel bin" : "dimension",
    framesPerSecond: fps,
    firstFrame: first,
    vmin: options.vmin,
    vmax: options.vmax,
  });
  return {
    png: encodePng(raster),
    width: raster.width,
    height: raster.height,
    shape: drawn,
    framesPerSecond: fps,
    layout,
  };
}
