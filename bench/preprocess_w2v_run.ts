/**
 * One h5shard preprocess with both features (w2v-BERT hidden states and mel) of an
 * LJSpeech-layout corpus, for the w2v-BERT preprocess bench.
 * usage: preprocess_w2v_run.ts DATA_ROOT PROCESSED_DIR EXPORT_DIR LAYER
 * Prints one JSON line: samples, failed, seconds (model load included).
 */
import { preprocess } from "../ops/preprocess.ts";

const [dataRoot, processedDir, model, layer] = Deno.args;
const started = performance.now();
const report = await preprocess({
  dataRoot,
  processedDir,
  plugin: "ljspeech",
  semanticModel: model,
  outputLayer: Number(layer),
});
console.log(JSON.stringify({
  samples: report.written,
  failed: report.failed,
  seconds: (performance.now() - started) / 1000,
}));
