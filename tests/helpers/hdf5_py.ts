/**
 * h5py checks for the HDF5 writer tests: a manifest of what each dataset should be (dtype,
 * shape, chunks, filters, SHA-256 of its C-order bytes) is checked by one Python process that
 * reads every dataset fully and through a few slices.
 *
 * @module
 */
import { runPython } from "./interop.ts";

/** What one dataset must read back as. */
export interface ExpectedDataset {
  path: string;
  /** numpy dtype name (our DType names match numpy's). */
  dtype: string;
  shape: number[];
  /** Chunk shape, or null for contiguous storage. */
  chunks: number[] | null;
  /** Deflate level, or null when not compressed. */
  deflate: number | null;
  shuffle: boolean;
  /** Hex SHA-256 of the dataset's C-order element bytes. */
  sha256: string;
}

/** Hex SHA-256 of `bytes`. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const CHECK = String.raw`
import h5py, hashlib, json, sys
import numpy as np
path, manifest = sys.argv[1], json.load(open(sys.argv[2]))
bad = []
with h5py.File(path, "r") as f:
    for e in manifest:
        p = e["path"]
        try:
            d = f[p]
            got = {"dtype": str(d.dtype), "shape": list(d.shape),
                   "chunks": list(d.chunks) if d.chunks else None,
                   "deflate": d.compression_opts if d.compression == "gzip" else None,
                   "shuffle": bool(d.shuffle)}
            for k, v in got.items():
                if v != e[k]:
                    bad.append(f"{p}: {k} {v!r} != {e[k]!r}")
            if d.chunks and d.maxshape[0] is not None:
                bad.append(f"{p}: maxshape {d.maxshape} not unlimited on axis 0")
            full = d[()]
            if hashlib.sha256(np.ascontiguousarray(full).tobytes()).hexdigest() != e["sha256"]:
                bad.append(f"{p}: data differs")
            if d.ndim > 0 and d.shape[0] > 0:
                n = d.shape[0]
                for s in [slice(10, 20), slice(0, 1), slice(n - 1, n), slice(n // 3, n // 3 + 17)]:
                    if d[s].tobytes() != full[s].tobytes():
                        bad.append(f"{p}: slice {s} differs")
        except Exception as ex:
            bad.append(f"{p}: {type(ex).__name__}: {ex}")
print(json.dumps({"checked": len(manifest), "bad": bad}))
`;

/** Checks every dataset of `manifest` in `file` with h5py; returns the mismatches found. */
export async function checkWithH5py(
  python: string,
  file: string,
  manifest: readonly ExpectedDataset[],
): Promise<{ checked: number; bad: string[] }> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(json, JSON.stringify(manifest));
    return JSON.parse(await runPython(python, CHECK, [file, json]));
  } finally {
    await Deno.remove(json);
  }
}
