"""Anchor: random access by key as the training datasets do it: hdf5_index.json maps a key to
its shard, shard handles stay open in a cache, and a sample is read whole (`group[name][:]`) or as
a 50-frame window of hidden_states (T, 1024) and of mel_spectrogram's time axis (1, T, 80).

usage: h5py_reader.py PROCESSED_DIR PLAN_JSON whole|slice
PLAN_JSON: {"frames": 50, "reads": [[key, start], ...]} (start is ignored for whole samples).
Prints one JSON line: reads, elements (read in total), open_seconds (index load),
seconds (the reads, including opening shards on first use), peak_rss_kib.
"""

import json
import os
import sys
import time

import h5py


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    processed_dir, plan_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode not in ("whole", "slice"):
        sys.exit("mode must be whole or slice, got %r" % mode)
    with open(plan_path) as f:
        plan = json.load(f)
    frames = plan["frames"]
    t0 = time.perf_counter()
    with open(os.path.join(processed_dir, "hdf5_index.json")) as f:
        index = json.load(f)["sample_index"]
    t1 = time.perf_counter()
    files = {}
    elements = 0
    for key, start in plan["reads"]:
        entry = index[key]
        file_idx = entry["file_idx"]
        h5 = files.get(file_idx)
        if h5 is None:
            path = os.path.join(processed_dir, "features_%05d.h5" % file_idx)
            h5 = files[file_idx] = h5py.File(path, "r")
        group = h5[entry["group_name"]]
        if mode == "whole":
            hidden = group["hidden_states"][:]
            mel = group["mel_spectrogram"][:]
        else:
            hidden = group["hidden_states"][start:start + frames]
            mel = group["mel_spectrogram"][:, start:start + frames, :]
        elements += hidden.size + mel.size
    seconds = time.perf_counter() - t1
    for h5 in files.values():
        h5.close()
    print(json.dumps({
        "reads": len(plan["reads"]),
        "elements": elements,
        "open_seconds": t1 - t0,
        "seconds": seconds,
        "peak_rss_kib": peak_rss_kib(),
    }))


if __name__ == "__main__":
    main()
