/**
 * One h5shard preprocess (mel only) of an LJSpeech-layout corpus, for the preprocess bench.
 * usage: preprocess_run.ts DATA_ROOT PROCESSED_DIR
 * Prints one JSON line: samples, failed, seconds.
 */
import { preprocess } from "../ops/preprocess.ts";

const [dataRoot, processedDir] = Deno.args;
const started = performance.now();
const report = await preprocess({ dataRoot, processedDir, plugin: "ljspeech" });
console.log(JSON.stringify({
  samples: report.written,
  failed: report.failed,
  seconds: (performance.now() - started) / 1000,
}));
