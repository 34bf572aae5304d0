#!/bin/bash
# Queues the migrate array, then the merge to run only if every array task succeeded.
# Usage: H5SHARD=~/h5shard NPZ_DIR=... PARTS=... PROCESSED_DIR=... bash submit.sh
set -euo pipefail
here=$(dirname "$0")
array=$(sbatch --parsable --export=ALL "$here/migrate_array.sbatch")
sbatch --dependency="afterok:${array%%;*}" --export=ALL "$here/merge.sbatch"
