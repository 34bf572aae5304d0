/**
 * One h5shard preprocess (mel only) of an LJSpeech-layout corpus, for the preprocess bench.
 * usage: preprocess_run.ts DATA_ROOT PROCESSED_DIR [WORKERS]
 * WORKERS sets `num_audio_workers` and `num_save_workers` (default: the config's).
 * Prints one JSON line: samples, failed, seconds, workers (feature workers used).
 */
import { audioWorkers, preprocess } from "../ops/preprocess.ts";
import { PREPROCESSING_DEFAULTS } from "../config/schema.ts";

const [dataRoot, processedDir, workersArg] = Deno.args;
const workers = workersArg === undefined ? undefined : Number(workersArg);
const started = performance.now();
const report = await preprocess({
  dataRoot,
  processedDir,
  plugin: "ljspeech",
  ...(workers === undefined
    ? {}
    : { preprocessing: { num_audio_workers: workers, num_save_workers: workers } }),
});
console.log(JSON.stringify({
  samples: report.written,
  failed: report.failed,
  seconds: (performance.now() - started) / 1000,
  workers: audioWorkers(workers ?? PREPROCESSING_DEFAULTS.num_audio_workers),
}));
