import { CacheError, SampleError } from "../errors.ts";
import { Moments } from "../ops/moments.ts";
import { computeStats, type StatsReport } from "../ops/stats.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { type FixtureSample, h5pyFixtures } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { seededRandom } from "./helpers/random.ts";
import { runCli } from "./helpers/run_cli.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");
const { fixture } = h5pyFixtures("stats_test_", python);

function sample(key: string, t: number, mel = true): FixtureSample {
  const datasets: FixtureSample["datasets"] = {
    hidden_states: { dtype: "float32", shape: [t, 1024] },
  };
  if (mel) datasets.mel_spectrogram = { dtype: "float32", shape: [1, t + 3, 80] };
  return { key, datasets };
}

/** LJSpeech layout: flat keys, float16, 3 shards; one sample has no mel. */
const ljspeech = () =>
  fixture("lj", [
    sample("LJ001-0001", 31),
    sample("LJ001-0002", 7),
    sample("LJ001-0003", 50, false),
    sample("LJ002-0001", 12),
    sample("LJ002-0002", 40),
    sample("LJ003-0001", 1),
    sample("LJ003-0002", 23),
  ], { samplesPerFile: 3 });

/** LibriTTS layout: nested keys, float32 kept, 2 shards. */
const libritts = () =>
  fixture("libritts", [
    sample("train-clean-100/103/1240/103_1240_000001_000000", 18),
    sample("train-clean-100/103/1240/103_1240_000002_000000", 33),
    sample("train-clean-100/19/198/19_198_000000_000000", 9),
    sample("dev-clean/84/121123/84_121123_000007_000000", 27),
  ], { samplesPerFile: 3, useFloat16: false });

/** The same statistics with numpy over what h5py reads. */
const REFERENCE = String.raw`
import json, sys
import h5py, numpy as np
d, name = sys.argv[1], sys.argv[2]
index = json.load(open(d + "/hdf5_index.json"))["sample_index"]
rows, missing, frames = [], 0, 0
for key, e in index.items():
    with h5py.File(d + "/features_%05d.h5" % e["file_idx"], "r") as f:
        g = f[e["group_name"]]
        if name not in g:
            missing += 1
            continue
        a = g[name][()].astype(np.float64)
    rows.append(a.reshape(-1, a.shape[-1]))
x = np.concatenate(rows)
finite = np.isfinite(x)
n = finite.sum(axis=0)
mean = np.where(finite, x, 0).sum(axis=0) / n
var = (np.where(finite, x - mean, 0) ** 2).sum(axis=0) / n
flat = x[finite]
print(json.dumps(dict(sample_count=len(rows), total_frames=int(x.shape[0]), mel_dim=int(x.shape[1]),
    mean=mean.tolist(), variance=var.tolist(), gmean=float(flat.mean()), gvar=float(flat.var()),
    # compute_mel_statistics.py's global_stats: the mean over dimensions of the per-dimension figures
    dmean=float(np.mean(mean)), dvar=float(np.mean(var)), dstd=float(np.mean(np.sqrt(var))),
    nan=int(np.isnan(x).sum()), inf=int(np.isinf(x).sum()), missing=missing)))
`;

interface Reference {
  sample_count: number;
  total_frames: number;
  mel_dim: number;
  mean: number[];
  variance: number[];
  gmean: number;
  gvar: number;
  dmean: number;
  dvar: number;
  dstd: number;
  nan: number;
  inf: number;
  missing: number;
}

function close(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.abs(expected) + 1e-300;
  assert(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs numpy ${expected}`);
}

function assertMatchesNumpy(report: StatsReport, ref: Reference, what: string): void {
  assertEquals(report.sample_count, ref.sample_count, `${what}: sample_count`);
  assertEquals(report.total_frames, ref.total_frames, `${what}: total_frames`);
  assertEquals(report.mel_dim, ref.mel_dim, `${what}: mel_dim`);
  assertEquals(report.nan_count, ref.nan, `${what}: nan_count`);
  assertEquals(report.inf_count, ref.inf, `${what}: inf_count`);
  assertEquals(report.samples_without_dataset, ref.missing, `${what}: missing`);
  const p = report.per_dimension_stats;
  for (let d = 0; d < ref.mel_dim; d++) {
    close(p.mean[d], ref.mean[d], 1e-9, `${what}: mean[${d}]`);
    close(p.variance[d], ref.variance[d], 1e-7, `${what}: variance[${d}]`);
    close(p.std[d], Math.sqrt(ref.variance[d]), 1e-7, `${what}: std[${d}]`);
  }
  close(report.global_stats.mean, ref.dmean, 1e-9, `${what}: global mean`);
  close(report.global_stats.variance, ref.dvar, 1e-7, `${what}: global variance`);
  close(report.global_stats.std, ref.dstd, 1e-7, `${what}: global std`);
  close(report.pooled_stats.mean, ref.gmean, 1e-9, `${what}: pooled mean`);
  close(report.pooled_stats.variance, ref.gvar, 1e-7, `${what}: pooled variance`);
  assert(
    Math.abs(ref.gvar - ref.dvar) > 1e-6 * ref.dvar,
    `${what}: the fixture tells pooled from across-dimension variance`,
  );
}

for (const [layout, build] of [["LJSpeech", ljspeech], ["LibriTTS", libritts]] as const) {
  Deno.test({
    name: `computeStats equals numpy over h5py's reads on a ${layout}-layout cache`,
    ignore,
    async fn() {
      const py = requireTool(python, "python3 with h5py");
      const { dir } = await build();
      for (const dataset of ["mel_spectrogram", "hidden_states"]) {
        const ref = JSON.parse(await runPython(py, REFERENCE, [dir, dataset])) as Reference;
        assert(ref.nan > 0 && ref.inf > 0, "the fixture holds NaN and inf");
        const report = await computeStats(dir, { dataset, workers: 0 });
        assertEquals(report.dataset, dataset);
        assertMatchesNumpy(report, ref, `${layout} ${dataset}`);
      }
    },
  });
}

Deno.test({
  name: "computeStats gives the same bits with 0, 1 and 2 workers, and reports progress",
  ignore,
  async fn() {
    const { dir } = await ljspeech();
    const seen: number[] = [];
    const base = await computeStats(dir, {
      dataset: "hidden_states",
      workers: 0,
      onProgress: (done, total) => {
        assertEquals(total, 7);
        seen.push(done);
      },
    });
    assertEquals(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const workers of [1, 2]) {
      const report = await computeStats(dir, { dataset: "hidden_states", workers });
      assertEquals(JSON.stringify(report), JSON.stringify(base), `workers ${workers}`);
    }
  },
});

Deno.test({
  name: "computeStats names a sample without the dataset, and refuses a dataset no sample has",
  ignore,
  async fn() {
    const { dir } = await ljspeech();
    const warnings: string[] = [];
    const report = await computeStats(dir, {
      dataset: "mel_spectrogram",
      workers: 2,
      onWarning: (m) => warnings.push(m),
    });
    assertEquals(report.samples_without_dataset, 1);
    assertEquals(warnings, ['sample "LJ001-0003" has no mel_spectrogram']);
    await assertRejects(
      () => computeStats(dir, { dataset: "pitch", workers: 0 }),
      (e: unknown) => e instanceof CacheError && /no sample has a dataset "pitch"/.test(e.message),
    );
  },
});

Deno.test({
  name: "computeStats refuses samples whose feature dimensions differ, naming both keys",
  ignore,
  async fn() {
    const { dir } = await fixture("mixed", [
      { key: "a", datasets: { x: { dtype: "float32", shape: [4, 8] } } },
      { key: "b", datasets: { x: { dtype: "float32", shape: [4, 9] } } },
    ], { samplesPerFile: 5 });
    await assertRejects(
      () => computeStats(dir, { dataset: "x", workers: 0 }),
      (e: unknown) =>
        e instanceof SampleError && e.key === "b" && /dimension 9 .* 8 of "a"/.test(e.message),
    );
  },
});

Deno.test("Moments merged in any split equals one pass, to rounding", () => {
  const rand = seededRandom(7);
  const dim = 5;
  const data = Float64Array.from({ length: 400 * dim }, () => (rand() - 0.5) * 1e3 + 1e4);
  const whole = new Moments(dim);
  whole.add(data);
  const parts = new Moments(dim);
  for (let at = 0; at < data.length;) {
    const frames = 1 + Math.floor(rand() * 30);
    const piece = new Moments(dim);
    piece.add(data.subarray(at, Math.min(data.length, at + frames * dim)));
    parts.merge(piece.state());
    at += frames * dim;
  }
  const a = whole.perDimension();
  const b = parts.perDimension();
  for (let d = 0; d < dim; d++) {
    close(b.mean[d], a.mean[d], 1e-14, `mean[${d}]`);
    close(b.variance[d], a.variance[d], 1e-11, `variance[${d}]`);
  }
  assertEquals(parts.frames, 400);
});

Deno.test({
  name: "h5shard stats writes the JSON with a progress line, and needs --dataset",
  ignore,
  async fn() {
    const { dir } = await libritts();
    const out = `${await Deno.makeTempDir()}/stats.json`;
    const run = (args: string[]) => runCli(args);
    const ok = await run(["stats", dir, "--dataset", "mel_spectrogram", "--out", out]);
    assertEquals(ok.code, 0, ok.stderr);
    assertMatch(ok.stderr, /stats {2}\[#+\] 4\/4 samples {2}100%/);
    assertMatch(ok.stdout, /mel_spectrogram over 4 samples, 99 frames, dim 80/);
    const json = JSON.parse(await Deno.readTextFile(out));
    assertEquals(Object.keys(json).slice(0, 6), [
      "dataset",
      "sample_count",
      "total_frames",
      "mel_dim",
      "per_dimension_stats",
      "global_stats",
    ]);
    assertEquals(json.per_dimension_stats.mean.length, 80);
    const missing = await run(["stats", dir]);
    assertEquals(missing.code, 2);
    assertMatch(missing.stderr, /--dataset is required/);
    const badWorkers = await run(["stats", dir, "--dataset", "x", "--workers", "two"]);
    assertEquals(badWorkers.code, 2);
    assertMatch(badWorkers.stderr, /--workers.*"two"/);
  },
});
