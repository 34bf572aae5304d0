/**
 * The benchmark's inputs: the h5py interpreter, the generated NPZ cache (reused once complete),
 * its first-quarter copy for the memory test, and the seeded random-access plans.
 */
import { runChild } from "./proc.ts";

/** The generated cache's `manifest.json`. */
export interface Manifest {
  seed: number;
  /** Shortest utterance the generator allowed (150 when absent: older manifests). */
  min_frames?: number;
  samples: { key: string; frames: number }[];
  /** float32 bytes of all arrays. */
  input_bytes: number;
}

/** A read plan shared by both readers: `[key, first frame]` per read. */
export interface ReadPlan {
  frames: number;
  reads: [string, number][];
}

const DATA_SEED = 20260;
/** Shortest generated utterance unless `--min-frames` says otherwise. */
export const DEFAULT_MIN_FRAMES = 150;
const SLICE_FRAMES = 50;

/** One h5py build the original writer and reader run on. */
export interface Anchor {
  /** Short id in contender ids: `debian`, `venv`, `path`. */
  tag: string;
  python: string;
  /** e.g. "h5py 3.7.0, HDF5 1.10.8, numpy 1.24.2". */
  versions: string;
  /** e.g. "h5py 3.7 / HDF5 1.10". */
  short: string;
}

/**
 * The h5py builds to measure: Debian's (`/usr/bin/python3`) and the reference venv's
 * (`~/.cache/h5shard/venv`, h5py 3.16 / HDF5 2.0, made by `.ci/run`); `python3` on PATH when
 * neither imports h5py. Each must import h5py and numpy.
 */
export async function findAnchors(cwd: string): Promise<Anchor[]> {
  const probe = "import h5py, numpy, json; print(json.dumps({'h5py': h5py.version.version," +
    " 'hdf5': h5py.version.hdf5_version, 'numpy': numpy.__version__}))";
  const home = Deno.env.get("HOME");
  const candidates: [string, string][] = [["debian", "/usr/bin/python3"]];
  if (home) candidates.push(["venv", `${home}/.cache/h5shard/venv/bin/python`]);
  const anchors: Anchor[] = [];
  for (const [tag, python] of [...candidates, ["path", "python3"]]) {
    if (tag === "path" && anchors.length > 0) break;
    const r = await runChild(python, ["-c", probe], cwd);
    if (!r.ok) continue;
    const { h5py, hdf5, numpy } = r.json as Record<string, string>;
    const minor = (v: string) => v.split(".").slice(0, 2).join(".");
    anchors.push({
      tag,
      python,
      versions: `h5py ${h5py}, HDF5 ${hdf5}, numpy ${numpy}`,
      short: `h5py ${minor(h5py)} / HDF5 ${minor(hdf5)}`,
    });
  }
  return anchors;
}

async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/**
 * The NPZ cache of `samples` samples in `dir`, generated with `python` unless a complete one
 * (its manifest, at `manifestPath`, written last) with the same count and seed is there.
 */
export async function ensureNpzCache(
  python: string,
  benchDir: string,
  dir: string,
  manifestPath: string,
  samples: number,
  minFrames = DEFAULT_MIN_FRAMES,
): Promise<{ manifest: Manifest; generatedSeconds?: number }> {
  const found = await readManifest(manifestPath);
  if (
    found && found.samples.length === samples && found.seed === DATA_SEED &&
    (found.min_frames ?? DEFAULT_MIN_FRAMES) === minFrames
  ) {
    return { manifest: found };
  }
  await Deno.remove(manifestPath).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const r = await runChild(
    python,
    [
      `${benchDir}/gen_npz.py`,
      dir,
      String(samples),
      String(DATA_SEED),
      manifestPath,
      String(minFrames),
    ],
    benchDir,
  );
  const manifest = await readManifest(manifestPath);
  if (!manifest) throw new Error(`generating the NPZ cache in ${dir} failed: ${r.error}`);
  return { manifest, generatedSeconds: r.wallSeconds };
}

/** A cache holding the first `samples` samples of `from`, as hard links (no extra disk). */
export async function prefixCache(
  from: string,
  manifest: Manifest,
  dir: string,
  manifestPath: string,
  samples: number,
): Promise<Manifest> {
  const prefix: Manifest = {
    seed: manifest.seed,
    samples: manifest.samples.slice(0, samples),
    input_bytes: 0,
  };
  prefix.input_bytes = prefix.samples.reduce((s, e) => s + e.frames * (1024 + 80) * 4, 0);
  const found = await readManifest(manifestPath);
  if (found && JSON.stringify(found) === JSON.stringify(prefix)) return found;
  await Deno.remove(manifestPath).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  for (const { key } of prefix.samples) await Deno.link(`${from}/${key}.npz`, `${dir}/${key}.npz`);
  await Deno.writeTextFile(manifestPath, JSON.stringify(prefix));
  return prefix;
}

/** Seeded PRNG (mulberry32): both readers get the very same reads. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random reads (keys drawn with replacement), each with a random 50-frame window. */
export function makePlan(manifest: Manifest, count: number, seed: number): ReadPlan {
  const next = random(seed);
  const reads: [string, number][] = [];
  for (let i = 0; i < count; i++) {
    const s = manifest.samples[Math.floor(next() * manifest.samples.length)];
    reads.push([s.key, Math.floor(next() * (s.frames - SLICE_FRAMES + 1))]);
  }
  return { frames: SLICE_FRAMES, reads };
}

/** Elements a correct reader returns for `plan` (whole samples or windows). */
export function expectedElements(manifest: Manifest, plan: ReadPlan, whole: boolean): number {
  const frames = new Map(manifest.samples.map((s) => [s.key, s.frames]));
  let n = 0;
  for (const [key] of plan.reads) n += (whole ? frames.get(key)! : plan.frames) * (1024 + 80);
  return n;
}
