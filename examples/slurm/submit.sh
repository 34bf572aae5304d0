#!/bin/bash
# Queues the array (MODE=migrate, the default, or MODE=preprocess on GPUs), then the merge, to
# run once every array task has finished with exit 0. Tasks exit 0 when their failed samples
# stay within --max-failures (MAX_FAILURES, default 1%), so a few bad files in a big corpus do
# not block the merge; a task beyond it (or killed) does: look at its error_log.json, re-run it
# (it resumes), then `sbatch merge.sbatch`. afterok rather than afterany: merging a part that
# stopped half way would make a cache that silently lacks samples.
# Usage: H5SHARD=~/h5shard NPZ_DIR=... PARTS=... PROCESSED_DIR=... bash submit.sh
#        MODE=preprocess H5SHARD=~/h5shard DATA_ROOT=... SEMANTIC_MODEL=... PARTS=... PROCESSED_DIR=... bash submit.sh
set -euo pipefail
here=$(dirname "$0")
case "${MODE:-migrate}" in
  migrate) script="$here/migrate_array.sbatch" ;;
  preprocess) script="$here/preprocess_array.sbatch" ;;
  *) echo "MODE must be migrate or preprocess, got ${MODE}" >&2; exit 2 ;;
esac
array=$(sbatch --parsable --export=ALL "$script")
sbatch --dependency="afterok:${array%%;*}" --kill-on-invalid-dep=yes --export=ALL "$here/merge.sbatch"
