import assert from "node:assert/strict";
import { loadOnnxRuntime } from "../deps.ts";
import {
  ExecutionProviderError,
  identityModel,
  resolveExecutionProvider,
  webgpuProblem,
} from "../extractors/execution_provider.ts";
import { encodeWav } from "../audio/wav.ts";
import { runCli } from "./helpers/run_cli.ts";
import { seededRandom } from "./helpers/random.ts";

const TINY = new URL("../examples/w2v_bert_tiny", import.meta.url).pathname;
// This machine's answer: CI (and this repo's 2-core box) have no GPU adapter.
const problem = await webgpuProblem();

/** A temp dir with `corpus/wavs/`: three short clips of noise at 22.05 kHz. */
async function corpus(): Promise<string> {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  const rand = seededRandom(7);
  for (const [i, n] of [9000, 2205, 15000].entries()) {
    const audio = Float32Array.from({ length: n }, () => (rand() - 0.5) * 0.4);
    await Deno.writeFile(`${root}/corpus/wavs/LJ001-000${i + 1}.wav`, encodeWav(audio, 22050));
  }
  return root;
}

const preprocess = (root: string, ...extra: string[]) =>
  runCli([
    "preprocess",
    `${root}/corpus`,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--semantic-model",
    TINY,
    "--num-audio-workers",
    "1",
    ...extra,
  ]);

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("identityModel is an ONNX model ONNX Runtime runs: y = x", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const ort = await loadOnnxRuntime();
  const session = await ort.InferenceSession.create(identityModel(), {
    executionProviders: ["cpu"],
  });
  assert.deepEqual(session.inputNames, ["x"]);
  assert.deepEqual(session.outputNames, ["y"]);
  const out = await session.run({ x: new ort.Tensor("float32", Float32Array.of(2.5), [1]) });
  assert.deepEqual([...(out.y.data as Float32Array)], [2.5]);
  await session.release();
});

Deno.test("preprocess with execution_provider auto says which provider ran, first line and metadata.json", async () => {
  const root = await corpus();
  const run = await preprocess(root);
  assert.equal(run.code, 0, run.stderr);
  const first = run.stderr.split("\n")[0];
  const meta = JSON.parse(await Deno.readTextFile(`${root}/cache/metadata.json`));
  if (problem === undefined) {
    assert.match(first, /on webgpu \(WebGPU adapter found\), batches of 8$/);
    assert.deepEqual([meta.execution_provider, meta.batch_size], ["webgpu", 8]);
  } else {
    assert.match(
      first,
      /^semantic model .*w2v_bert_tiny \(hidden_states\[2\]\) on cpu \(no WebGPU/,
    );
    assert.match(first, new RegExp(`\\(${problem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
    assert.match(first, /batches of 4$/);
    assert.deepEqual([meta.execution_provider, meta.batch_size], ["cpu", 4]);
  }
  assert.equal(meta.output_layer, 2);
  await Deno.remove(root, { recursive: true });
});

Deno.test({
  name: "preprocess --execution-provider webgpu without a GPU adapter exits 1 naming the cause",
  ignore: problem === undefined,
  async fn() {
    const root = await corpus();
    const run = await preprocess(root, "--execution-provider", "webgpu");
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /--execution-provider webgpu: not available on this machine/);
    assert.match(run.stderr, /apt-get install libvulkan1/);
    assert.ok(run.stderr.includes(problem!), run.stderr);
    assert.equal(await exists(`${root}/cache`), false, "nothing written");
    assert.doesNotMatch(run.stderr, /audio files/, "stopped before discovering the corpus");
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("preprocess --execution-provider cuda without onnxruntime-node's CUDA build exits 1 naming it", async () => {
  const root = await corpus();
  const run = await preprocess(root, "--execution-provider", "cuda");
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /--execution-provider cuda: not available on this machine/);
  assert.match(run.stderr, /onnxruntime-node's CUDA build/);
  assert.equal(await exists(`${root}/cache`), false, "nothing written");
  await Deno.remove(root, { recursive: true });
});

Deno.test(
  "resolveExecutionProvider: cpu as asked, auto by the probe, webgpu refused without an adapter",
  {
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    assert.deepEqual(await resolveExecutionProvider("cpu"), {
      provider: "cpu",
      reason: "asked for",
    });
    const auto = await resolveExecutionProvider("auto");
    assert.equal(auto.provider, problem === undefined ? "webgpu" : "cpu");
    if (problem !== undefined) {
      await assert.rejects(
        () => resolveExecutionProvider("webgpu"),
        (e) => e instanceof ExecutionProviderError && e.provider === "webgpu",
      );
    }
  },
);

Deno.test("--semantic-model DIR alone uses the export's layer; a different --output-layer exits 2 naming both", async () => {
  const root = await corpus();
  const bad = await preprocess(root, "--output-layer", "17", "--execution-provider", "cpu");
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(
    bad.stderr,
    /semantic_model\.output_layer: expected 2, the layer .*w2v_bert_tiny was exported at/,
  );
  assert.match(bad.stderr, /got 17/);
  assert.equal(await exists(`${root}/cache`), false, "nothing written");
  const same = await preprocess(root, "--output-layer", "2", "--execution-provider", "cpu");
  assert.equal(same.code, 0, same.stderr);
  const meta = JSON.parse(await Deno.readTextFile(`${root}/cache/metadata.json`));
  assert.equal(meta.feature_settings.output_layer, 2);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the up-front model check reads the ONNX file's first bytes: a file that is not ONNX stops the run before any audio", async () => {
  const root = await corpus();
  const bad = `${root}/bad_export`;
  await Deno.mkdir(bad);
  for (const f of ["w2v_bert_export.json", "preprocessor_config.json"]) {
    await Deno.copyFile(`${TINY}/${f}`, `${bad}/${f}`);
  }
  await Deno.writeTextFile(`${bad}/model.onnx`, "<html>not a model</html>");
  const run = await runCli([
    "preprocess",
    `${root}/corpus`,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--semantic-model",
    bad,
    "--execution-provider",
    "cpu",
  ]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /model\.onnx: not an ONNX model/);
  assert.doesNotMatch(run.stderr, /audio files/, "stopped before discovering the corpus");
  assert.equal(await exists(`${root}/cache`), false, "nothing written");
  await Deno.remove(root, { recursive: true });
});
