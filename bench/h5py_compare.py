"""Untimed check that two caches hold the same samples: every key of A's index is in B's, with
the same datasets, shapes, dtypes and values (bit for bit). Compares like with like before the
bench compares speed and size.

usage: h5py_compare.py CACHE_A CACHE_B
Prints one JSON line: samples, mismatches (first few), chunks_a and chunks_b (of one sample).
"""

import json
import os
import sys

import h5py
import numpy as np


def open_cache(d):
    with open(os.path.join(d, "hdf5_index.json")) as f:
        index = json.load(f)["sample_index"]
    files = {}

    def group(key):
        e = index[key]
        if e["file_idx"] not in files:
            path = os.path.join(d, "features_%05d.h5" % e["file_idx"])
            files[e["file_idx"]] = h5py.File(path, "r")
        return files[e["file_idx"]][e["group_name"]]

    return index, group


def main():
    index_a, group_a = open_cache(sys.argv[1])
    index_b, group_b = open_cache(sys.argv[2])
    mismatches = []
    chunks = {}
    for key in index_a:
        if key not in index_b:
            mismatches.append("%s: missing" % key)
            continue
        ga, gb = group_a(key), group_b(key)
        if sorted(ga) != sorted(gb):
            mismatches.append("%s: datasets %s vs %s" % (key, sorted(ga), sorted(gb)))
            continue
        for name in ga:
            a, b = ga[name], gb[name]
            if a.dtype != b.dtype or a.shape != b.shape:
                mismatches.append(
                    "%s/%s: %s%s vs %s%s" % (key, name, a.dtype, a.shape, b.dtype, b.shape))
            elif not np.array_equal(a[()].view(np.uint8), b[()].view(np.uint8)):
                mismatches.append("%s/%s: values differ" % (key, name))
            if not chunks:
                chunks = {"key": key}
            if chunks["key"] == key:
                chunks[name] = [str(a.chunks), str(b.chunks), a.compression, b.compression,
                                a.shuffle, b.shuffle]
    print(json.dumps({
        "samples": len(index_a),
        "extra_in_b": len(set(index_b) - set(index_a)),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:5],
        "layout": chunks,
    }))


if __name__ == "__main__":
    main()
