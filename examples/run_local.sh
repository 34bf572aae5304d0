#!/bin/bash
# Runs the commands of the Kubernetes and Slurm examples on this machine, as local processes
# started the way each scheduler starts its tasks (the same arguments, the same environment
# variables), then checks that each merged cache equals a single run. No cluster is involved:
# this shows the commands and the partitioning work, not the scheduler or a shared volume.
# The one change: 25 samples per shard instead of 20000, so 210 samples span 9 shards (the last partial).
#
# Usage: bash examples/run_local.sh [work_dir]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
tasks=4
mkdir -p "$work/shared"
h5shard() { deno run -A "$repo/cli.ts" "$@"; }

echo "== a small NPZ cache (210 utterances) in $work/shared/npz_cache/libritts"
deno eval "import { writeExampleCache } from '$repo/ops/example_cache.ts';
  await writeExampleCache('$work/shared/npz_cache/libritts', { samples: 210, dims: 64 });"

echo "== Kubernetes: the migrate Job's $tasks pods as processes, JOB_COMPLETION_INDEX=0..$((tasks - 1))"
manifest_args() { # the args array of a manifest, /shared mapped to $work/shared, 25 per shard
  python3 - "$1" "$2" "$work/shared" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
flow = re.search(r"^\s*args: (\[.*?\])", text, re.M | re.S).group(1)
args = json.loads(re.sub(r",\s*\]$", "]", flow))  # a flow sequence of quoted strings
index, shared = sys.argv[2], sys.argv[3]
for a in args:
    a = a.replace("$(JOB_COMPLETION_INDEX)", index).replace("/shared", shared)
    print("25" if a == "20000" else a)
PY
}
pids=()
for i in $(seq 0 $((tasks - 1))); do
  mapfile -t args < <(manifest_args "$repo/examples/kubernetes/h5shard-migrate.yaml" "$i")
  (cd "$repo" && JOB_COMPLETION_INDEX=$i h5shard "${args[@]}" >"$work/k8s_task_$i.log" 2>&1) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mapfile -t args < <(manifest_args "$repo/examples/kubernetes/h5shard-merge.yaml" "")
(cd "$repo" && h5shard "${args[@]}")

echo "== Slurm: the array's $tasks tasks as processes, SLURM_ARRAY_TASK_ID=0..$((tasks - 1)), then the merge"
export H5SHARD=$repo NPZ_DIR=$work/shared/npz_cache/libritts PARTS=$work/slurm_parts \
  PROCESSED_DIR=$work/slurm_processed SAMPLES_PER_HDF5=25
pids=()
for i in $(seq 0 $((tasks - 1))); do
  SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$tasks \
    bash "$repo/examples/slurm/migrate_array.sbatch" >"$work/slurm_task_$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
bash "$repo/examples/slurm/merge.sbatch"

echo "== the same corpus in one run, for comparison"
h5shard migrate "$NPZ_DIR" "$work/single" --dataset libritts --samples-per-hdf5 25 >/dev/null 2>&1
for merged in "$work/shared/processed/libritts" "$PROCESSED_DIR"; do
  h5shard verify "$merged" 2>/dev/null
  cmp "$merged/hdf5_index.json" "$work/single/hdf5_index.json"
  for f in "$work/single"/features_*.h5; do cmp "$f" "$merged/$(basename "$f")"; done
  echo "$merged: index and every shard byte-identical to the single run"
done
