/** Medians per contender, the targets, and the printed report. */
import { type Contender, readId } from "./contenders.ts";
import type { Anchor } from "./data.ts";
import type { ProfileSummary } from "./cpu_profile.ts";
import { fixed, median, table } from "./stats.ts";

/** One run of one contender. */
export interface Measurement {
  id: string;
  rep: number;
  ok: boolean;
  error?: string;
  /** In-process seconds reported by the child (runtime start-up and imports excluded). */
  seconds: number;
  /** Whole child process, start to exit. */
  wallSeconds: number;
  /** The `sync` after the run: write-back the child left to the OS (h5shard fsyncs itself). */
  syncSeconds: number;
  /** User + system CPU seconds of the whole child process (GNU time). */
  cpuSeconds?: number;
  peakRssKiB?: number;
  inputBytes?: number;
  outputBytes?: number;
  reads?: number;
  /** The child's JSON line as printed. */
  child: Record<string, unknown>;
}

/** Medians over the successful runs of one contender. */
export interface Stats {
  id: string;
  label: string;
  unavailable?: string;
  runs: number;
  errors: string[];
  seconds?: number;
  wallSeconds?: number;
  syncSeconds?: number;
  cpuSeconds?: number;
  peakRssKiB?: number;
  maxPeakRssKiB?: number;
  inputBytes?: number;
  outputBytes?: number;
  reads?: number;
  /** float32 input MB (10^6 bytes) per in-process second. */
  mbPerSecond?: number;
  /** CPU seconds (all threads) per GB (10^9 bytes) of float32 input. */
  cpuPerGB?: number;
  samplesPerSecond?: number;
  /** Median of each numeric field of the child's JSON (phases, migrate's own seconds, ...). */
  child: Record<string, number>;
}

export interface Target {
  name: string;
  measured: string;
  ratio?: number;
  limit: string;
  result: "PASS" | "MISS" | "n/a";
  note?: string;
}

/** An optional --cpu-prof run. */
export interface ProfileRun {
  what: string;
  /** Where the .cpuprofile files are (open them in Chrome DevTools for the full picture). */
  dir: string;
  seconds: number;
  threads: ProfileSummary[];
  error?: string;
}

export interface Context {
  size: string;
  reps: number;
  started: string;
  finished: string;
  machine: {
    cpus: number;
    loadavgStart: number[];
    loadavgEnd: number[];
    deno: string;
    /** The h5py builds; the first writes the "h5py files" the readers read. */
    anchors: Anchor[];
    /** OPENBLAS_CORETYPE as set on this machine (left alone; numpy's casts do not use BLAS). */
    openblasCoretype?: string;
    /** How peak RSS was measured. */
    peakRss: string;
  };
  data: {
    samples: number;
    inputBytes: number;
    npzBytes: number;
    quarterSamples: number;
    quarterInputBytes: number;
    wholeReads: number;
    sliceReads: number;
    /** Shortest utterance, frames (the longest is 800). */
    minFrames?: number;
  };
  contenders: Contender[];
  /** Extra cases (cases.ts): a title and its contenders' ids. */
  cases: { title: string; ids: string[] }[];
  measurements: Measurement[];
  /** bench/h5py_compare.py of the h5py writer's cache against h5shard's (2 workers). */
  contentCheck?: Record<string, unknown>;
  profiles?: ProfileRun[];
}

export interface Summary extends Omit<Context, "contenders"> {
  order: string[];
  stats: Record<string, Stats>;
  targets: Target[];
}

const MB = 1e6;
const MIB = 1024;

function statsOf(c: Contender, runs: Measurement[]): Stats {
  const ok = runs.filter((m) => m.ok);
  const med = (f: (m: Measurement) => number | undefined) => {
    const xs = ok.map(f).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return xs.length ? median(xs) : undefined;
  };
  const seconds = med((m) => m.seconds);
  const cpuSeconds = med((m) => m.cpuSeconds);
  const child: Record<string, number> = {};
  for (const k of new Set(ok.flatMap((m) => Object.keys(m.child)))) {
    const v = med((m) => m.child[k] as number);
    if (v !== undefined) child[k] = v;
  }
  const rss = ok.map((m) => m.peakRssKiB).filter((x): x is number => x !== undefined);
  return {
    id: c.id,
    label: c.label,
    unavailable: c.unavailable,
    runs: ok.length,
    errors: runs.filter((m) => !m.ok).map((m) => `rep ${m.rep}: ${m.error}`),
    seconds,
    wallSeconds: med((m) => m.wallSeconds),
    syncSeconds: med((m) => m.syncSeconds),
    cpuSeconds,
    peakRssKiB: med((m) => m.peakRssKiB),
    maxPeakRssKiB: rss.length ? Math.max(...rss) : undefined,
    inputBytes: c.inputBytes,
    outputBytes: med((m) => m.outputBytes),
    reads: c.reads,
    mbPerSecond: c.inputBytes && seconds ? c.inputBytes / MB / seconds : undefined,
    cpuPerGB: c.inputBytes && cpuSeconds !== undefined
      ? cpuSeconds / (c.inputBytes / 1e9)
      : undefined,
    samplesPerSecond: c.reads && seconds ? c.reads / seconds : undefined,
    child,
  };
}

function ratioTarget(
  name: string,
  a: number | undefined,
  b: number | undefined,
  unit: string,
  digits: number,
  ok: (r: number) => boolean,
  limit: string,
  why: string | undefined,
): Target {
  if (a === undefined || b === undefined || !b) {
    return { name, measured: "-", limit, result: "n/a", note: why ?? "no successful run" };
  }
  const r = a / b;
  return {
    name,
    measured: `${fixed(a, digits)} / ${fixed(b, digits)} ${unit}`,
    ratio: r,
    limit,
    result: ok(r) ? "PASS" : "MISS",
  };
}

/** Migrate at least this many times an anchor's throughput. */
export const MIGRATE_TARGET = 3.0;
/** Output at most this many times an anchor's. */
export const SIZE_TARGET = 1.01;
/** Reads at least this many times an anchor reader's rate. */
export const READ_TARGET = 2.0;

function targetsOf(s: Record<string, Stats>, anchors: Anchor[]): Target[] {
  const w2 = s["migrate:h5shard-w2"];
  const q = s["migrate:h5shard-w2-quarter"];
  const why = (...xs: (Stats | undefined)[]) => xs.find((x) => x?.unavailable)?.unavailable;
  const out: Target[] = [];
  for (const a of anchors) {
    const h5py = s[`migrate:h5py-${a.tag}`];
    out.push(
      ratioTarget(
        `migrate throughput: h5shard (2 workers) / ${a.short} writer`,
        w2?.mbPerSecond,
        h5py?.mbPerSecond,
        "MB/s",
        1,
        (r) => r >= MIGRATE_TARGET,
        `>= ${MIGRATE_TARGET.toFixed(2)}x`,
        why(w2),
      ),
      ratioTarget(
        `migrate output size: h5shard / ${a.short} writer`,
        w2?.outputBytes && w2.outputBytes / MB,
        h5py?.outputBytes && h5py.outputBytes / MB,
        "MB",
        2,
        (r) => r <= SIZE_TARGET,
        `<= ${SIZE_TARGET.toFixed(2)}x`,
        why(w2),
      ),
    );
  }
  for (const mode of ["whole", "slice"]) {
    for (const files of ["h5shard", "h5py"]) {
      for (const an of anchors) {
        const a = s[readId(mode, files, "h5shard")];
        const b = s[readId(mode, files, an.tag)];
        out.push(ratioTarget(
          `${mode === "whole" ? "whole-sample" : "50-frame"} reads on ${files}'s files: ` +
            `h5shard / ${an.short}`,
          a?.samplesPerSecond,
          b?.samplesPerSecond,
          "samples/s",
          0,
          (r) => r >= READ_TARGET,
          `>= ${READ_TARGET.toFixed(2)}x`,
          why(a, b),
        ));
      }
    }
  }
  const lo = Math.min(w2?.peakRssKiB ?? NaN, q?.peakRssKiB ?? NaN);
  const hi = Math.max(w2?.peakRssKiB ?? NaN, q?.peakRssKiB ?? NaN);
  out.push(
    ratioTarget(
      "migrate peak RSS flat: larger / smaller of full and 1/4 cache",
      Number.isFinite(hi) ? hi / MIB : undefined,
      Number.isFinite(lo) ? lo / MIB : undefined,
      "MiB",
      0,
      (r) => r <= 1.1,
      "<= 1.10x",
      why(w2, q),
    ),
  );
  const maxRss = Math.max(w2?.maxPeakRssKiB ?? NaN, q?.maxPeakRssKiB ?? NaN) / MIB;
  out.push(
    Number.isFinite(maxRss)
      ? {
        name: "migrate peak RSS, highest of all runs",
        measured: `${maxRss.toFixed(0)} MiB`,
        limit: "< 512 MiB",
        result: maxRss < 512 ? "PASS" : "MISS",
      }
      : {
        name: "migrate peak RSS, highest of all runs",
        measured: "-",
        limit: "< 512 MiB",
        result: "n/a",
        note: why(w2, q) ?? "no successful run",
      },
  );
  return out;
}

export function summarize(ctx: Context): Summary {
  const stats: Record<string, Stats> = {};
  for (const c of ctx.contenders) {
    stats[c.id] = statsOf(c, ctx.measurements.filter((m) => m.id === c.id));
  }
  const { contenders, ...rest } = ctx;
  return {
    ...rest,
    order: contenders.map((c) => c.id),
    stats,
    targets: targetsOf(stats, ctx.machine.anchors),
  };
}

const mib = (kib: number | undefined) => fixed(kib === undefined ? undefined : kib / MIB, 0);
const mb = (bytes: number | undefined) => fixed(bytes === undefined ? undefined : bytes / MB, 1);

function skipped(st: Stats): string | undefined {
  if (st.unavailable) return st.unavailable;
  if (st.runs === 0) return `failed: ${st.errors[0] ?? "no run"}`;
  return undefined;
}

export function renderReport(s: Summary): string {
  const st = s.stats;
  const d = s.data;
  const m = s.machine;
  const lines: string[] = [];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  lines.push(
    `h5shard bench: size ${s.size}, ${s.reps} reps, ${s.started} .. ${s.finished}`,
    `data: ${d.samples} LJSpeech-like samples, ${mb(d.inputBytes)} MB float32 input, NPZ cache ` +
      `${mb(d.npzBytes)} MB on disk (half savez, half savez_compressed; T ${
        d.minFrames ?? 150
      }-800 frames)`,
    `machine: ${m.cpus} cpus, load ${load(m.loadavgStart)} at start, ${
      load(m.loadavgEnd)
    } at end;` +
      ` deno ${m.deno}`,
    ...m.anchors.map((a) => `anchor ${a.tag}: ${a.python} (${a.versions})`),
    ...(m.openblasCoretype ? [`OPENBLAS_CORETYPE=${m.openblasCoretype} (as set here)`] : []),
    "method: one process per run; contenders alternate in each repetition in the order listed;",
    "  before each run its input is read once (page cache warm for every contender); after it",
    '  `sync` flushes its writes ("sync s": write-back the writer left to the OS; h5shard fsyncs',
    "  inside its own time, h5py does not); medians of the reps; s = seconds in-process (start-up",
    "  and imports excluded), wall s = the whole process; CPU s = user + system seconds of the",
    "  process, all threads; CPU s/GB: per 10^9 bytes of float32 input; MB = 10^6 bytes",
    "  (MB/s: of float32 input), MiB = 2^20; the machine may be shared: load depresses figures;",
    `  peak RSS: ${m.peakRss}.`,
    "",
  );

  const anchors = m.anchors;
  const migRows: string[][] = [[
    "migrate (NPZ -> HDF5)",
    "MB/s",
    ...anchors.map((a) => `vs ${a.tag}`),
    "s",
    "wall s",
    "CPU s",
    "CPU s/GB",
    "sync s",
    "output MB",
    "out/NPZ",
    "RSS MiB",
  ]];
  for (const id of s.order.filter((i) => i.startsWith("migrate:"))) {
    const x = st[id];
    if (id.endsWith("-quarter")) continue;
    const why = skipped(x);
    if (why) {
      migRows.push([x.label, why]);
      continue;
    }
    migRows.push([
      x.label,
      fixed(x.mbPerSecond, 1),
      ...anchors.map((a) => {
        const ref = st[`migrate:h5py-${a.tag}`]?.mbPerSecond;
        return ref && x.mbPerSecond ? `${(x.mbPerSecond / ref).toFixed(2)}x` : "-";
      }),
      fixed(x.seconds, 2),
      fixed(x.wallSeconds, 2),
      fixed(x.cpuSeconds, 2),
      fixed(x.cpuPerGB, 1),
      fixed(x.syncSeconds, 2),
      mb(x.outputBytes),
      fixed(x.outputBytes && x.outputBytes / d.npzBytes, 3),
      mib(x.peakRssKiB),
    ]);
  }
  lines.push(table(migRows, ""));
  lines.push(...renderContentCheck(s.contentCheck));
  for (const a of anchors) {
    const phases = st[`migrate:h5py-${a.tag}`]?.child ?? {};
    if (phases.load_seconds === undefined) continue;
    lines.push(
      `  ${a.short} writer phases: np.load ${fixed(phases.load_seconds, 2)} s, cast + ` +
        `create_dataset ${fixed(phases.write_seconds, 2)} s`,
    );
  }
  const plain = st["migrate:h5shard-w2"];
  const shuf = st["migrate:h5shard-w2-shuffle"];
  if (plain?.outputBytes && shuf?.outputBytes) {
    lines.push(
      `  shuffle on: output ${
        (shuf.outputBytes / plain.outputBytes).toFixed(3)
      }x of shuffle off, ` +
        `throughput ${fixed((shuf.mbPerSecond ?? NaN) / (plain.mbPerSecond ?? NaN), 2)}x`,
    );
  }
  lines.push("");

  const readRows: string[][] = [[
    "random reads (samples/s)",
    "files",
    ...anchors.map((a) => a.short),
    "h5shard",
    ...anchors.map((a) => `vs ${a.tag}`),
    "CPU s: h5shard",
    ...anchors.map((a) => a.tag),
  ]];
  for (const mode of ["whole", "slice"]) {
    for (const files of ["h5shard", "h5py"]) {
      const ours = st[readId(mode, files, "h5shard")];
      const theirs = anchors.map((a) => st[readId(mode, files, a.tag)]);
      const n = mode === "whole" ? d.wholeReads : d.sliceReads;
      const label = `${mode === "whole" ? "whole samples" : "50-frame windows"} (${n} reads)`;
      const ok = (x: Stats | undefined) => x !== undefined && !skipped(x);
      const cell = (x: Stats | undefined) => (ok(x) ? fixed(x!.samplesPerSecond, 0) : "-");
      const cpu = (x: Stats | undefined) => (ok(x) ? fixed(x!.cpuSeconds, 2) : "-");
      const ratio = (x: Stats | undefined) =>
        ok(x) && ok(ours) && x!.samplesPerSecond && ours.samplesPerSecond
          ? `${(ours.samplesPerSecond / x!.samplesPerSecond).toFixed(2)}x`
          : (ours && skipped(ours)) ?? (x && skipped(x)) ?? "-";
      readRows.push([
        label,
        files,
        ...theirs.map(cell),
        cell(ours),
        ...theirs.map(ratio),
        cpu(ours),
        ...theirs.map(cpu),
      ]);
    }
  }
  lines.push(table(readRows, ""), "");

  const q = st["migrate:h5shard-w2-quarter"];
  const memRows: string[][] = [[
    "memory (h5shard migrate, 2 workers)",
    "samples",
    "peak RSS MiB",
    "max MiB",
    "ms/sample",
  ]];
  const memory = [[q, "1/4 cache", d.quarterSamples], [plain, "full cache", d.samples]] as const;
  for (const [x, label, n] of memory) {
    const why = x && skipped(x);
    if (!x || why) {
      memRows.push([label, String(n), why ?? "-"]);
      continue;
    }
    memRows.push([
      label,
      String(n),
      mib(x.peakRssKiB),
      mib(x.maxPeakRssKiB),
      fixed(x.seconds === undefined ? undefined : (x.seconds * 1000) / n, 1),
    ]);
  }
  lines.push(table(memRows, ""), "");

  const storeRows: string[][] = [["storage (bytes on disk)", "MB", "of NPZ"]];
  storeRows.push(["NPZ cache (float32)", mb(d.npzBytes), "1.000"]);
  for (
    const id of [
      ...anchors.map((a) => `migrate:h5py-${a.tag}`),
      "migrate:h5shard-w2",
      "migrate:h5shard-w2-shuffle",
      "migrate:h5wasm",
    ]
  ) {
    const x = st[id];
    if (!x || skipped(x) || !x.outputBytes) continue;
    storeRows.push([`${x.label} HDF5`, mb(x.outputBytes), (x.outputBytes / d.npzBytes).toFixed(3)]);
  }
  lines.push(table(storeRows, ""), "");

  for (const c of s.cases) {
    const rows: string[][] = [[c.title, "s", "wall s", "CPU s", "MB/s", "RSS MiB"]];
    for (const id of c.ids) {
      const x = st[id];
      const why = skipped(x);
      rows.push(
        why ? [x.label, why] : [
          x.label,
          fixed(x.seconds, 2),
          fixed(x.wallSeconds, 2),
          fixed(x.cpuSeconds, 2),
          fixed(x.mbPerSecond, 1),
          mib(x.peakRssKiB),
        ],
      );
    }
    lines.push(table(rows, ""), "");
  }

  const tRows: string[][] = [["targets", "measured", "ratio", "target", "result"]];
  for (const t of s.targets) {
    tRows.push([
      t.name,
      t.measured,
      t.ratio === undefined ? "-" : `${t.ratio.toFixed(3)}x`,
      t.limit,
      t.note ? `${t.result} (${t.note})` : t.result,
    ]);
  }
  lines.push(table(tRows, ""));

  for (const p of s.profiles ?? []) lines.push("", ...renderProfile(p));

  const errors = Object.values(st).flatMap((x) => x.errors.map((e) => `${x.id} ${e}`));
  if (errors.length) lines.push("", "failed runs:", ...errors.map((e) => `  ${e}`));
  return lines.join("\n");
}

function renderProfile(p: ProfileRun): string[] {
  if (p.error) return [`profile of ${p.what} failed: ${p.error}`];
  const lines = [
    `where the time goes: ${p.what}, under --cpu-prof (${p.seconds.toFixed(2)} s; self time per ` +
    `function; profiles in ${p.dir})`,
  ];
  for (const t of p.threads) {
    lines.push(
      `  ${t.thread}: busy ${(t.busyMs / 1000).toFixed(2)} s, idle ${
        (t.idleMs / 1000).toFixed(2)
      } s;` +
        ` by file: ${
          t.topFiles.slice(0, 4).map((f) => `${f.file} ${(f.ms / 1000).toFixed(2)} s`).join(", ")
        }`,
    );
    const rows = t.topFunctions.slice(0, 6).map((f) => [f.name, `${(f.ms / 1000).toFixed(2)} s`]);
    lines.push(table(rows, "    "));
  }
  return lines;
}
function renderContentCheck(c: Record<string, unknown> | undefined): string[] {
  if (!c) return [];
  if (c.error) return [`  content check failed to run: ${c.error}`];
  const lines = [
    c.mismatches === 0 && c.extra_in_b === 0
      ? `  content: h5shard's cache holds the same ${c.samples} samples as h5py's, bit for bit`
      : `  content: ${c.mismatches} MISMATCHES against h5py's cache, e.g. ` +
        JSON.stringify(c.first_mismatches),
  ];
  const layout = (c.layout ?? {}) as Record<string, unknown>;
  for (const [name, v] of Object.entries(layout)) {
    if (!Array.isArray(v)) continue;
    lines.push(`  chunks of ${name}: h5py ${v[0]}, h5shard ${v[1]} (sample ${layout.key})`);
  }
  return lines;
}
