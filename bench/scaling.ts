/**
 * `deno task bench --workers 1,2,4,8,16`: how migrate and preprocess (mel only) scale with the
 * workers. Each worker count runs in its own process (whole-process wall time, CPU time and peak
 * RSS from GNU time), the counts alternating within each repetition; medians are reported as a
 * table: throughput, parallel efficiency against 1 worker (throughput(w) / (w x throughput(1))),
 * CPU seconds per GB of input and peak RSS. The workers a run really used are printed too: both
 * commands cap them at the machine's cores.
 *
 * @module
 */
import { DENO_RUN } from "./contenders.ts";
import { type ProfileSummary, summarizeProfiles } from "./cpu_profile.ts";
import { ensureNpzCache } from "./data.ts";
import { dirBytes, haveGnuTime, removeDir, runChild, warmRead } from "./proc.ts";
import { makeSpeechCorpus, PREPROCESS_SIZES, SENTENCES } from "./preprocess_mel.ts";
import { median } from "./stats.ts";
import type { SizeName } from "./args.ts";
import { SIZES } from "./args.ts";

/** One worker count's medians. */
export interface ScalingRow {
  workers: number;
  /** Workers the run reported using (capped at the cores). */
  used: number;
  seconds: number;
  wallSeconds: number;
  /** MB/s of float32 input (migrate) or audio seconds per second (preprocess). */
  throughput: number;
  efficiency: number;
  cpuSecondsPerGB?: number;
  peakRssMiB?: number;
}

/** A scaling table. */
export interface ScalingTable {
  what: string;
  unit: string;
  inputBytes: number;
  rows: ScalingRow[];
}

interface Sample {
  workers: number;
  used: number;
  seconds: number;
  wallSeconds: number;
  cpuSeconds?: number;
  peakRssKiB?: number;
}

/** The table's rows from every run; throughput = `amount / seconds`. */
export function scalingRows(samples: Sample[], amount: number, inputBytes: number): ScalingRow[] {
  const counts = [...new Set(samples.map((s) => s.workers))];
  const rows = counts.map((workers) => {
    const mine = samples.filter((s) => s.workers === workers);
    const seconds = median(mine.map((s) => s.seconds));
    const cpu = mine.map((s) => s.cpuSeconds).filter((x): x is number => x !== undefined);
    const rss = mine.map((s) => s.peakRssKiB).filter((x): x is number => x !== undefined);
    return {
      workers,
      used: Math.max(...mine.map((s) => s.used)),
      seconds,
      wallSeconds: median(mine.map((s) => s.wallSeconds)),
      throughput: amount / seconds,
      efficiency: NaN,
      cpuSecondsPerGB: cpu.length ? median(cpu) / (inputBytes / 1e9) : undefined,
      peakRssMiB: rss.length ? Math.max(...rss) / 1024 : undefined,
    };
  });
  const one = rows.find((r) => r.workers === 1);
  for (const r of rows) r.efficiency = one ? r.throughput / (r.workers * one.throughput) : NaN;
  return rows;
}

/** The table as text. */
export function renderScaling(t: ScalingTable): string {
  const f = (x: number | undefined, d = 2) => x === undefined || !isFinite(x) ? "-" : x.toFixed(d);
  const lines = [
    `${t.what} (${(t.inputBytes / 1e6).toFixed(0)} MB input; medians)`,
    `| workers (used) | seconds | wall s | ${t.unit} | efficiency vs 1 | CPU s per GB | peak RSS MiB |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of t.rows) {
    lines.push(
      `| ${r.workers} (${r.used}) | ${f(r.seconds)} | ${f(r.wallSeconds)} | ${
        f(r.throughput, 1)
      } | ${f(r.efficiency)} | ${f(r.cpuSecondsPerGB, 1)} | ${f(r.peakRssMiB, 0)} |`,
    );
  }
  return lines.join("\n");
}

/** Options of {@linkcode runScaling}. */
export interface ScalingOptions {
  workers: number[];
  size: SizeName;
  reps: number;
  /** A python3 with numpy (generates the NPZ cache). */
  python: string;
  bench: string;
  root: string;
  out: string;
  /** Skip preprocess (no espeak-ng, say). */
  migrateOnly?: boolean;
  /** Also profile one migrate per worker count (untimed, --cpu-prof) and print where time goes. */
  profile?: boolean;
}

/** Per worker count: each thread's busy and idle seconds and its hottest functions. */
export interface ScalingProfile {
  workers: number;
  seconds: number;
  threads: ProfileSummary[];
}

/** The profiles as text: per thread busy/idle and its top functions. */
export function renderProfiles(profiles: ScalingProfile[]): string {
  const lines: string[] = [];
  for (const p of profiles) {
    lines.push(`migrate under --cpu-prof, ${p.workers} worker(s): ${p.seconds.toFixed(2)} s`);
    for (const t of p.threads) {
      const top = t.topFunctions.slice(0, 4).map((f) => `${f.name} ${f.ms.toFixed(0)} ms`);
      lines.push(
        `  ${t.thread}: busy ${(t.busyMs / 1000).toFixed(2)} s, idle ${
          (t.idleMs / 1000).toFixed(2)
        } s; ${top.join("; ")}`,
      );
    }
  }
  return lines.join("\n");
}

/** Runs both cases and returns their tables (printed to stdout as they finish). */
export async function runScaling(o: ScalingOptions): Promise<ScalingTable[]> {
  if (!haveGnuTime) console.error("  no /usr/bin/time: CPU seconds and peak RSS left out");
  const tables: ScalingTable[] = [];
  const dataDir = `${o.out}/data/${o.size}`;
  const { manifest } = await ensureNpzCache(
    o.python,
    o.bench,
    `${dataDir}/npz`,
    `${dataDir}/manifest.json`,
    SIZES[o.size].samples,
  );
  const npz = `${dataDir}/npz`;
  const runs = `${o.out}/runs/scaling_${o.size}`;
  const migrate: Sample[] = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const w of o.workers) {
      const dir = `${runs}/migrate_w${w}`;
      await removeDir(dir);
      await warmRead(npz);
      const r = await runChild(Deno.execPath(), [
        ...DENO_RUN,
        `${o.bench}/run_migrate.ts`,
        "--npz-dir",
        npz,
        "--out-dir",
        dir,
        "--workers",
        String(w),
      ], o.root);
      if (!r.ok) throw new Error(`migrate with ${w} workers failed: ${r.error}`);
      const used = Number(r.json.workers);
      const seconds = Number(r.json.seconds);
      console.error(`  rep ${rep} migrate ${w} workers (${used} used): ${seconds.toFixed(2)} s`);
      migrate.push({
        workers: w,
        used,
        seconds,
        wallSeconds: r.wallSeconds,
        cpuSeconds: r.cpuSeconds,
        peakRssKiB: r.maxRssKiB ?? (r.json.peak_rss_kib as number | undefined),
      });
    }
  }
  const migrateTable: ScalingTable = {
    what: `migrate, ${manifest.samples.length} NPZ files`,
    unit: "MB/s",
    inputBytes: manifest.input_bytes,
    rows: scalingRows(migrate, manifest.input_bytes / 1e6, manifest.input_bytes),
  };
  tables.push(migrateTable);
  console.log(renderScaling(migrateTable));
  if (o.profile) {
    const profiles: ScalingProfile[] = [];
    for (const w of o.workers) {
      const dir = `${runs}/migrate_w${w}`;
      const profDir = `${o.out}/profile/scaling_${o.size}/w${w}`;
      await removeDir(dir);
      await removeDir(profDir);
      await warmRead(npz);
      const r = await runChild(Deno.execPath(), [
        ...DENO_RUN,
        "--cpu-prof",
        `--cpu-prof-dir=${profDir}`,
        `${o.bench}/run_migrate.ts`,
        "--npz-dir",
        npz,
        "--out-dir",
        dir,
        "--workers",
        String(w),
      ], o.root);
      if (!r.ok) throw new Error(`profiled migrate with ${w} workers failed: ${r.error}`);
      profiles.push({
        workers: w,
        seconds: Number(r.json.seconds),
        threads: await summarizeProfiles(profDir, o.root),
      });
    }
    console.log(renderProfiles(profiles));
    (migrateTable as ScalingTable & { profiles?: ScalingProfile[] }).profiles = profiles;
  }
  if (o.migrateOnly) return tables;

  const corpus = `${o.out}/data/preprocess_${o.size}`;
  const count = PREPROCESS_SIZES[o.size];
  const audio = await makeSpeechCorpus(corpus, count, SENTENCES, "LJ001");
  const wavBytes = await dirBytes(`${corpus}/wavs`);
  const pre: Sample[] = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const w of o.workers) {
      const dir = `${runs}/preprocess_w${w}`;
      await removeDir(dir);
      await warmRead(corpus);
      const r = await runChild(Deno.execPath(), [
        ...DENO_RUN,
        `${o.bench}/preprocess_run.ts`,
        corpus,
        dir,
        String(w),
      ], o.root);
      if (!r.ok) throw new Error(`preprocess with ${w} workers failed: ${r.error}`);
      const seconds = Number(r.json.seconds);
      const used = Number(r.json.workers ?? w);
      console.error(`  rep ${rep} preprocess ${w} workers (${used} used): ${seconds.toFixed(2)} s`);
      pre.push({
        workers: w,
        used,
        seconds,
        wallSeconds: r.wallSeconds,
        cpuSeconds: r.cpuSeconds,
        peakRssKiB: r.maxRssKiB,
      });
    }
  }
  const preTable: ScalingTable = {
    what: `preprocess mel-only, ${count} WAV files, ${audio.toFixed(1)} s of audio`,
    unit: "audio s/s",
    inputBytes: wavBytes,
    rows: scalingRows(pre, audio, wavBytes),
  };
  tables.push(preTable);
  console.log(renderScaling(preTable));
  return tables;
}
