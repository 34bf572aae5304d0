/**
 * Digests of a cache as an independent reader sees it: h5py opens every shard through
 * `hdf5_index.json` and reports, per key and dataset, dtype, shape and a SHA-256 of the
 * C-order little-endian bytes. The same digest computed from in-memory tensors lets a test
 * compare what it wrote with what h5py reads, bit for bit.
 *
 * @module
 */
import { bytesOf } from "../../formats/dtype.ts";
import type { Tensor } from "../../formats/tensor.ts";
import { runPython } from "./interop.ts";

/** Per key, per dataset: "dtype shape sha256". */
export type CacheDigest = Record<string, Record<string, string>>;

const H5PY_DIGEST = `
import h5py, json, sys, hashlib, numpy as np, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "hdf5_index.json")))
files = {}
out = {}
for key, e in idx["sample_index"].items():
    n = e["file_idx"]
    if n not in files:
        files[n] = h5py.File(os.path.join(d, "features_%05d.h5" % n), "r")
    g = files[n][e["group_name"]]
    out[key] = {}
    for name, ds in g.items():
        a = ds[()]
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        out[key][name] = "%s %s %s" % (a.dtype.name, list(a.shape), hashlib.sha256(a.tobytes()).hexdigest())
print(json.dumps(out))
`;

/** Reads a whole processed_dir with h5py and digests it. */
export async function h5pyCacheDigest(python: string, dir: string): Promise<CacheDigest> {
  return JSON.parse(await runPython(python, H5PY_DIGEST, [dir]));
}

/** The digest line of one tensor, as {@linkcode h5pyCacheDigest} writes it. */
export async function tensorDigest(t: Tensor): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", bytesOf(t.data).slice());
  const hex = [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${t.dtype} ${JSON.stringify(t.shape).replaceAll(",", ", ")} ${hex}`;
}
