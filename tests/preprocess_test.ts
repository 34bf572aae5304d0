import assert from "node:assert/strict";
import { decodeNpy } from "../formats/npy.ts";
import { decodeWav, encodeWav } from "../audio/wav.ts";
import { openCache } from "../ops/cache_reader.ts";
import { preprocess } from "../ops/preprocess.ts";
import { ConfigError } from "../errors.ts";
import { main } from "../cli.ts";
import { MEL, type ReferenceFeatures, referenceFeatures } from "./helpers/audio_reference.ts";
import { compareFloats } from "./helpers/float_compare.ts";
import { findMlPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import {
  type CorpusFile,
  haveSpeechTools,
  makeAwkwardFiles,
  speakSentence,
} from "./helpers/speech_corpus.ts";

const python = await findMlPython();
const speech = await haveSpeechTools();
const ignore = ignoreWithout(python, "the reference venv (torch, librosa, soundfile, h5py)") ||
  ignoreWithout(speech ? "espeak-ng" : undefined, "espeak-ng and sox");

// h5py reads every sample of a cache through its index; each mel goes to <out>/<i>.npy.
const DUMP = `
import json, sys, h5py, numpy as np
cache, out = sys.argv[1], sys.argv[2]
index = json.load(open(f"{cache}/hdf5_index.json"))
keys = sorted(index["sample_index"])
info = []
for i, key in enumerate(keys):
    entry = index["sample_index"][key]
    with h5py.File(f"{cache}/features_{entry['file_idx']:05d}.h5", "r") as f:
        group = f[entry["group_name"]]
        mel = group["mel_spectrogram"][()]
        info.append({"key": key, "datasets": sorted(group.keys()), "dtype": str(mel.dtype)})
        np.save(f"{out}/{i}.npy", mel)
print(json.dumps(info))
`;

interface Stored {
  key: string;
  datasets: string[];
  dtype: string;
  mel: Float32Array;
  shape: number[];
}

async function readCache(py: string, cache: string): Promise<Stored[]> {
  const out = await Deno.makeTempDir();
  const info = JSON.parse(await runPython(py, DUMP, [cache, out]));
  const result = [];
  for (const [i, entry] of info.entries()) {
    const t = decodeNpy(await Deno.readFile(`${out}/${i}.npy`), "mel");
    result.push({ ...entry, mel: Float32Array.from(t.data as ArrayLike<number>), shape: t.shape });
  }
  await Deno.remove(out, { recursive: true });
  return result;
}

async function h5shard(...args: string[]) {
  const out: string[] = [], err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: await Deno.makeTempDir(),
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** Every stored mel against its reference: shape, and float16 (or float32) agreement. */
function assertMatches(stored: Stored[], refs: Map<string, ReferenceFeatures>, float16: boolean) {
  let identical = 0, total = 0, worst = 0;
  for (const s of stored) {
    const ref = refs.get(s.key);
    assert.ok(ref, `unexpected key ${s.key}`);
    assert.deepEqual(s.datasets, ["mel_spectrogram"]);
    assert.equal(s.dtype, float16 ? "float16" : "float32");
    assert.deepEqual(s.shape, ref.shape, s.key);
    const c = compareFloats(s.mel, ref.mel);
    if (!float16) assert.ok(c.maxAbs <= 5e-4, `${s.key}: float32 differs by ${c.maxAbs}`);
    identical += c.identical16 * s.mel.length;
    total += s.mel.length;
    worst = Math.max(worst, c.worstUlp16);
  }
  assert.ok(identical / total >= 0.995, `${(100 * identical / total).toFixed(3)}% identical`);
  assert.ok(worst <= 2, `worst ${worst} float16 ULP`);
  console.log(
    `${stored.length} samples, ${total} mel values: ${(100 * identical / total).toFixed(3)}% ` +
      `identical in float16, worst ${worst} ULP`,
  );
}

async function copyAs(files: CorpusFile[], names: string[], target: (name: string) => string) {
  for (const [i, f] of files.entries()) {
    const to = target(names[i]);
    await Deno.mkdir(to.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.copyFile(f.path, to);
  }
}

Deno.test({
  name:
    "h5shard preprocess builds an LJSpeech cache equal to the reference pipeline, logs the bad files, and resumes when the corpus grows",
  ignore,
  async fn() {
    const py = requireTool(python, "the reference venv");
    const root = await Deno.makeTempDir();
    const all = await makeAwkwardFiles(`${root}/awkward`);
    const pick = ["a_speech", "c_stereo", "e_pcm24", "i_48k", "l_50ms", "y_truncated", "z_text"];
    const files = pick.map((name) => all.find((f) => f.name === name)!);
    const keys = files.map((_, i) => `LJ001-${String(i + 1).padStart(4, "0")}`);
    const wav = (key: string) => `${root}/LJSpeech-1.1/wavs/${key}.wav`;
    await copyAs(files, keys, wav);
    const valid = files.flatMap((f, i) => f.valid ? [{ key: keys[i], path: wav(keys[i]) }] : []);
    const refList = await referenceFeatures(py, valid.map((v) => v.path));
    const refs = new Map(valid.map((v, i) => [v.key, refList[i]]));

    const args = [
      "preprocess",
      `${root}/LJSpeech-1.1`,
      `${root}/cache`,
      "--dataset",
      "ljspeech",
      "--samples-per-hdf5",
      "2",
      "--retry-delay",
      "0.01",
      "--num-audio-workers",
      "2",
      "--semantic-model",
      "none",
    ];
    const run = await h5shard(...args);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /stored 5 samples \(0 already there, 2 failed\)/);
    const log = JSON.parse(await Deno.readTextFile(`${root}/cache/error_log.json`));
    assert.equal(log.total_errors, 2);
    assert.equal(log.max_retries, 3);
    assert.deepEqual(
      log.errors.map((e: { file_path: string; sample_key: string; retry_count: number }) => [
        e.file_path,
        e.sample_key,
        e.retry_count,
      ]),
      [[wav("LJ001-0006"), "LJ001-0006", 3], [wav("LJ001-0007"), "LJ001-0007", 3]],
    );
    assert.match(log.errors[0].error_message, /truncated WAV file/);
    assert.match(log.errors[1].error_message, /not a WAV file/);
    assert.equal(
      await Deno.readTextFile(`${root}/cache/error_files.txt`),
      `${wav("LJ001-0006")}\n${wav("LJ001-0007")}\n`,
    );
    const meta = JSON.parse(await Deno.readTextFile(`${root}/cache/metadata.json`));
    assert.deepEqual(
      [meta.dataset, meta.total_files, meta.processed_files, meta.error_files, meta.num_hdf5_files],
      ["ljspeech", 7, 5, 2, 3],
    );
    assert.deepEqual(meta.mel_config, MEL);
    assert.deepEqual(
      [meta.semantic_model, meta.extract_mel, meta.storage_format, meta.use_float16],
      ["none", true, "hdf5", true],
    );
    assert.deepEqual(meta.pipeline_config, {
      num_audio_workers: 2,
      num_save_workers: 4,
      prefetch_size: 8,
    });
    assertMatches(await readCache(py, `${root}/cache`), refs, true);

    // The corpus grows by one file: only it is read and stored, continuing the last shard.
    await speakSentence(2, wav("LJ001-0008"));
    const [extra] = await referenceFeatures(py, [wav("LJ001-0008")]);
    refs.set("LJ001-0008", extra);
    const again = await h5shard(...args);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /stored 1 samples \(5 already there, 2 failed\)/);
    const stored = await readCache(py, `${root}/cache`);
    assert.deepEqual(stored.map((s) => s.key), [...refs.keys()].sort());
    assertMatches(stored, refs, true);
    const index = JSON.parse(await Deno.readTextFile(`${root}/cache/hdf5_index.json`));
    assert.deepEqual([index.current_file_idx, index.current_file_count], [3, 2]);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "h5shard preprocess builds a LibriTTS cache in float32 with nested keys, dirs from the config",
  ignore,
  async fn() {
    const py = requireTool(python, "the reference venv");
    const root = await Deno.makeTempDir();
    const paths = [
      "train-clean-100/19/198/19_198_000000_000000",
      "train-clean-100/19/198/19_198_000001_000000",
      "dev-clean/84/121123/84_121123_000007_000000",
    ];
    for (const [i, p] of paths.entries()) {
      await Deno.mkdir(`${root}/LibriTTS/${p.replace(/\/[^/]*$/, "")}`, { recursive: true });
      await speakSentence(i, `${root}/LibriTTS/${p}.wav`);
    }
    const refList = await referenceFeatures(py, paths.map((p) => `${root}/LibriTTS/${p}.wav`));
    const refs = new Map(paths.map((p, i) => [p, refList[i]]));
    const config = {
      semantic_model: { model_name: "none" },
      preprocessing: { use_float16: false, num_audio_workers: 1 },
      datasets: {
        libritts: { data_root: `${root}/LibriTTS`, processed_dir: `${root}/cache` },
      },
    };
    await Deno.writeTextFile(`${root}/config.json`, JSON.stringify(config));
    const run = await h5shard(
      "preprocess",
      "--dataset",
      "libritts",
      "--config",
      `${root}/config.json`,
    );
    assert.equal(run.code, 0, run.stderr);
    assertMatches(await readCache(py, `${root}/cache`), refs, false);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("h5shard preprocess on a data root with no audio fails naming what it looked for", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/wavs`);
  const none = ["--semantic-model", "none"];
  const run = await h5shard("preprocess", root, `${root}/cache`, "--dataset", "ljspeech", ...none);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /no audio found: the ljspeech plugin looked for .*wavs\/\*\.wav/);
  const off = await h5shard(
    "preprocess",
    root,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--extract-mel",
    "false",
    ...none,
  );
  assert.equal(off.code, 1);
  assert.match(off.stderr, /preprocessing\.extract_mel: expected true when the semantic model/);
  const model = await h5shard(
    "preprocess",
    root,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--semantic-model",
    "facebook/w2v-bert-2.0",
  );
  assert.equal(model.code, 1);
  assert.match(model.stderr, /semantic_model\.model_name: expected a directory made by scripts/);
  await Deno.remove(root, { recursive: true });
});

/** A temp dir with `corpus/wavs/LJ001-0001.wav`: one second of a 16 kHz tone. */
async function oneToneCorpus(amplitude: number, period: number): Promise<string> {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  const tone = Float32Array.from({ length: 16000 }, (_, i) => amplitude * Math.sin(i / period));
  await Deno.writeFile(`${root}/corpus/wavs/LJ001-0001.wav`, encodeWav(tone, 16000));
  return root;
}

Deno.test("h5shard preprocess runs a user's extractor module on the workers beside the mel", async () => {
  const root = await oneToneCorpus(0.5, 5);
  const fixture = new URL("./fixtures/energy_extractor.ts", import.meta.url).pathname;
  const run = await h5shard(
    "preprocess",
    `${root}/corpus`,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--extractor",
    fixture,
    "--use-float16",
    "false",
    "--semantic-model",
    "none",
  );
  assert.equal(run.code, 0, run.stderr);
  const cache = await openCache(`${root}/cache`);
  const sample = await cache.get("LJ001-0001");
  cache.close();
  assert.deepEqual(Object.keys(sample).sort(), ["energy", "mel_spectrogram"]);
  assert.deepEqual(sample.mel_spectrogram.shape, [1, 50, 80]);
  const decoded = decodeWav(await Deno.readFile(`${root}/corpus/wavs/LJ001-0001.wav`), "x");
  let first = 0;
  for (let i = 0; i < 320; i++) first += decoded.audio[i] ** 2;
  assert.equal(sample.energy.data[0], Math.fround(first));
  assert.deepEqual(sample.energy.shape, [50]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("extractor options are parsed by the extractor's declared parser: a bad field is named before any audio is read", async () => {
  const root = await oneToneCorpus(0.5, 5);
  const fixture = new URL("./fixtures/energy_extractor.ts", import.meta.url).pathname;
  const run = (extractors: { name: string; options?: Record<string, unknown> }[]) =>
    preprocess({
      dataRoot: `${root}/corpus`,
      processedDir: `${root}/cache`,
      plugin: "ljspeech",
      semanticModel: "none",
      extractors,
      preprocessing: { num_audio_workers: 1 },
    });
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ hop: 0 }, "extractors.energy.hop", /expected an integer >= 1, got 0/],
    [{ hop: "320" }, "extractors.energy.hop", /got "320"/],
    [{ hopp: 160 }, "extractors.energy.hopp", /no such option; the options are hop/],
  ];
  for (const [options, path, message] of cases) {
    await assert.rejects(
      () => run([{ name: fixture, options }]),
      (e) => e instanceof ConfigError && e.path === path && message.test(e.message),
    );
  }
  // The built-in extractors declare theirs: mel and w2v-bert name their config fields.
  const mel = (await import("../extractors/mel.ts")).default;
  assert.throws(
    () => mel.options!({ n_mel: 0 }),
    (e) => e instanceof ConfigError && e.path === "preprocessing.mel_config.n_mel",
  );
  assert.equal(mel.options!({}).n_fft, 1024);
  const w2v = (await import("../extractors/w2v_bert.ts")).default;
  assert.throws(
    () => w2v.options!({ model_name: "x", output_layer: 0 }),
    (e) => e instanceof ConfigError && e.path === "semantic_model.output_layer",
  );
  assert.throws(
    () => w2v.options!({ model_name: "x", execution_provider: "tpu" }),
    (e) => e instanceof ConfigError && e.path === "semantic_model.execution_provider",
  );
  assert.deepEqual(w2v.options!({ model_name: "x" }), {
    model_name: "x",
    intra_op_threads: 0,
    execution_provider: "cpu",
    frontend_only: false,
  });
  // Nothing was read or written.
  await assert.rejects(() => Deno.stat(`${root}/cache/hdf5_index.json`));
  await Deno.remove(root, { recursive: true });
});

Deno.test("preprocess runs a user's extractor that imports mod.ts (as the README's does) on the workers", async () => {
  const root = await oneToneCorpus(0.25, 7);
  const fixture = new URL("./fixtures/total_energy_extractor.ts", import.meta.url).pathname;
  const report = await preprocess({
    dataRoot: `${root}/corpus`,
    processedDir: `${root}/cache`,
    plugin: "ljspeech",
    extractors: [{ name: fixture }],
    preprocessing: { num_audio_workers: 2 },
  });
  assert.equal(report.failed, 0);
  const cache = await openCache(`${root}/cache`);
  const sample = await cache.get("LJ001-0001");
  cache.close();
  assert.deepEqual(Object.keys(sample).sort(), ["energy", "mel_spectrogram"]);
  assert.deepEqual(sample.energy.shape, [1]);
  assert.equal(sample.energy.dtype, "float16");
  await Deno.remove(root, { recursive: true });
});

Deno.test("h5shard preprocess --help lists its audio settings and how to leave the semantic model out", async () => {
  const help = await h5shard("preprocess", "--help");
  assert.equal(help.code, 0);
  for (
    const flag of [
      "--dataset",
      "--extract-mel",
      "--mel-n-fft",
      "--num-audio-workers",
      "--max-retries",
      "--retry-delay",
      "--prefetch-size",
      "--semantic-model",
      "--extractor",
    ]
  ) {
    assert.match(help.stdout, new RegExp(`${flag} `), flag);
  }
  assert.match(help.stdout, /--semantic-model none leaves them out/);
  const missing = await h5shard("preprocess", "only_one_dir", "--dataset", "ljspeech");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /give both <data_root> and <processed_dir>, or neither/);
});

Deno.test("h5shard preprocess stops before reading audio on bad mel settings or a broken extractor module", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/wavs`);
  await Deno.writeFile(`${root}/wavs/LJ001-0001.wav`, encodeWav(new Float32Array(16000), 16000));
  const base = [
    "preprocess",
    root,
    `${root}/cache`,
    "--dataset",
    "ljspeech",
    "--semantic-model",
    "none",
  ];
  // The library takes settings the CLI's config checks would refuse: the mel checks its own.
  await assert.rejects(
    () =>
      preprocess({
        dataRoot: root,
        processedDir: `${root}/cache`,
        plugin: "ljspeech",
        preprocessing: { mel_config: { ...MEL, win_size: 2048 } },
      }),
    /mel_config\.win_size \(2048\) must be <= n_fft \(1024\)/,
  );
  const broken = await h5shard(...base, "--extractor", `${root}/missing_extractor.ts`);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /missing_extractor\.ts.*cannot load extractor module/);
  await assert.rejects(() => Deno.stat(`${root}/cache/hdf5_index.json`));
  await Deno.remove(root, { recursive: true });
});
