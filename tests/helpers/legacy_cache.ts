/**
 * Legacy NPZ caches written by numpy itself, for migration tests, and an h5py check that a
 * migrated cache holds exactly the legacy arrays cast as the contract says (floats to float16
 * with numpy's `astype`, everything else unchanged).
 *
 * @module
 */
import { runPython } from "./interop.ts";

const MAKE_LJSPEECH = `
import numpy as np, sys, os
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
r = np.random.default_rng(7)
def feats(T, dt=np.float32):
    return dict(hidden_states=(r.standard_normal((T, 16)) * 2).astype(dt),
                mel_spectrogram=(r.standard_normal((1, T, 8)) - 5).astype(dt))
np.savez(f"{d}/LJ001-0001.npz", **feats(5))
np.savez_compressed(f"{d}/LJ001-0002.npz", **feats(9))
f = feats(7); f["hidden_states"] = np.asfortranarray(f["hidden_states"]); np.savez(f"{d}/LJ001-0003.npz", **f)
np.savez_compressed(f"{d}/LJ001-0004.npz", **feats(6, np.float64))
f = feats(4); f["tokens"] = r.integers(-2**40, 2**40, size=(4,), dtype=np.int64); np.savez(f"{d}/LJ001-0005.npz", **f)
np.savez(f"{d}/LJ001-0006.npz", **feats(1))
np.savez_compressed(f"{d}/LJ001-0007.npz", **feats(30))
b = open(f"{d}/LJ001-0007.npz", "rb").read(); open(f"{d}/LJ001-0007.npz", "wb").write(b[: len(b) // 2])
f = feats(3); f["hidden_states"] = f["hidden_states"].astype(">f4"); f["voiced"] = np.array([True, False, True]); np.savez(f"{d}/LJ001-0008.npz", **f)
`;

const MAKE_LIBRITTS = `
import numpy as np, sys, os
d = sys.argv[1]
r = np.random.default_rng(11)
keys = ["train-clean-100/103/1240/103_1240_000001_000000", "train-clean-100/103/1240/103_1240_000002_000000",
        "train-clean-100/19/198/19_198_000000_000003", "dev-clean/84/121123/84_121123_000007_000001",
        "test-other/ü/日本/ü_日本_000001"]
for i, k in enumerate(keys):
    os.makedirs(os.path.dirname(f"{d}/{k}"), exist_ok=True)
    save = np.savez_compressed if i % 2 else np.savez
    T = 3 + i * 4
    save(f"{d}/{k}.npz", hidden_states=r.standard_normal((T, 16)).astype(np.float32),
         mel_spectrogram=r.standard_normal((1, T, 8)).astype(np.float32))
`;

const CHECK = `
import h5py, json, numpy as np, os, sys
d, src, f16 = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
idx = json.load(open(os.path.join(d, "hdf5_index.json")))
out = {}
for key, e in idx["sample_index"].items():
    z = np.load(os.path.join(src, key + ".npz"))
    with h5py.File(os.path.join(d, "features_%05d.h5" % e["file_idx"]), "r") as f:
        g = f[e["group_name"]]
        res = {}
        for name in z.files:
            a = z[name]
            want = a.astype(np.float16) if (f16 and a.dtype.kind == "f") else a.astype(a.dtype.newbyteorder("="))
            got = g[name][()]
            same = got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == np.ascontiguousarray(want).tobytes()
            res[name] = "ok" if same else "got %s %s, want %s %s" % (got.dtype, got.shape, want.dtype, want.shape)
        if sorted(g.keys()) != sorted(z.files):
            res["(names)"] = "got %s, want %s" % (sorted(g.keys()), sorted(z.files))
        out[key] = res
print(json.dumps(out))
`;

/** Writes an LJSpeech-layout legacy cache (8 files, LJ001-0007 truncated). */
export async function makeLjspeechNpz(python: string, dir: string): Promise<void> {
  await runPython(python, MAKE_LJSPEECH, [dir]);
}

/** Writes a LibriTTS-layout legacy cache (nested keys, one non-ASCII). */
export async function makeLibriTtsNpz(python: string, dir: string): Promise<void> {
  await runPython(python, MAKE_LIBRITTS, [dir]);
}

/** Per key and dataset, "ok" or what differs, comparing a cache with its legacy source in h5py. */
export async function compareWithNpz(
  python: string,
  cacheDir: string,
  npzDir: string,
  float16 = true,
): Promise<Record<string, Record<string, string>>> {
  return JSON.parse(await runPython(python, CHECK, [cacheDir, npzDir, float16 ? "1" : "0"]));
}
