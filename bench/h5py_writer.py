"""Anchor: the original pipeline's HDF5Writer (see shared/seed/HDF5_MIGRATION.zh.md), fed from a
legacy NPZ cache. One group per sample (nested keys create intermediate groups), floats cast to
float16, gzip level 4 with h5py's default chunking, a new shard every samples_per_hdf5 samples,
hdf5_index.json (indent=2) saved every 100 samples and at close.

usage: h5py_writer.py NPZ_DIR PROCESSED_DIR [SAMPLES_PER_HDF5]
Prints one JSON line: samples, input_bytes (as loaded), seconds, load_seconds, write_seconds,
peak_rss_kib.
"""

import json
import os
import sys
import time

import h5py
import numpy as np


class HDF5Writer:
    def __init__(self, processed_dir, samples_per_hdf5=20000, use_float16=True):
        self.processed_dir = processed_dir
        self.samples_per_hdf5 = samples_per_hdf5
        self.use_float16 = use_float16
        self.index = {
            "sample_index": {},
            "current_file_idx": 0,
            "current_file_count": 0,
            "samples_per_file": samples_per_hdf5,
            "use_float16": use_float16,
        }
        self.file = None
        os.makedirs(processed_dir, exist_ok=True)

    def _roll_over(self):
        if self.file is not None:
            self.file.close()
        self.index["current_file_idx"] += 1
        self.index["current_file_count"] = 0
        name = "features_%05d.h5" % self.index["current_file_idx"]
        self.file = h5py.File(os.path.join(self.processed_dir, name), "w")

    def write(self, key, arrays):
        if self.file is None or self.index["current_file_count"] >= self.samples_per_hdf5:
            self._roll_over()
        group = self.file.create_group(key)
        for name, arr in arrays.items():
            if self.use_float16 and arr.dtype.kind == "f":
                arr = arr.astype(np.float16)
            group.create_dataset(name, data=arr, compression="gzip", compression_opts=4)
        self.index["sample_index"][key] = {
            "file_idx": self.index["current_file_idx"],
            "group_name": key,
        }
        self.index["current_file_count"] += 1
        if len(self.index["sample_index"]) % 100 == 0:
            self.save_index()

    def save_index(self):
        with open(os.path.join(self.processed_dir, "hdf5_index.json"), "w") as f:
            json.dump(self.index, f, indent=2)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
        self.save_index()


def npz_keys(npz_dir):
    found = []
    for root, _, files in os.walk(npz_dir):
        for name in files:
            if name.endswith(".npz"):
                rel = os.path.relpath(os.path.join(root, name), npz_dir)
                found.append(rel[: -len(".npz")].replace(os.sep, "/"))
    return sorted(found)


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    npz_dir, processed_dir = sys.argv[1], sys.argv[2]
    per_file = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    start = time.perf_counter()
    load_s = write_s = 0.0
    input_bytes = 0
    writer = HDF5Writer(processed_dir, per_file)
    keys = npz_keys(npz_dir)
    for key in keys:
        t0 = time.perf_counter()
        with np.load(os.path.join(npz_dir, key + ".npz")) as z:
            arrays = {name: z[name] for name in z.files}
        t1 = time.perf_counter()
        writer.write(key, arrays)
        write_s += time.perf_counter() - t1
        load_s += t1 - t0
        input_bytes += sum(a.nbytes for a in arrays.values())
    writer.close()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "samples": len(keys),
        "input_bytes": input_bytes,
        "seconds": seconds,
        "load_seconds": load_s,
        "write_seconds": write_s,
        "peak_rss_kib": peak_rss_kib(),
    }))


if __name__ == "__main__":
    main()
