/**
 * python/h5shard_reader.py against plain h5py, in torch's DataLoader with worker processes.
 */
import { assertEquals } from "./helpers/assert.ts";
import { h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findMlPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const python = await findMlPython();
const ignore = ignoreWithout(python, "the Python venv with torch and h5py");
const { fixture } = h5pyFixtures("h5shard_reader_test_", python);
const PYDIR = new URL("../python", import.meta.url).pathname;

/** The standard 5 samples (flat and nested keys) over 3 shards, float16. */
const cache = () => fixture("std", standardSamples(), { samplesPerFile: 2 });

/** Runs `code` with h5shard_reader importable and the cache dir as argv[1]; returns its JSON. */
async function py(code: string, dir: string): Promise<Record<string, unknown>> {
  const prelude = `import sys; sys.path.insert(0, ${JSON.stringify(PYDIR)})\n`;
  const out = await runPython(requireTool(python, "venv python"), prelude + code, [dir]);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Plain h5py reads of every sample, the reference. */
const PLAIN = String.raw`
import json, h5py, numpy as np
def plain(d, key):
    e = json.load(open(d + "/hdf5_index.json"))["sample_index"][key]
    with h5py.File(d + "/features_%05d.h5" % e["file_idx"], "r") as f:
        g = f[e["group_name"]]
        return {n: g[n][()] for n in g}
def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
`;

Deno.test({
  name: "FeatureCache made before a fork reads every sample equal to h5py in 2 DataLoader workers",
  ignore,
  async fn() {
    const { dir } = await cache();
    const result = await py(
      PLAIN + String.raw`
import os, sys, torch
from torch.utils.data import DataLoader, Dataset
from h5shard_reader import FeatureCache
d = sys.argv[1]
cache = FeatureCache(d, max_open_files=2)
keys = cache.keys()
cache.get(keys[0])  # the parent holds an open shard when the workers fork
inherited = next(iter(cache._files.values()))
class Samples(Dataset):
    def __len__(self): return len(keys)
    def __getitem__(self, i):
        arrays = cache.get(keys[i])
        # A worker must never read through the handle it inherited from the parent.
        reused = any(f is inherited for f in cache._files.values())
        return keys[i], os.getpid(), arrays, reused
def first(batch): return batch[0]
loader = DataLoader(Samples(), batch_size=1, num_workers=2, collate_fn=first,
                    multiprocessing_context="fork")
seen, pids, bad, reused = [], set(), [], False
for key, pid, arrays, r in loader:
    seen.append(key); pids.add(pid); reused = reused or r
    ref = plain(d, key)
    if sorted(arrays) != sorted(ref) or not all(same(arrays[n], ref[n]) for n in ref):
        bad.append(key)
print(json.dumps(dict(seen=sorted(seen), keys=sorted(keys), workers=len(pids),
    parent_used=os.getpid() in pids, bad=bad, reused=reused, parent_open=cache.open_files)))
`,
      dir,
    );
    assertEquals(result.seen, result.keys);
    assertEquals((result.keys as string[]).length, 5);
    assertEquals(result.bad, []);
    assertEquals(result.workers, 2);
    assertEquals(result.parent_used, false);
    assertEquals(result.reused, false);
    assertEquals(result.parent_open, 1);
  },
});

Deno.test({
  name: "FeatureCache pickles without its handles, keeps an LRU, slices frames as h5py clamps",
  ignore,
  async fn() {
    const { dir } = await cache();
    const result = await py(
      PLAIN + String.raw`
import pickle, sys
from h5shard_reader import FeatureCache
d = sys.argv[1]
out = {}
with FeatureCache(d, max_open_files=1) as cache:
    keys = cache.keys()
    for k in keys:
        cache.get(k)
    out["lru"] = cache.open_files
    copy = pickle.loads(pickle.dumps(cache))
    out["copy_open"] = copy.open_files
    out["copy_same"] = all(same(copy.get(k)[n], a) for k in keys for n, a in plain(d, k).items())
    out["len"] = len(copy); out["in"] = [keys[2] in copy, "nope" in copy]
    clamps = []
    for k in keys:
        ref = plain(d, k)
        for frames in [slice(3, 10**6), slice(-4, None), slice(10**6, 10**6 + 5), slice(2, 9, 3), (1, 4)]:
            got = cache.get(k, frames=frames)
            s = frames if isinstance(frames, slice) else slice(*frames)
            for n, a in ref.items():
                ax = 0 if a.ndim == 2 else 1 if a.ndim == 3 and a.shape[0] == 1 else None
                want = a if ax is None else a[(slice(None),) * ax + (s,)]
                clamps.append(same(got[n], want))
    out["clamps"] = [len(clamps), all(clamps)]
    only = cache.get(keys[1], datasets=["mel_spectrogram", "tokens"], frames=slice(0, 5))
    out["only"] = {n: list(a.shape) for n, a in only.items()}
    try:
        cache.get(keys[0], datasets=["pitch"])
    except KeyError as e:
        out["missing"] = str(e)
out["closed_open"] = cache.open_files
out["keys"] = [FeatureCache.key_for_wav(p, ds, root) for p, ds, root in [
    ("/data/LJSpeech-1.1/wavs/LJ001-0001.wav", "ljspeech", None),
    ("/data/LibriTTS/train-clean-100/103/1240/103_1240_000001_000000.wav", "libritts", "/data/LibriTTS/"),
    ("C:\\corpora\\LibriTTS\\dev-clean\\84\\121123\\84_121123_000007_000000.wav", "libritts", None),
]]
print(json.dumps(out))
`,
      dir,
    );
    assertEquals(result.lru, 1);
    assertEquals(result.copy_open, 0);
    assertEquals(result.copy_same, true);
    assertEquals(result.len, 5);
    assertEquals(result.in, [true, false]);
    assertEquals(result.clamps, [13 * 5, true]); // 13 datasets x 5 frame ranges
    assertEquals(result.only, { mel_spectrogram: [1, 5, 80], tokens: [50] });
    assertEquals(result.missing, `'LJ001-0001': no dataset 'pitch' in features_00001.h5 of ${dir}`);
    assertEquals(result.closed_open, 0);
    assertEquals(result.keys, [
      "LJ001-0001",
      "train-clean-100/103/1240/103_1240_000001_000000",
      "dev-clean/84/121123/84_121123_000007_000000",
    ]);
  },
});

Deno.test({
  name:
    "FeatureCache checks the index at open and raises CacheError naming key and shard for every damaged or tampered variant",
  ignore,
  async fn() {
    const { dir } = await cache();
    const result = await py(
      String.raw`
import json, os, shutil, sys, h5py
from h5shard_reader import CacheError, FeatureCache
src = sys.argv[1]
scratch = src + "_tampered"
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)
def index_of(d):
    return json.load(open(d + "/hdf5_index.json"))
def write_index(d, value):
    with open(d + "/hdf5_index.json", "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value))
def entry(field, value):
    def tamper(d):
        index = index_of(d)
        index["sample_index"]["LJ001-0001"][field] = value
        write_index(d, index)
    return tamper
def whole_entry(value):
    def tamper(d):
        index = index_of(d)
        index["sample_index"]["LJ001-0001"] = value
        write_index(d, index)
    return tamper
def truncate_shard(d):
    path = d + "/features_00001.h5"
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)
def garbage_shard(d):
    with open(d + "/features_00001.h5", "wb") as f:
        f.write(b"not hdf5 at all" * 100)
def drop_group(d):
    with h5py.File(d + "/features_00001.h5", "a") as f:
        del f["LJ001-0001"]
def drop_shard(d):
    os.remove(d + "/features_00001.h5")
def no_index(d):
    os.remove(d + "/hdf5_index.json")
variants = {
    "not_json": lambda d: write_index(d, "{"),
    "deep_json": lambda d: write_index(d, "[" * 100000 + "]" * 100000),
    "top_level_list": lambda d: write_index(d, []),
    "no_sample_index": lambda d: write_index(d, {"current_file_idx": 1}),
    "no_index": no_index,
    "entry_null": whole_entry(None),
    "entry_no_file_idx": whole_entry({"group_name": "LJ001-0001"}),
    "file_idx_float": entry("file_idx", 1.9),
    "file_idx_whole_float": entry("file_idx", 1.0),
    "file_idx_true": entry("file_idx", True),
    "file_idx_string": entry("file_idx", "1"),
    "file_idx_zero": entry("file_idx", 0),
    "file_idx_too_big": entry("file_idx", 100000),
    "group_name_int": entry("group_name", 5),
    "group_name_other_key": entry("group_name", "/LJ001-0002"),
    "truncated_shard": truncate_shard,
    "garbage_shard": garbage_shard,
    "missing_group": drop_group,
    "missing_shard": drop_shard,
}
out = {}
for name, tamper in variants.items():
    d = scratch + "/" + name
    shutil.copytree(src, d)
    tamper(d)
    try:
        with FeatureCache(d) as c:
            for k in c.keys():
                c.get(k)
        out[name] = {"raised": None}
    except Exception as e:
        out[name] = {
            "raised": type(e).__name__,
            "cache_error": isinstance(e, CacheError) and isinstance(e, KeyError) and isinstance(e, ValueError),
            "message": str(e),
            "key": getattr(e, "key", None),
            "shard": getattr(e, "shard", None),
        }
shutil.rmtree(scratch)
print(json.dumps(out))
`,
      dir,
    );
    const index = "hdf5_index.json";
    const expected: Record<string, string[]> = {
      not_json: [index, "not valid JSON"],
      deep_json: [index, "not valid JSON"],
      top_level_list: [index, "JSON object"],
      no_sample_index: [index, "sample_index"],
      no_index: [index, "not a cache directory"],
      entry_null: ['"LJ001-0001"'],
      entry_no_file_idx: ['"LJ001-0001"', "file_idx"],
      file_idx_float: ['"LJ001-0001"', "file_idx", "1.9"],
      file_idx_whole_float: ['"LJ001-0001"', "file_idx", "1.0"],
      file_idx_true: ['"LJ001-0001"', "file_idx", "true"],
      file_idx_string: ['"LJ001-0001"', "file_idx"],
      file_idx_zero: ['"LJ001-0001"', "file_idx", "0"],
      file_idx_too_big: ['"LJ001-0001"', "file_idx", "100000"],
      group_name_int: ['"LJ001-0001"', "group_name"],
      group_name_other_key: ['"LJ001-0001"', "/LJ001-0002", "not the key"],
      truncated_shard: ["'LJ001-0001'", "features_00001.h5"],
      garbage_shard: ["'LJ001-0001'", "features_00001.h5"],
      missing_group: ["'LJ001-0001'", "features_00001.h5", "no group"],
      missing_shard: ["'LJ001-0001'", "features_00001.h5"],
    };
    assertEquals(Object.keys(result).sort(), Object.keys(expected).sort());
    for (const [name, parts] of Object.entries(expected)) {
      const got = result[name] as { raised: string; cache_error: boolean; message: string };
      assertEquals([got.raised, got.cache_error], ["CacheError", true], `${name}: ${got.message}`);
      for (const part of parts) {
        assertEquals(got.message.includes(part), true, `${name}: ${got.message} lacks ${part}`);
      }
    }
  },
});
