/** What the bench runs: each contender is one child process with its input, output and checks. */
import type { Anchor, Manifest, ReadPlan } from "./data.ts";

export interface Contender {
  /** `migrate:<who>`, `read:<mode>:<files>:<reader>`, or a case's own `<case>:<who>`. */
  id: string;
  label: string;
  /** Why it is skipped (e.g. no h5shard files to read because its migrate failed), if it is. */
  unavailable?: string;
  /** Directory read once before the run (page cache warm for everyone). */
  warm: string;
  /** Output directory, removed before the run and measured after it. */
  outDir?: string;
  cmd: string;
  args: string[];
  /** float32 bytes the run reads (migrate) or the reads it makes (read). */
  inputBytes?: number;
  reads?: number;
  /** A reason the run's JSON is wrong (sample count, elements read), or undefined. */
  check: (json: Record<string, unknown>) => string | undefined;
}

export interface Paths {
  bench: string;
  /** The first anchor's interpreter: generates the data, checks content. */
  python: string;
  /** The h5py builds whose writer and reader are the anchors, alternating in each repetition. */
  anchors: Anchor[];
  deno: string;
  npz: string;
  quarter: string;
  runs: string;
}

/** `deno run` with the permissions `deno task bench` has. */
export const DENO_RUN = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];

function samplesCheck(manifest: Manifest, workers?: number) {
  return (json: Record<string, unknown>) => {
    if (workers !== undefined && json.workers !== workers) {
      return `ran ${json.workers} deflate workers, asked for ${workers}`;
    }
    if (json.samples !== manifest.samples.length) {
      return `wrote ${json.samples} samples, expected ${manifest.samples.length}`;
    }
    if (json.failed !== undefined && json.failed !== 0) return `${json.failed} samples failed`;
    if (json.input_bytes !== manifest.input_bytes) {
      return `read ${json.input_bytes} bytes of input, expected ${manifest.input_bytes}`;
    }
    return undefined;
  };
}

/** The migrate runs; `withH5wasm` adds the (slow, float32) h5wasm writer. */
export function migrateContenders(
  p: Paths,
  full: Manifest,
  quarter: Manifest,
  withH5wasm = false,
): Contender[] {
  const h5shard = (
    id: string,
    label: string,
    npz: string,
    m: Manifest,
    workers: number,
    extra: string[] = [],
  ) => ({
    id: `migrate:${id}`,
    label,
    warm: npz,
    outDir: `${p.runs}/${id}`,
    cmd: p.deno,
    args: [
      ...DENO_RUN,
      `${p.bench}/run_migrate.ts`,
      "--npz-dir",
      npz,
      "--out-dir",
      `${p.runs}/${id}`,
      "--workers",
      String(workers),
      ...extra,
    ],
    inputBytes: m.input_bytes,
    check: samplesCheck(m, workers),
  });
  const anchor = (a: Anchor): Contender => ({
    id: h5pyWriterId(a),
    label: `${a.short} writer`,
    warm: p.npz,
    outDir: `${p.runs}/h5py-${a.tag}`,
    cmd: a.python,
    args: [`${p.bench}/h5py_writer.py`, p.npz, `${p.runs}/h5py-${a.tag}`],
    inputBytes: full.input_bytes,
    check: samplesCheck(full),
  });
  // Anchors and h5shard alternate; the order is the same in every repetition.
  const [first, ...others] = p.anchors;
  return [
    anchor(first),
    h5shard("h5shard-w2", "h5shard, 2 workers", p.npz, full, 2),
    ...others.map(anchor),
    h5shard("h5shard-w1", "h5shard, 1 worker", p.npz, full, 1),
    ...(withH5wasm
      ? [{
        id: "migrate:h5wasm",
        label: "h5wasm writer (float32)",
        warm: p.npz,
        outDir: `${p.runs}/h5wasm`,
        cmd: p.deno,
        args: [...DENO_RUN, `${p.bench}/h5wasm_writer.ts`, p.npz, `${p.runs}/h5wasm`],
        inputBytes: full.input_bytes,
        check: samplesCheck(full),
      }]
      : []),
    h5shard("h5shard-w2-shuffle", "h5shard, 2 workers, shuffle", p.npz, full, 2, ["--shuffle"]),
    h5shard("h5shard-w2-quarter", "h5shard, 2 workers, 1/4 cache", p.quarter, quarter, 2),
  ];
}

/** The id of the h5py writer run on `a`. */
export function h5pyWriterId(a: Anchor): string {
  return `migrate:h5py-${a.tag}`;
}

/** The id of a reader run: `reader` is `h5shard` or an anchor's tag. */
export function readId(mode: string, files: string, reader: string): string {
  return `read:${mode}:${files}:${reader}`;
}

export interface PlanFile {
  mode: "whole" | "slice";
  path: string;
  plan: ReadPlan;
  expected: number;
}

export function readContenders(
  p: Paths,
  plans: PlanFile[],
  h5shardFilesMissing: string | undefined,
): Contender[] {
  const out: Contender[] = [];
  // h5py's files are the first anchor's (Debian's h5py, as the original pipeline ran).
  const h5pyFiles = `${p.runs}/h5py-${p.anchors[0].tag}`;
  for (const { mode, path, plan, expected } of plans) {
    for (const files of ["h5shard", "h5py"] as const) {
      const dir = files === "h5shard" ? `${p.runs}/h5shard-w2` : h5pyFiles;
      const filesMissing = files === "h5shard" ? h5shardFilesMissing : undefined;
      const check = (json: Record<string, unknown>) =>
        json.elements === expected
          ? undefined
          : `read ${json.elements} elements, expected ${expected}`;
      const common = { warm: dir, reads: plan.reads.length, check, unavailable: filesMissing };
      const ours: Contender = {
        ...common,
        id: readId(mode, files, "h5shard"),
        label: "h5shard reader",
        cmd: p.deno,
        args: [...DENO_RUN, `${p.bench}/run_reader.ts`, dir, path, mode],
      };
      // Each anchor, then h5shard: h5shard runs between the two builds.
      p.anchors.forEach((a, i) => {
        out.push({
          ...common,
          id: readId(mode, files, a.tag),
          label: `${a.short} reader`,
          cmd: a.python,
          args: [`${p.bench}/h5py_reader.py`, dir, path, mode],
        });
        if (i === 0) out.push(ours);
      });
    }
  }
  return out;
}
