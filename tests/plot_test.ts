/**
 * `plot` and the PNG encoder, checked by decoding the PNG with Pillow (an independent decoder)
 * and looking at the pixels: sizes, the colour ramp, and which way up the bins are.
 */
import { SampleError } from "../errors.ts";
import { colorAt, COLORMAP } from "../plot/colormap.ts";
import { pack } from "../ops/pack.ts";
import { plotSample } from "../ops/plot.ts";
import { encodePng } from "../plot/png.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { findMlPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { runCli } from "./helpers/run_cli.ts";

async function pillowPython(): Promise<string | undefined> {
  const py = await findMlPython();
  if (!py) return undefined;
  const ok = await new Deno.Command(py, { args: ["-c", "import PIL"], stderr: "null" }).output();
  return ok.success ? py : undefined;
}

const python = await pillowPython();
const ignore = ignoreWithout(python, "the Python venv with Pillow");

const FRAMES = 100;
const MELS = 80;
const BRIGHT_BINS = 10;

/** A cache with one sample: a mel that is bright (5) in bins 0..9 and dark (-5) above. */
async function bandCache(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "plot_test_" });
  const mel = new Float32Array(FRAMES * MELS);
  for (let t = 0; t < FRAMES; t++) {
    for (let m = 0; m < MELS; m++) mel[t * MELS + m] = m < BRIGHT_BINS ? 5 : -5;
  }
  const hidden = Float32Array.from({ length: FRAMES * 16 }, (_, i) => (i % 16) - 8);
  await pack(
    ReadableStream.from([{
      key: "LJ001-0001",
      tensors: {
        mel_spectrogram: { dtype: "float32", shape: [1, FRAMES, MELS], data: mel },
        hidden_states: { dtype: "float32", shape: [FRAMES, 16], data: hidden },
        tokens: { dtype: "int32", shape: [FRAMES], data: new Int32Array(FRAMES) },
      },
    }]),
    dir,
  );
  // As a preprocess run records it: 24 kHz, hop 300 -> 80 frames per second.
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
  meta.mel_config = { sample_rate: 24000, hop_size: 300 };
  await Deno.writeTextFile(`${dir}/metadata.json`, JSON.stringify(meta));
  return dir;
}

/** Decodes a PNG with Pillow: size, mode, and every pixel as [r, g, b]. */
async function decode(png: Uint8Array) {
  const file = await Deno.makeTempFile({ suffix: ".png" });
  await Deno.writeFile(file, png);
  const out = await runPython(
    requireTool(python, "venv python with Pillow"),
    String.raw`
import json, sys
from PIL import Image
im = Image.open(sys.argv[1]); im.load()
print(json.dumps(dict(size=im.size, mode=im.mode, format=im.format, px=list(im.convert("RGB").getdata()))))
`,
    [file],
  );
  await Deno.remove(file);
  const r = JSON.parse(out) as {
    size: [number, number];
    mode: string;
    format: string;
    px: [number, number, number][];
  };
  return { ...r, at: (x: number, y: number) => r.px[y * r.size[0] + x] };
}

const luminance = ([r, g, b]: ArrayLike<number> & Iterable<number>) =>
  0.2126 * r + 0.7152 * g + 0.0722 * b;
const near = (a: readonly number[], b: readonly number[]) =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i]))) <= 2;

Deno.test("the colour map rises in lightness from dark violet to yellow", () => {
  for (let i = 1; i < 256; i++) {
    const prev = luminance(COLORMAP.subarray((i - 1) * 3, i * 3));
    assert(luminance(COLORMAP.subarray(i * 3, i * 3 + 3)) >= prev, `entry ${i}`);
  }
  assert(luminance(colorAt(1)) - luminance(colorAt(0)) > 150);
  assertEquals(colorAt(0), [0x44, 0x01, 0x54]);
  assertEquals(colorAt(NaN), colorAt(0));
});

Deno.test({
  name: "encodePng writes what Pillow decodes to the same pixels",
  ignore,
  async fn() {
    const width = 7;
    const height = 5;
    const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    const img = await decode(encodePng({ width, height, data }));
    assertEquals([img.format, img.mode, img.size], ["PNG", "RGB", [width, height]]);
    assertEquals(img.px.flat(), [...data]);
  },
});

Deno.test({
  name: "plotSample draws low mel bins at the bottom, the colour bar dark to bright upwards",
  ignore,
  async fn() {
    const dir = await bandCache();
    const plot = await plotSample(dir, "LJ001-0001");
    const { plot: area, colorbar, vmin, vmax } = plot.layout;
    assertEquals([vmin, vmax], [-5, 5]);
    assertEquals(plot.framesPerSecond, 80);
    const img = await decode(plot.png);
    assertEquals(img.size, [plot.width, plot.height]);
    assertEquals(area.width % FRAMES, 0, "whole pixels per frame");
    assertEquals(area.height % MELS, 0, "whole pixels per bin");
    const perBin = area.height / MELS;
    const x = area.x + Math.floor(area.width / 2);
    // Rows from the bottom of the data area: the first BRIGHT_BINS bins are the top colour.
    for (let row = 0; row < area.height; row++) {
      const y = area.y + area.height - 1 - row;
      const bright = Math.floor(row / perBin) < BRIGHT_BINS;
      const want = bright ? colorAt(1) : colorAt(0);
      assert(near(img.at(x, y), want), `row ${row} from the bottom: ${img.at(x, y)} vs ${want}`);
    }
    // The colour bar: lightness rises from bottom to top, from the low end to the high end.
    const cx = colorbar.x + Math.floor(colorbar.width / 2);
    const bar = Array.from({ length: colorbar.height }, (_, i) => img.at(cx, colorbar.y + i));
    assert(near(bar[0], colorAt(1)) && near(bar.at(-1)!, colorAt(0)), "bar ends");
    for (let i = 1; i < bar.length; i++) {
      assert(luminance(bar[i - 1]) >= luminance(bar[i]), `bar row ${i} is lighter below`);
    }
    // Labels: dark ink left of the data (bin ticks) and below it (seconds).
    const ink = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) if (luminance(img.at(x, y)) < 60) n++;
      }
      return n;
    };
    assert(ink(0, area.y, area.x - 2, area.y + area.height) > 100, "y tick labels");
    assert(
      ink(area.x, area.y + area.height + 2, area.x + area.width, img.size[1]) > 100,
      "x ticks",
    );
  },
});

Deno.test({
  name: "plotSample draws a frame range and hidden_states, and refuses a 1-D dataset",
  ignore,
  async fn() {
    const dir = await bandCache();
    const part = await plotSample(dir, "LJ001-0001", { frames: [10, 60] });
    assertEquals(part.shape, [1, 50, MELS]);
    assertEquals(part.layout.plot.width % 50, 0);
    const tail = await plotSample(dir, "LJ001-0001", { frames: [-30] });
    assertEquals(tail.shape, [1, 30, MELS]);
    const clamped = await plotSample(dir, "LJ001-0001", { frames: [90, 1000] });
    assertEquals(clamped.shape, [1, 10, MELS]);
    const hs = await plotSample(dir, "LJ001-0001", { dataset: "hidden_states" });
    assertEquals(hs.shape, [FRAMES, 16]);
    const img = await decode(hs.png);
    const { plot: area } = hs.layout;
    // Dimension d holds d - 8: dimension 0 (darkest) at the bottom, 15 (brightest) at the top.
    const x = area.x + 3;
    const low = img.at(x, area.y + area.height - 1);
    const high = img.at(x, area.y);
    assert(luminance(high) > luminance(low) + 100, `${high} above ${low}`);
    await assertRejects(
      () => plotSample(dir, "LJ001-0001", { dataset: "tokens" }),
      (e: unknown) => e instanceof SampleError && /int32 \[100\]/.test(e.message),
    );
  },
});

Deno.test({
  name: "h5shard plot writes a PNG and needs --out",
  ignore,
  async fn() {
    const dir = await bandCache();
    const out = `${dir}/mel.png`;
    const run = (args: string[]) => runCli(args);
    const ok = await run(["plot", dir, "LJ001-0001", "--frames", "0:40", "--out", out]);
    assertEquals(ok.code, 0, ok.stderr);
    assertMatch(ok.stdout, /PNG of LJ001-0001 \(1, 40, 80\), 80 frames\/s/);
    const img = await decode(await Deno.readFile(out));
    assertEquals(img.format, "PNG");
    const missing = await run(["plot", dir, "LJ001-0001"]);
    assertEquals(missing.code, 2);
    assertMatch(missing.stderr, /--out FILE\.png is required/);
  },
});
