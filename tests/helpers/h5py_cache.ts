/**
 * Builds caches with h5py (the original Python pipeline's writer) for read-side tests: shards
 * named `features_NNNNN.h5`, one group per sample (nested for keys with `/`), gzip 4 with h5py's
 * default chunking, and `hdf5_index.json` as the original pipeline writes it. Python also dumps
 * the exact bytes it stored (and the source values before any float16 cast), so tests compare
 * what we read bit for bit against what h5py wrote.
 *
 * @module
 */
import { type DType, viewAs } from "../../formats/dtype.ts";
import type { Tensor } from "../../formats/tensor.ts";
import { requireTool, runPython } from "./interop.ts";

/** One dataset of a fixture sample; values are random (seeded) with a few specials for floats. */
export interface FixtureDataset {
  dtype: DType;
  shape: number[];
  /** Explicit chunk shape; default: h5py's automatic chunking. */
  chunks?: number[];
}

/** One sample of a fixture cache. */
export interface FixtureSample {
  key: string;
  datasets: Record<string, FixtureDataset>;
  /** Shard to put it in; default: `floor(i / samplesPerFile) + 1`. */
  fileIdx?: number;
}

/** How to build a fixture cache. */
export interface H5pyCacheOptions {
  samplesPerFile?: number;
  /** Floats are stored as float16 (as the pipeline's `use_float16`). Default true. */
  useFloat16?: boolean;
  seed?: number;
  /** Write `hdf5_index.json`. Default true. */
  writeIndex?: boolean;
  /** Dump the stored and source bytes for comparisons. Default true (off for benchmarks). */
  dump?: boolean;
  /** gzip level, or 0 for no filter. Default 4. */
  gzip?: number;
}

/** What h5py stored for one dataset, and what it was cast from. */
export interface ExpectedTensor {
  /** The stored tensor (float16 when floats were cast). */
  stored: Tensor;
  /** The values before the float16 cast (equal to `stored` when nothing was cast). */
  source: Tensor;
}

/** A fixture cache on disk and its expected contents. */
export interface H5pyCache {
  dir: string;
  /** key -> dataset name -> expected values, in sample order. */
  expected: Map<string, Record<string, ExpectedTensor>>;
}

const SCRIPT = String.raw`
import json, os, sys
import h5py, numpy as np
spec = json.load(open(sys.argv[1]))
out = spec["dir"]; spf = spec["samples_per_file"]; f16 = spec["use_float16"]
rng = np.random.default_rng(spec["seed"])
os.makedirs(out, exist_ok=True)
files = {}
index = {}
manifest = []
blob = bytearray()
def put(a):
    off = len(blob); b = np.ascontiguousarray(a).tobytes(); blob.extend(b); return [off, len(b)]
for i, s in enumerate(spec["samples"]):
    idx = s.get("fileIdx") or i // spf + 1
    if idx not in files:
        files[idx] = h5py.File(os.path.join(out, "features_%05d.h5" % idx), "a")
    f = files[idx]
    g = f.require_group(s["key"])
    for name, d in s["datasets"].items():
        dt = np.dtype(d["dtype"]); shape = tuple(d["shape"])
        if dt.kind == "f":
            src = (rng.standard_normal(shape) * 3).astype(dt)
            flat = src.reshape(-1)
            specials = [np.nan, np.inf, -np.inf, -0.0, 3e-6, 65504.0, 70000.0, 1e-9]
            flat[:min(len(specials), flat.size)] = specials[:flat.size]
        elif dt.kind == "b":
            src = rng.random(shape) < 0.5
        else:
            info = np.iinfo(dt)
            src = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
        stored = src.astype(np.float16) if (f16 and dt.kind == "f") else src
        kw = {}
        if stored.ndim > 0 and stored.size > 0:
            if spec["gzip"]:
                kw = dict(compression="gzip", compression_opts=spec["gzip"])
            if d.get("chunks"):
                kw["chunks"] = tuple(d["chunks"])
        g.create_dataset(name, data=stored, **kw)
        if spec["dump"]:
            manifest.append(dict(key=s["key"], dataset=name, dtype=str(stored.dtype),
                shape=list(stored.shape), source_dtype=str(src.dtype), stored=put(stored), source=put(src)))
    index[s["key"]] = {"file_idx": idx, "group_name": s["key"]}
for f in files.values():
    f.close()
if spec["write_index"]:
    last = max(files) if files else 1
    count = sum(1 for e in index.values() if e["file_idx"] == last)
    with open(os.path.join(out, "hdf5_index.json"), "w") as fh:
        json.dump({"sample_index": index, "current_file_idx": last, "current_file_count": count,
                   "samples_per_file": spf, "use_float16": f16}, fh, indent=2)
if spec["dump"]:
    open(spec["blob"], "wb").write(bytes(blob))
print(json.dumps(manifest))
`;

interface ManifestEntry {
  key: string;
  dataset: string;
  dtype: string;
  shape: number[];
  source_dtype: string;
  stored: [number, number];
  source: [number, number];
}

/**
 * Writes a cache of `samples` into `dir` with h5py (`python` must import h5py and numpy) and
 * returns what it stored.
 */
export async function buildH5pyCache(
  python: string,
  dir: string,
  samples: FixtureSample[],
  options: H5pyCacheOptions = {},
): Promise<H5pyCache> {
  const work = await Deno.makeTempDir({ prefix: "h5py_cache_" });
  try {
    const blob = `${work}/blob.bin`;
    const specFile = `${work}/spec.json`;
    await Deno.writeTextFile(
      specFile,
      JSON.stringify({
        dir,
        samples,
        blob,
        samples_per_file: options.samplesPerFile ?? 3,
        use_float16: options.useFloat16 ?? true,
        seed: options.seed ?? 1,
        write_index: options.writeIndex ?? true,
        dump: options.dump ?? true,
        gzip: options.gzip ?? 4,
      }),
    );
    const manifest = JSON.parse(await runPython(python, SCRIPT, [specFile])) as ManifestEntry[];
    const expected = new Map<string, Record<string, ExpectedTensor>>();
    if (options.dump ?? true) {
      const bytes = await Deno.readFile(blob);
      const tensor = (dtype: string, shape: number[], [off, len]: [number, number]) => ({
        dtype: dtype as DType,
        shape,
        data: viewAs(dtype as DType, bytes.slice(off, off + len)),
      });
      for (const m of manifest) {
        let rec = expected.get(m.key);
        if (!rec) expected.set(m.key, rec = {});
        rec[m.dataset] = {
          stored: tensor(m.dtype, m.shape, m.stored),
          source: tensor(m.source_dtype, m.shape, m.source),
        };
      }
    }
    return { dir, expected };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Per-test-file h5py caches: each name is built once, in a scratch dir removed at exit. */
export interface H5pyFixtures {
  /** The test file's scratch dir (removed on `unload`), for its own copies and odd caches. */
  scratch: string;
  /**
   * The cache `name` (in `${scratch}/${name}`), built with h5py on first use. Throws when
   * `python` is missing: tests that call it are ignored outside CI and must fail in CI.
   */
  fixture(name: string, samples: FixtureSample[], options: H5pyCacheOptions): Promise<H5pyCache>;
}

/** Makes a scratch dir named after `prefix` and memoizes the h5py caches built in it. */
export function h5pyFixtures(prefix: string, python: string | undefined): H5pyFixtures {
  const scratch = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));
  const built = new Map<string, Promise<H5pyCache>>();
  return {
    scratch,
    fixture(name, samples, options) {
      let cache = built.get(name);
      if (!cache) {
        const py = requireTool(python, "python3 with h5py");
        built.set(name, cache = buildH5pyCache(py, `${scratch}/${name}`, samples, options));
      }
      return cache;
    },
  };
}

/**
 * The standard small fixture: 5 samples over 2 shards (3 + 2), flat LJSpeech keys and nested
 * LibriTTS keys, `(T, 1024)` hidden states and `(1, T, 80)` mels (floats cast to float16 when
 * `useFloat16`), a float32-only dataset name, and an int32 and bool dataset on one sample.
 */
export function standardSamples(): FixtureSample[] {
  const sample = (key: string, t: number): FixtureSample => ({
    key,
    datasets: {
      hidden_states: { dtype: "float32", shape: [t, 1024] },
      mel_spectrogram: { dtype: "float32", shape: [1, Math.round(t * 1.7), 80] },
    },
  });
  const samples = [
    sample("LJ001-0001", 37),
    sample("LJ001-0002", 120),
    sample("train-clean-100/123/456/123_456_789", 64),
    sample("train-clean-100/123/456/123_456_790", 9),
    sample("train-clean-100/124/457/124_457_001", 201),
  ];
  samples[1].datasets.tokens = { dtype: "int32", shape: [50] };
  samples[1].datasets.mask = { dtype: "bool", shape: [7, 3] };
  samples[4].datasets.energy = { dtype: "float64", shape: [201] };
  return samples;
}
