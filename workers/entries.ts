/**
 * The one list of worker entry modules. Every module that a worker starts from lives in
 * `workers/` and is named here: each is a few lines that serve, through `serveTasks`, a handler
 * owned by the module with the logic (`stages/`, `ops/`, `extractors/`, `formats/`).
 * `scripts/compile.ts` embeds exactly these in a compiled binary, and
 * `tests/worker_entries_test.ts` fails when a worker module is missing from the list.
 *
 * @module
 */

/** Worker entry modules, as paths from the repository root. */
export const WORKER_ENTRIES: readonly string[] = [
  "workers/deflate_worker.ts",
  "workers/feature_worker.ts",
  "workers/inflate_worker.ts",
  "workers/model_worker.ts",
  "workers/npz_decode_worker.ts",
  "workers/read_worker.ts",
  "workers/stats_worker.ts",
];
