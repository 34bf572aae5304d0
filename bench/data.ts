/**
 * The benchmark's inputs: the h5py interpreter, the generated NPZ cache (reused once complete),
 * its first-quarter copy for the memory test, and the seeded random-access plans.
 */
import { runChild } from "./proc.ts";

/** The generated cache's `manifest.json`. */
export interface Manifest {
  seed: number;
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
const SLICE_FRAMES = 50;
const PYTHONS = ["/usr/bin/python3", "python3", "python"];

/** The first interpreter that imports h5py and numpy, with its versions; undefined if none. */
export async function findH5pyPython(
  cwd: string,
): Promise<{ python: string; versions: string } | undefined> {
  const probe = "import h5py, numpy, json; print(json.dumps({'v': 'h5py %s, HDF5 %s, numpy %s' %" +
    " (h5py.version.version, h5py.version.hdf5_version, numpy.__version__)}))";
  for (const python of PYTHONS) {
    const r = await runChild(python, ["-c", probe], cwd);
    if (r.ok) return { python, versions: String(r.json.v) };
  }
  return undefined;
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
): Promise<{ manifest: Manifest; generatedSeconds?: number }> {
  const found = await readManifest(manifestPath);
  if (found && found.samples.length === samples && found.seed === DATA_SEED) {
    return { manifest: found };
  }
  await Deno.remove(manifestPath).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const r = await runChild(
    python,
    [`${benchDir}/gen_npz.py`, dir, String(samples), String(DATA_SEED), manifestPath],
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
