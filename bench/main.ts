/**
 * `deno task bench`: h5shard against the original h5py writer and reader, on two h5py builds,
 * on one generated NPZ cache. Every contender runs in its own process; contenders alternate
 * within each repetition; medians are reported. See `--help`, and `cases.ts` to add a case.
 */
import { parseBenchArgs, SIZES, USAGE } from "./args.ts";
import type { BenchCase } from "./cases.ts";
import {
  type Contender,
  DENO_RUN,
  h5pyWriterId,
  migrateContenders,
  type Paths,
  type PlanFile,
  readContenders,
} from "./contenders.ts";
import {
  DEFAULT_MIN_FRAMES,
  ensureNpzCache,
  expectedElements,
  findAnchors,
  makePlan,
  prefixCache,
} from "./data.ts";
import {
  dirBytes,
  GNU_TIME,
  haveGnuTime,
  removeDir,
  runChild,
  syncDisk,
  warmRead,
} from "./proc.ts";
import { type Measurement, type ProfileRun, renderReport, summarize } from "./report.ts";
import { summarizeProfiles } from "./cpu_profile.ts";
import { runMergeBench } from "./merge_bench.ts";
import { preprocessCase } from "./preprocess_mel.ts";
import { w2vBertCase } from "./preprocess_w2v_bert.ts";
import { runScaling } from "./scaling.ts";

const BENCH = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const ROOT = BENCH.replace(/\/bench$/, "");
const OUT = `${BENCH}/out`;

/** Cases beyond migrate and reads, run after them (see cases.ts). */
const CASES: BenchCase[] = [];

async function measure(c: Contender, rep: number): Promise<Measurement> {
  if (c.outDir) await removeDir(c.outDir);
  await warmRead(c.warm);
  const r = await runChild(c.cmd, c.args, ROOT);
  const t0 = performance.now();
  await syncDisk();
  const syncSeconds = (performance.now() - t0) / 1000;
  const outputBytes = c.outDir ? await dirBytes(c.outDir) : undefined;
  const error = r.error ?? c.check(r.json);
  const m: Measurement = {
    id: c.id,
    rep,
    ok: error === undefined,
    error,
    seconds: Number(r.json.seconds),
    wallSeconds: r.wallSeconds,
    syncSeconds,
    cpuSeconds: r.cpuSeconds,
    peakRssKiB: r.maxRssKiB ??
      (typeof r.json.peak_rss_kib === "number" ? r.json.peak_rss_kib : undefined),
    inputBytes: c.inputBytes,
    outputBytes,
    reads: c.reads,
    child: r.json,
  };
  const what = m.ok ? `${m.seconds.toFixed(2)} s` : `FAILED: ${error}`;
  console.error(`  rep ${rep} ${c.id}: ${what}`);
  return m;
}

/** Runs `args` (a bench script and its arguments) untimed under --cpu-prof, summarised. */
async function profiled(
  what: string,
  paths: Paths,
  dir: string,
  warm: string,
  args: string[],
): Promise<ProfileRun> {
  await removeDir(dir);
  await warmRead(warm);
  console.error(`  profiling ${what} with --cpu-prof`);
  const r = await runChild(
    paths.deno,
    [...DENO_RUN, "--cpu-prof", `--cpu-prof-dir=${dir}`, ...args],
    ROOT,
  );
  await syncDisk();
  if (!r.ok) return { what, dir, seconds: NaN, threads: [], error: r.error };
  const threads = await summarizeProfiles(dir, ROOT);
  return { what, dir, seconds: Number(r.json.seconds), threads };
}

/** Where h5shard's time goes: one migrate (full cache, 2 workers) and one whole-sample read run. */
async function profileH5shard(paths: Paths, plans: PlanFile[], dir: string) {
  const out = `${paths.runs}/profiled`;
  await removeDir(out);
  const migrate = await profiled(
    "one h5shard migrate, full cache, 2 workers",
    paths,
    `${dir}/migrate`,
    paths.npz,
    [
      `${BENCH}/run_migrate.ts`,
      "--npz-dir",
      paths.npz,
      "--out-dir",
      out,
      "--workers",
      "2",
    ],
  );
  const whole = plans.find((p) => p.mode === "whole")!;
  const read = await profiled(
    `h5shard reader, ${whole.plan.reads.length} whole samples from h5shard's files`,
    paths,
    `${dir}/read`,
    `${paths.runs}/h5shard-w2`,
    [`${BENCH}/run_reader.ts`, `${paths.runs}/h5shard-w2`, whole.path, "whole"],
  );
  return [migrate, read];
}

async function runAll(contenders: Contender[], reps: number, into: Measurement[]) {
  for (let rep = 1; rep <= reps; rep++) {
    for (const c of contenders) if (!c.unavailable) into.push(await measure(c, rep));
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "merge") return await runMergeBench(argv.slice(1));
  const opts = parseBenchArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const started = new Date();
  const loadStart = Deno.loadavg();
  const anchors = await findAnchors(ROOT);
  if (opts.workers && anchors.length > 0) {
    const tables = await runScaling({
      workers: opts.workers,
      size: opts.size,
      reps: opts.reps,
      python: anchors[0].python,
      bench: BENCH,
      root: ROOT,
      out: OUT,
      profile: opts.profile,
    });
    const machine = {
      cpus: navigator.hardwareConcurrency,
      loadavgStart: loadStart,
      loadavgEnd: Deno.loadavg(),
    };
    await Deno.writeTextFile(
      `${OUT}/scaling.json`,
      JSON.stringify({ size: opts.size, reps: opts.reps, machine, tables }, null, 2) + "\n",
    );
    console.log(
      `\nwrote ${OUT}/scaling.json (load average ${loadStart[0]} -> ${Deno.loadavg()[0]})`,
    );
    return 0;
  }
  if (anchors.length === 0) {
    console.error(
      "error: no python3 that imports h5py and numpy (tried /usr/bin/python3, the venv " +
        "~/.cache/h5shard/venv, python3).\n" +
        "Install them, e.g. `apt-get install python3-h5py` on Debian/Ubuntu, and run again.",
    );
    return 2;
  }
  const py = anchors[0];
  const size = SIZES[opts.size];
  const dataDir = `${OUT}/data/${opts.size}${
    opts.minFrames === DEFAULT_MIN_FRAMES ? "" : `_t${opts.minFrames}`
  }`;
  const paths: Paths = {
    bench: BENCH,
    python: py.python,
    anchors,
    deno: Deno.execPath(),
    npz: `${dataDir}/npz`,
    quarter: `${dataDir}/npz_quarter`,
    runs: `${OUT}/runs/${opts.size}`,
  };
  console.error(
    `bench: size ${opts.size}, ${opts.reps} reps, anchors ${
      anchors.map((a) => `${a.python} (${a.versions})`).join(" and ")
    }`,
  );
  const gen = await ensureNpzCache(
    py.python,
    BENCH,
    paths.npz,
    `${dataDir}/manifest.json`,
    size.samples,
    opts.minFrames,
  );
  if (gen.generatedSeconds) {
    console.error(`  generated the NPZ cache in ${gen.generatedSeconds.toFixed(1)} s`);
  }
  const full = gen.manifest;
  const quarter = await prefixCache(
    paths.npz,
    full,
    paths.quarter,
    `${dataDir}/manifest_quarter.json`,
    size.samples / 4,
  );

  const measurements: Measurement[] = [];
  const migrate = migrateContenders(paths, full, quarter, opts.h5wasm);
  await runAll(migrate, opts.reps, measurements);

  const plans: PlanFile[] = [];
  const wholeReads = size.wholeReads * opts.readPasses;
  const sliceReads = size.sliceReads * opts.readPasses;
  for (
    const [mode, count, seed] of [["whole", wholeReads, 1], ["slice", sliceReads, 2]] as const
  ) {
    const plan = makePlan(full, count, seed);
    const path = `${paths.runs}/plan_${mode}.json`;
    await Deno.mkdir(paths.runs, { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(plan));
    plans.push({ mode, path, plan, expected: expectedElements(full, plan, mode === "whole") });
  }
  // Reads of h5shard's files need its last migrate to have succeeded.
  const lastH5shard = measurements.filter((m) => m.id === "migrate:h5shard-w2").at(-1);
  const h5shardFilesMissing = lastH5shard?.ok ? undefined : "no h5shard files (its migrate failed)";
  const lastH5py = measurements.filter((m) => m.id === h5pyWriterId(py)).at(-1);
  if (!lastH5py?.ok) throw new Error(`the h5py writer failed: ${lastH5py?.error}`);
  let contentCheck: Record<string, unknown> | undefined;
  if (!h5shardFilesMissing) {
    const r = await runChild(paths.python, [
      `${BENCH}/h5py_compare.py`,
      `${paths.runs}/h5py-${py.tag}`,
      `${paths.runs}/h5shard-w2`,
    ], ROOT);
    contentCheck = r.ok ? r.json : { error: r.error };
  }
  const read = readContenders(paths, plans, h5shardFilesMissing);
  await runAll(read, opts.reps, measurements);
  const cases: { title: string; ids: string[] }[] = [];
  const caseContenders: Contender[] = [];
  for (const c of CASES) {
    const cs = await c.contenders(paths, opts.size);
    cases.push({ title: c.title, ids: cs.map((x) => x.id) });
    caseContenders.push(...cs);
  }
  await runAll(caseContenders, opts.reps, measurements);

  const profiles = opts.profile && !h5shardFilesMissing
    ? await profileH5shard(paths, plans, `${OUT}/profile/${opts.size}`)
    : undefined;

  const npzBytes = await dirBytes(paths.npz);
  const summary = summarize({
    size: opts.size,
    reps: opts.reps,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: {
      cpus: navigator.hardwareConcurrency,
      loadavgStart: loadStart,
      loadavgEnd: Deno.loadavg(),
      deno: Deno.version.deno,
      anchors: anchors.map(({ tag, python, versions, short }) => ({
        tag,
        python,
        versions,
        short,
      })),
      openblasCoretype: Deno.env.get("OPENBLAS_CORETYPE"),
      peakRss: haveGnuTime
        ? `GNU time %M (${GNU_TIME})`
        : "VmHWM reported by the child (Deno children cannot read it without --allow-all)",
    },
    data: {
      samples: full.samples.length,
      inputBytes: full.input_bytes,
      npzBytes,
      quarterSamples: quarter.samples.length,
      quarterInputBytes: quarter.input_bytes,
      wholeReads,
      sliceReads,
      minFrames: opts.minFrames,
    },
    contenders: [...migrate, ...read, ...caseContenders],
    cases,
    measurements,
    contentCheck,
    profiles,
  });
  const report = renderReport(summary);
  console.log(report);
  // Preprocess from WAV (mel only) against the original's torch path: bench/preprocess_mel.ts.
  const preprocess = await preprocessCase(opts.size, opts.reps, OUT);
  // Both features, w2v-BERT on ONNX Runtime against transformers: bench/preprocess_w2v_bert.ts.
  const preprocessW2vBert = await w2vBertCase(opts.size, opts.reps, OUT);
  await Deno.writeTextFile(
    `${OUT}/results.json`,
    JSON.stringify({ ...summary, preprocess, preprocessW2vBert }, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${OUT}/report.txt`, report + "\n");
  console.log(`\nwrote ${OUT}/results.json and ${OUT}/report.txt`);
  return 0;
}

try {
  Deno.exitCode = await main(Deno.args);
} catch (e) {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  Deno.exitCode = 1;
}
