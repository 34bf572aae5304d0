/** What the bench runs: each contender is one child process with its input, output and checks. */
import type { Manifest, ReadPlan } from "./data.ts";

export interface Contender {
  /** `migrate:<who>` or `read:<mode>:<files>:<reader>`. */
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
  python: string;
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

export function migrateContenders(
  p: Paths,
  full: Manifest,
  quarter: Manifest,
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
  // Anchors and h5shard alternate; the order is the same in every repetition.
  return [
    {
      id: "migrate:h5py",
      label: "h5py writer (anchor)",
      warm: p.npz,
      outDir: `${p.runs}/h5py`,
      cmd: p.python,
      args: [`${p.bench}/h5py_writer.py`, p.npz, `${p.runs}/h5py`],
      inputBytes: full.input_bytes,
      check: samplesCheck(full),
    },
    h5shard("h5shard-w2", "h5shard, 2 workers", p.npz, full, 2),
    {
      id: "migrate:h5wasm",
      label: "h5wasm writer (float32)",
      warm: p.npz,
      outDir: `${p.runs}/h5wasm`,
      cmd: p.deno,
      args: [...DENO_RUN, `${p.bench}/h5wasm_writer.ts`, p.npz, `${p.runs}/h5wasm`],
      inputBytes: full.input_bytes,
      check: samplesCheck(full),
    },
    h5shard("h5shard-w1", "h5shard, 1 worker", p.npz, full, 1),
    h5shard("h5shard-w2-shuffle", "h5shard, 2 workers, shuffle", p.npz, full, 2, ["--shuffle"]),
    h5shard("h5shard-w2-quarter", "h5shard, 2 workers, 1/4 cache", p.quarter, quarter, 2),
  ];
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
  for (const { mode, path, plan, expected } of plans) {
    for (const files of ["h5shard", "h5py"] as const) {
      const dir = `${p.runs}/${files === "h5shard" ? "h5shard-w2" : "h5py"}`;
      const filesMissing = files === "h5shard" ? h5shardFilesMissing : undefined;
      const check = (json: Record<string, unknown>) =>
        json.elements === expected
          ? undefined
          : `read ${json.elements} elements, expected ${expected}`;
      const common = { warm: dir, reads: plan.reads.length, check };
      out.push({
        ...common,
        id: `read:${mode}:${files}:h5py`,
        label: `h5py reader`,
        unavailable: filesMissing,
        cmd: p.python,
        args: [`${p.bench}/h5py_reader.py`, dir, path, mode],
      }, {
        ...common,
        id: `read:${mode}:${files}:h5shard`,
        label: `h5shard reader`,
        unavailable: filesMissing,
        cmd: p.deno,
        args: [...DENO_RUN, `${p.bench}/run_reader.ts`, dir, path, mode],
      });
    }
  }
  return out;
}
