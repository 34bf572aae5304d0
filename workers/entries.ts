/**
 * The one list of worker entry modules. Every module that a worker starts from is named here:
 * most live in `workers/`; a worker that runs a higher layer's own steps lives beside them
 * (`stages/npz_decode_worker.ts` runs the NPZ source's decode, float16 and deflate steps,
 * `ops/stats_worker.ts` runs the reader and the stats), so imports still run down; `scripts/compile.ts` embeds exactly these in a compiled binary, and
 * `tests/worker_entries_test.ts` fails when a worker module is missing from the list.
 *
 * @module
 */

/** Worker entry modules, as paths from the repository root. */
export const WORKER_ENTRIES: readonly string[] = [
  "workers/deflate_worker.ts",
  "workers/feature_worker.ts",
  "workers/model_worker.ts",
  "workers/read_worker.ts",
  "stages/npz_decode_worker.ts",
  "ops/stats_worker.ts",
];
