import assert from "node:assert/strict";
import type { BatchModel } from "../extractors/extractor.ts";
import { readW2vBertExport } from "../extractors/w2v_bert.ts";
import type { Tensor } from "../formats/tensor.ts";
import { encodeWav } from "../audio/wav.ts";
import { openCache } from "../ops/cache_reader.ts";
import { preprocess } from "../ops/preprocess.ts";
import type { AudioClip } from "../stages/audio_source.ts";
import { FeatureStream } from "../stages/feature_stream.ts";
import { ModelBatcher } from "../stages/model_batcher.ts";
import { ModelWorker } from "../extractors/model_thread.ts";
import type { Sample, SampleFailure } from "../stages/record.ts";
import { compareFloat16 } from "./helpers/float16_compare.ts";
import { seededRandom } from "./helpers/random.ts";

const TINY = new URL("../examples/w2v_bert_tiny", import.meta.url).pathname;
const ORT = { sanitizeResources: false, sanitizeOps: false };

// Mixed lengths at 16 kHz: 560 samples is two fbank frames, one model frame (the shortest w2v-BERT
// takes); 720 is three fbank frames (odd: the last model frame is half padding, masked); the rest
// odd and even counts of frames, shortest and longest far apart.
const LENGTHS = [16000, 560, 720, 33333, 8161, 1000, 24000, 4321, 560, 12345, 47999, 2000, 6400];

function clips(): AudioClip[] {
  const rand = seededRandom(11);
  return LENGTHS.map((n, i) => ({
    key: `clip_${String(i).padStart(2, "0")}`,
    origin: `clip_${i}.wav`,
    sampleRate: 16000,
    audio: Float32Array.from(
      { length: n },
      (_, t) => 0.3 * Math.sin(t * (0.01 + 0.003 * i)) + 0.1 * (rand() - 0.5),
    ),
  }));
}

/** The model worker, recording the size of every batch it runs. */
class Spy implements BatchModel {
  sizes: number[] = [];
  constructor(readonly model: ModelWorker) {}
  get inputs() {
    return this.model.inputs;
  }
  get output() {
    return this.model.output;
  }
  length(t: Record<string, Tensor>) {
    return this.model.length(t);
  }
  runBatch(batch: readonly Record<string, Tensor>[]) {
    this.sizes.push(batch.length);
    return this.model.runBatch(batch);
  }
  close() {
    return this.model.close();
  }
}

async function openTiny(): Promise<ModelWorker> {
  const info = await readW2vBertExport(TINY);
  return await ModelWorker.open(`${TINY}/model.onnx`, {
    provider: "cpu",
    hiddenSize: info.hidden_size,
    paddingValue: info.paddingValue,
  });
}

async function runStream(batchSize: number, workers: number) {
  const spy = new Spy(await openTiny());
  const out: (Sample | SampleFailure)[] = [];
  const stream = ReadableStream.from(clips()).pipeThrough(
    new FeatureStream({
      extractors: [
        { name: "mel" },
        { name: "w2v-bert", options: { model_name: TINY, frontend_only: true } },
      ],
      workers,
      model: spy,
      batchSize,
    }),
  );
  for await (const record of stream) out.push(record);
  await spy.close();
  return { out, sizes: spy.sizes };
}

Deno.test(
  "batched w2v-BERT equals batch 1 on the CPU provider: same float16 within 1 ULP, order kept",
  ORT,
  async () => {
    const one = await runStream(1, 1);
    assert.ok(one.sizes.every((s) => s === 1));
    for (const [batchSize, workers] of [[4, 2], [8, 0]]) {
      const many = await runStream(batchSize, workers);
      assert.ok(many.sizes.some((s) => s > 1), `batches ${many.sizes}`);
      assert.ok(many.sizes.every((s) => s <= batchSize));
      assert.deepEqual(many.out.map((r) => r.key), clips().map((c) => c.key), "order kept");
      let identical = 0;
      let values = 0;
      let worstUlp = 0;
      let worst32 = 0;
      for (const [i, record] of many.out.entries()) {
        const ref = one.out[i];
        assert.ok(!("error" in record) && !("error" in ref), `${record.key} failed`);
        // Tensor names and their order as batch 1 stores them; the front end's inputs are gone.
        assert.deepEqual(Object.keys(record.tensors), ["mel_spectrogram", "hidden_states"]);
        assert.deepEqual(Object.keys(ref.tensors), ["mel_spectrogram", "hidden_states"]);
        const got = record.tensors.hidden_states;
        const want = ref.tensors.hidden_states;
        assert.deepEqual(got.shape, want.shape, record.key);
        assert.equal(got.shape[0], Math.ceil((Math.floor((LENGTHS[i] - 400) / 160) + 1) / 2));
        assert.deepEqual(record.tensors.mel_spectrogram.data, ref.tensors.mel_spectrogram.data);
        const c = compareFloat16(got.data as Float32Array, want.data as Float32Array);
        identical += c.identical;
        values += c.values;
        worstUlp = Math.max(worstUlp, c.worstUlp);
        for (let j = 0; j < got.data.length; j++) {
          worst32 = Math.max(worst32, Math.abs((got.data[j] as number) - (want.data[j] as number)));
        }
      }
      console.log(
        `batch ${batchSize} (sizes ${many.sizes.join(",")}) vs batch 1: float16 ${
          (100 * identical / values).toFixed(3)
        }% identical, worst ${worstUlp} ULP; float32 worst ${worst32.toExponential(2)}`,
      );
      assert.ok(worstUlp <= 1, `${worstUlp} ULP`);
      assert.ok(worst32 <= 1e-5, `${worst32}`);
    }
  },
);

Deno.test("ModelBatcher: a clip the model fails on fails alone, its batch mates are computed", async () => {
  const sizes: number[] = [];
  const model: BatchModel = {
    inputs: ["x"],
    output: "y",
    length: (t) => t.x.shape[0],
    runBatch: (batch) => {
      sizes.push(batch.length);
      if (batch.some((t) => Number.isNaN(t.x.data[0]))) {
        return Promise.reject(new Error("NaN input"));
      }
      return Promise.resolve(
        batch.map((t) => ({ ...t.x, data: (t.x.data as Float32Array).map((v) => -v) })),
      );
    },
    close: () => Promise.resolve(),
  };
  const batcher = new ModelBatcher(model, 4);
  const x = (v: number, n: number): Record<string, Tensor> => ({
    x: { dtype: "float32", shape: [n], data: new Float32Array(n).fill(v) },
  });
  batcher.expect(5);
  const results = await Promise.allSettled([
    batcher.submit(x(1, 3)),
    batcher.submit(x(NaN, 4)),
    batcher.submit(x(3, 5)),
    batcher.submit(x(4, 2)),
    batcher.submit(x(5, 9)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status === "fulfilled" ? r.value.data[0] : String(r.reason)),
    [-1, "Error: NaN input", -3, -4, -5],
  );
  assert.equal(sizes[0], 4, "first batch of four");
  assert.ok(sizes.slice(1).includes(1), "then one by one");
});

Deno.test("ModelBatcher groups by length: the oldest clip and those nearest it", async () => {
  const batches: number[][] = [];
  const model: BatchModel = {
    inputs: ["x"],
    output: "x",
    length: (t) => t.x.shape[0],
    runBatch: (batch) => {
      batches.push(batch.map((t) => t.x.shape[0]));
      return Promise.resolve(batch.map((t) => t.x));
    },
    close: () => Promise.resolve(),
  };
  const batcher = new ModelBatcher(model, 2);
  const x = (n: number): Record<string, Tensor> => ({
    x: { dtype: "float32", shape: [n], data: new Float32Array(n) },
  });
  // A busy model: the first batch runs at once; the rest wait and are grouped by length.
  batcher.expect(6);
  await Promise.all([10, 500, 12, 480, 11, 490].map((n) => batcher.submit(x(n))));
  assert.deepEqual(batches, [[10, 500], [11, 12], [480, 490]]);
});

Deno.test(
  "preprocess batched: a broken file and a clip too short for w2v-BERT fail alone; the cache equals batch 1's",
  ORT,
  async () => {
    const root = await Deno.makeTempDir();
    await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
    for (const [i, clip] of clips().entries()) {
      await Deno.writeFile(
        `${root}/corpus/wavs/LJ001-${String(i).padStart(4, "0")}.wav`,
        encodeWav(clip.audio, 16000),
      );
    }
    await Deno.writeTextFile(`${root}/corpus/wavs/LJ001-0003b.wav`, "not a wav");
    await Deno.writeFile(
      `${root}/corpus/wavs/LJ001-0004b.wav`,
      encodeWav(new Float32Array(400), 16000),
    );
    const run = (batchSize: number) =>
      preprocess({
        dataRoot: `${root}/corpus`,
        processedDir: `${root}/cache_${batchSize}`,
        plugin: "ljspeech",
        semanticModel: TINY,
        executionProvider: "cpu",
        batchSize,
        preprocessing: {
          num_audio_workers: 2,
          retry_delay: 0.001,
          max_retries: 0,
          samples_per_hdf5: 4,
        },
      });
    const one = await run(1);
    const four = await run(4);
    for (const report of [one, four]) assert.deepEqual([report.written, report.failed], [13, 2]);
    const log = JSON.parse(await Deno.readTextFile(`${root}/cache_4/error_log.json`));
    assert.deepEqual(log.errors.map((e: { sample_key: string }) => e.sample_key).sort(), [
      "LJ001-0003b",
      "LJ001-0004b",
    ]);
    assert.match(JSON.stringify(log), /too short for w2v-BERT/);
    const index = (b: number) => Deno.readTextFile(`${root}/cache_${b}/hdf5_index.json`);
    assert.deepEqual(
      JSON.parse(await index(4)).sample_index,
      JSON.parse(await index(1)).sample_index,
    );
    const a = await openCache(`${root}/cache_1`);
    const b = await openCache(`${root}/cache_4`);
    for (const key of a.keys()) {
      const x = (await a.get(key)).hidden_states;
      const y = (await b.get(key)).hidden_states;
      assert.deepEqual(y.shape, x.shape);
      assert.equal(y.dtype, "float16");
      let ulp = 0;
      for (let i = 0; i < x.data.length; i++) {
        const p = x.data[i] as number;
        const q = y.data[i] as number;
        if (p !== q) {
          ulp = Math.max(
            ulp,
            Math.abs(p - q) / 2 ** (Math.floor(Math.log2(Math.max(2 ** -4, Math.abs(p)))) - 10),
          );
        }
      }
      assert.ok(ulp <= 1, `${key}: ${ulp} ULP`);
    }
    a.close();
    b.close();
    const meta = JSON.parse(await Deno.readTextFile(`${root}/cache_4/metadata.json`));
    assert.deepEqual([meta.execution_provider, meta.batch_size], ["cpu", 4]);
    await Deno.remove(root, { recursive: true });
  },
);
