/**
 * `h5shard demo`: the whole job on a built-in example, with a short report.
 *
 * @module
 */
import { openCache } from "../ops/cache_reader.ts";
import { writeExampleCache } from "../ops/example_cache.ts";
import { migrate } from "../ops/migrate.ts";
import { preprocess } from "../ops/preprocess.ts";
import { W2V_BERT_SOURCE } from "../extractors/w2v_bert.ts";
import { verifyCache } from "../ops/verify.ts";
import { join } from "../util/path.ts";
import { ProgressBar } from "./progress.ts";
import { NPZ_KEYS, SCHEMA, WRITE_KEYS } from "../config/schema.ts";
import { type Command, effectiveConfig, formatBytes, UsageError } from "./command.ts";
import { printVerifyReport, runVerify } from "./verify.ts";

const MARKER = ".h5shard-demo";

/** The committed example corpus (LJSpeech layout, espeak-ng speech) and tiny w2v-BERT export. */
const EXAMPLES = new URL("../examples/", import.meta.url);
const CORPUS = "ljspeech_mini";
const MODEL = "w2v_bert_tiny";
const MODEL_LAYER = 2;

function examplePath(name: string): string {
  if (EXAMPLES.protocol !== "file:") {
    throw new UsageError(
      `the demo reads its example corpus from a local checkout, not ${EXAMPLES}`,
    );
  }
  return decodeURIComponent(new URL(name, EXAMPLES).pathname);
}

/** Makes `dir` ready for the demo without ever deleting anything the demo did not make. */
async function prepare(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (entries.length && !entries.includes(MARKER)) {
    throw new UsageError(
      `${dir} exists and was not made by the demo; give an empty or new directory`,
    );
  }
  for (const sub of ["npz_cache", "processed", "from_audio"]) {
    await Deno.remove(join(dir, sub), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, MARKER), "made by h5shard demo; safe to delete\n");
}

function pct(part: number, whole: number): string {
  return `${((1 - part / whole) * 100).toFixed(0)}%`;
}

export const demoCommand: Command = {
  name: "demo",
  summary:
    "Preprocess a built-in speech corpus into an HDF5 cache, verify it, report; then migrate NPZ",
  args: "[dir]",
  description:
    "Part 1, the real job: preprocesses the built-in corpus (examples/ljspeech_mini: five\n" +
    "espeak-ng utterances, LJSpeech layout, 22.05 kHz) into [dir]/from_audio (default dir:\n" +
    "demo_out): decode, resample to 16 kHz, mel_spectrogram (1, T, 80) and w2v-BERT\n" +
    "hidden_states (T, 32) from a tiny RANDOM-WEIGHT model (examples/w2v_bert_tiny, made by\n" +
    "scripts/make_demo_assets.sh), float16 shards; then verifies and reads it back.\n" +
    "Part 2: writes a legacy NPZ cache of synthetic features into [dir]/npz_cache, migrates it\n" +
    "into [dir]/processed (25 samples per shard unless overridden) and verifies every value.",
  options: {
    samples: {
      type: "string",
      value: "N",
      help: "utterances to generate, 1..5000 (default 24)",
      check: (text) =>
        /^\d+$/.test(text) && +text >= 1 && +text <= 5000 ? undefined : "an integer 1..5000",
    },
  },
  config: [...WRITE_KEYS, ...NPZ_KEYS],
  minArgs: 0,
  maxArgs: 1,
  examples: ["h5shard demo", "h5shard demo /tmp/h5demo --samples 400 --num-save-workers 1"],
  async run(ctx) {
    const dir = ctx.args[0] ?? "demo_out";
    const samples = Number(ctx.values.samples ?? "24");
    const config = await effectiveConfig(ctx);
    const preprocessing = { ...config.preprocessing };
    if (!("samples-per-hdf5" in ctx.overrides)) preprocessing.samples_per_hdf5 = 25;
    await prepare(dir);
    const npzDir = join(dir, "npz_cache");
    const processed = join(dir, "processed");

    const fromAudio = join(dir, "from_audio");
    const corpus = examplePath(CORPUS);
    const model = examplePath(MODEL);
    let audioBar: ProgressBar | undefined;
    const pre = await preprocess({
      dataRoot: corpus,
      processedDir: fromAudio,
      plugin: "ljspeech",
      semanticModel: model,
      outputLayer: MODEL_LAYER,
      preprocessing: { ...preprocessing, samples_per_hdf5: 2 },
      onDiscovered: (_, todo) => {
        audioBar = new ProgressBar("preprocess", todo, { ...ctx.progress, unit: "files" });
      },
      onProgress: (s) => audioBar?.update(s.written + s.failed),
      onWarning: (m) => ctx.err(`warning: ${m}`),
    });
    audioBar?.finish();
    const audioCheck = await verifyCache(fromAudio);
    const cache = await openCache(fromAudio);
    let frames = 0;
    let first = "";
    for (const key of cache.keys()) {
      const t = await cache.get(key);
      frames += t.hidden_states.shape[0];
      if (!first) {
        first = `${key}: hidden_states ${JSON.stringify(t.hidden_states.shape)} ` +
          `${t.hidden_states.dtype}, mel_spectrogram ${JSON.stringify(t.mel_spectrogram.shape)}`;
      }
    }
    cache.close();
    const audioSeconds = frames / 50;
    ctx.out("");
    ctx.out("h5shard demo, part 1: speech corpus -> features -> HDF5 shards");
    ctx.out(`  corpus       ${corpus}: ${pre.totalSamples} WAVs, ${audioSeconds.toFixed(1)} s`);
    ctx.out(
      `  w2v-BERT     ${model}: RANDOM weights (3 layers x 32, layer ${MODEL_LAYER}); its ` +
        `hidden states show the flow, not meaningful features`,
    );
    ctx.out(
      `  cache        ${fromAudio}: ${pre.written} samples in ${pre.shards} shard${
        pre.shards === 1 ? "" : "s"
      }, ` +
        `${formatBytes(pre.outputBytes)}; ${pre.failed} failed`,
    );
    ctx.out(`  sample       ${first}`);
    ctx.out(
      `  preprocess   ${pre.seconds.toFixed(2)} s, ${
        (audioSeconds / pre.seconds).toFixed(1)
      } s of audio per second (model load included)`,
    );
    const audioStatus = printVerifyReport(ctx, `  verify       ${fromAudio}`, audioCheck);
    const realModel = W2V_BERT_SOURCE;
    const realLayer = SCHEMA["semantic_model.output_layer"].default;
    ctx.out(
      `  real model   python scripts/export_w2v_bert.py ${realModel} w2v_bert_l${realLayer} ` +
        `--layer ${realLayer}`,
    );
    ctx.out(
      "               h5shard preprocess <LJSpeech-1.1> <out> --dataset ljspeech " +
        `--semantic-model w2v_bert_l${realLayer}`,
    );
    ctx.out("");

    const genBar = new ProgressBar("example cache", samples, { ...ctx.progress, unit: "files" });
    const example = await writeExampleCache(npzDir, {
      samples,
      onProgress: (done) => genBar.update(done),
    });
    genBar.finish();

    const bar = new ProgressBar("migrate", samples, ctx.progress);
    const run = await migrate({
      npzDir,
      processedDir: processed,
      plugin: "ljspeech",
      preprocessing,
      onProgress: (s) => bar.update(s.written + s.skipped + s.failed),
      onWarning: (m) => ctx.err(`warning: ${m}`),
    });
    bar.finish();
    const verified = await runVerify(processed, npzDir, "ljspeech");
    const indexBytes = (await Deno.stat(join(processed, "hdf5_index.json"))).size;
    const f16Bytes = preprocessing.use_float16 ? example.float32Bytes / 2 : example.float32Bytes;

    ctx.out("");
    ctx.out("h5shard demo, part 2: legacy NPZ cache -> sharded HDF5 cache");
    ctx.out(
      `  NPZ cache    ${npzDir}: ${example.files} files, ${formatBytes(example.npzBytes)} ` +
        `(half savez, half savez_compressed)`,
    );
    ctx.out(
      `  HDF5 cache   ${processed}: ${run.totalSamples} samples in ${run.shards} shard${
        run.shards === 1 ? "" : "s"
      } ` +
        `(${preprocessing.samples_per_hdf5} per shard), ${formatBytes(run.outputBytes)} + index ${
          formatBytes(indexBytes)
        }`,
    );
    ctx.out(
      `  features     float32 ${formatBytes(example.float32Bytes)}` +
        (preprocessing.use_float16
          ? ` -> float16 ${formatBytes(f16Bytes)} (-${pct(f16Bytes, example.float32Bytes)})`
          : "") +
        ` -> gzip ${preprocessing.compression_level}: ${formatBytes(run.storedBytes)} ` +
        `(-${pct(run.storedBytes, f16Bytes)} more)`,
    );
    ctx.out(
      `  on disk      HDF5 cache is ${
        (run.outputBytes / example.npzBytes).toFixed(2)
      }x the NPZ cache ` +
        `(-${pct(run.outputBytes, example.npzBytes)})`,
    );
    ctx.out(
      `  migrate      ${run.seconds.toFixed(2)} s, ${
        (run.inputBytes / 1e6 / run.seconds).toFixed(0)
      } MB/s of float32 input, ${(run.written / run.seconds).toFixed(0)} samples/s, ` +
        `${run.workers} deflate worker(s); ${run.failed} failed`,
    );
    const status = printVerifyReport(ctx, `  verify       ${processed}`, verified);
    ctx.out("");
    ctx.out("Read it from Python:");
    ctx.out("  import h5py, json");
    ctx.out(`  index = json.load(open("${fromAudio}/hdf5_index.json"))["sample_index"]`);
    ctx.out(`  e = index["LJ001-0001"]`);
    ctx.out(`  f = h5py.File("${fromAudio}/features_%05d.h5" % e["file_idx"], "r")`);
    ctx.out(
      `  hs = f[e["group_name"]]["hidden_states"][:]   # (T, 32) float16 here, (T, 1024) real`,
    );
    return audioStatus || status || (pre.failed || run.failed ? 1 : 0);
  },
};
