/**
 * The w2v-BERT preprocess case of `deno task bench`: an espeak-ng corpus (LJSpeech layout,
 * 22.05 kHz PCM16) preprocessed with both features (hidden_states and mel) by h5shard (ONNX
 * Runtime on the export, layers after the output layer never computed) and by the original
 * pipeline (transformers on torch, eager, per utterance, every layer), alternating in each
 * repetition, on a w2v-BERT-shaped random model (8 layers x 256, output layer 6). Reports audio
 * seconds per wall second (medians) and the ratio (target >= 2.5x). With `--real-shape`, also
 * h5shard alone on a few utterances with the real model's shape (24 x 1024, layer 17, random
 * weights): seconds per audio hour and peak RSS. Models are built here (venv Python), not
 * committed; they are kept under bench/out/models for the next run.
 *
 * Standalone: `deno run -A bench/preprocess_w2v_bert.ts [--size small|default|large]
 * [--reps N] [--real-shape]`.
 */
import { parseArgs } from "../deps.ts";
import { makeSpeechCorpus, referencePython } from "./preprocess_mel.ts";
import { median } from "./stats.ts";
import { runChild } from "./proc.ts";

const BENCH = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const ROOT = BENCH.replace(/\/bench$/, "");

/** Utterances per size. */
export const W2V_SIZES = { small: 6, default: 16, large: 48 } as const;

const SENTENCES = [
  "A speech corpus of many hours becomes features once, and training reads them every epoch.",
  "The semantic model runs on sixteen kilohertz audio, fifty frames every second.",
  "Short files and long files alike are cut into frames of twenty five milliseconds.",
  "Shards hold twenty thousand samples each, with one index beside them.",
];

/** A model shape: make_tiny_w2v_bert.py arguments and the exported layer. */
interface Shape {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  layer: number;
}

const BENCH_SHAPE: Shape = { name: "w2v_8x256", layers: 8, hidden: 256, heads: 4, layer: 6 };
const REAL_SHAPE: Shape = { name: "w2v_24x1024", layers: 24, hidden: 1024, heads: 16, layer: 17 };

async function py(python: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(python, { args, cwd: ROOT, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/** The random model's directory and its export, built once. */
async function ensureModel(python: string, out: string, s: Shape) {
  const model = `${out}/models/${s.name}`;
  const exported = `${out}/models/${s.name}_l${s.layer}`;
  const ready = await Deno.stat(`${exported}/w2v_bert_export.json`).then(() => true, () => false);
  if (!ready) {
    console.error(`  building the random ${s.layers} x ${s.hidden} model and its export`);
    await py(python, [
      "scripts/make_tiny_w2v_bert.py",
      model,
      ...["--layers", String(s.layers), "--hidden", String(s.hidden)],
      ...["--heads", String(s.heads), "--seed", "1"],
    ]);
    await py(python, ["scripts/export_w2v_bert.py", model, exported, "--layer", String(s.layer)]);
  }
  return { model, exported };
}

/** Options of {@linkcode benchPreprocessW2vBert}. */
export interface W2vBertBenchOptions {
  size: keyof typeof W2V_SIZES;
  reps: number;
  /** The venv Python: torch, transformers, onnx, onnxruntime, librosa, soundfile, h5py. */
  python: string;
  /** Where models, corpus and caches go. */
  out: string;
  /** Also time the real shape (24 x 1024): minutes to build and export, ~10 GB of memory. */
  realShape?: boolean;
}

/** Runs the case; returns its summary and prints its report to stdout. */
export async function benchPreprocessW2vBert(o: W2vBertBenchOptions) {
  const { model, exported } = await ensureModel(o.python, o.out, BENCH_SHAPE);
  const corpus = `${o.out}/data/preprocess_w2v_${o.size}`;
  const audio = await makeSpeechCorpus(corpus, W2V_SIZES[o.size], SENTENCES, "LJ002");
  const runs = `${o.out}/runs/preprocess_w2v_${o.size}`;
  const layer = String(BENCH_SHAPE.layer);
  const contenders: Record<string, [string, string[]]> = {
    h5shard: [Deno.execPath(), [
      "run",
      "-A",
      `${BENCH}/preprocess_w2v_run.ts`,
      ...[corpus, `${runs}/h5shard`, exported, layer],
    ]],
    original: [o.python, [
      `${BENCH}/preprocess_w2v_original.py`,
      ...[corpus, `${runs}/original`, model, layer],
    ]],
  };
  const seconds: Record<string, number[]> = { h5shard: [], original: [] };
  const rss: Record<string, number[]> = { h5shard: [], original: [] };
  let anchor: Record<string, unknown> = {};
  console.error(
    `w2v-BERT preprocess bench: ${W2V_SIZES[o.size]} files, ${audio.toFixed(1)} s of audio, ` +
      `random ${BENCH_SHAPE.layers} x ${BENCH_SHAPE.hidden} model, layer ${layer}`,
  );
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const [id, [cmd, args]] of Object.entries(contenders)) {
      await Deno.remove(`${runs}/${id}`, { recursive: true }).catch(() => {});
      const r = await runChild(cmd, args, ROOT);
      if (!r.ok) throw new Error(`preprocess_w2v:${id}: ${r.error}`);
      seconds[id].push(Number(r.json.seconds));
      if (r.maxRssKiB) rss[id].push(r.maxRssKiB);
      if (id === "original") anchor = r.json;
      console.error(`  rep ${rep} preprocess_w2v:${id}: ${Number(r.json.seconds).toFixed(2)} s`);
    }
  }
  const speed = (id: string) => audio / median(seconds[id]);
  const ratio = speed("h5shard") / speed("original");
  const summary: Record<string, unknown> = {
    files: W2V_SIZES[o.size],
    audioSeconds: audio,
    reps: o.reps,
    shape: BENCH_SHAPE,
    audioSecondsPerSecond: { h5shard: speed("h5shard"), original: speed("original") },
    ratio,
    peakRssMiB: Object.fromEntries(
      Object.entries(rss).map(([id, xs]) => [id, xs.length ? Math.max(...xs) / 1024 : null]),
    ),
    originalStages: anchor,
  };
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `preprocess with w2v-BERT (WAV -> hidden_states + mel, HDF5), ${summary.files} files, ` +
    `${f(audio)} s of audio, random ${BENCH_SHAPE.layers} x ${BENCH_SHAPE.hidden}, layer ${layer}`,
    `  h5shard (ONNX Runtime, layers 1..${layer}, model load included)  ${
      f(speed("h5shard"))
    } audio s / s`,
    `  original (torch eager, all ${BENCH_SHAPE.layers} layers, load excluded) ${
      f(speed("original"))
    } audio s / s`,
    `  ratio ${ratio.toFixed(3)}x (target >= 2.5x: ${ratio >= 2.5 ? "PASS" : "MISS"})`,
  ];
  if (o.realShape) {
    const real = await ensureModel(o.python, o.out, REAL_SHAPE);
    const few = `${o.out}/data/preprocess_w2v_few`;
    const fewAudio = await makeSpeechCorpus(few, 4, SENTENCES, "LJ002");
    await Deno.remove(`${runs}/real`, { recursive: true }).catch(() => {});
    const r = await runChild(Deno.execPath(), [
      "run",
      "-A",
      `${BENCH}/preprocess_w2v_run.ts`,
      ...[few, `${runs}/real`, real.exported, String(REAL_SHAPE.layer)],
    ], ROOT);
    if (!r.ok) throw new Error(`real shape: ${r.error}`);
    const perHour = (Number(r.json.seconds) / fewAudio) * 3600;
    summary.realShape = {
      shape: REAL_SHAPE,
      audioSeconds: fewAudio,
      seconds: r.json.seconds,
      secondsPerAudioHour: perHour,
      peakRssMiB: r.maxRssKiB ? r.maxRssKiB / 1024 : null,
    };
    lines.push(
      `  real shape (24 x 1024, layer 17, random weights), 4 files, ${f(fewAudio)} s: ` +
        `${perHour.toFixed(0)} s per audio hour, peak RSS ${
          r.maxRssKiB ? (r.maxRssKiB / 1024).toFixed(0) + " MiB" : "n/a"
        }`,
    );
  }
  console.log(lines.join("\n"));
  return summary;
}

/** The case as `deno task bench` runs it: skipped, with a note, without the reference venv. */
export async function w2vBertCase(size: keyof typeof W2V_SIZES, reps: number, out: string) {
  const python = await referencePython();
  if (!python) {
    console.log("w2v-BERT preprocess case skipped: no Python with torch and transformers");
    return undefined;
  }
  return benchPreprocessW2vBert({ size, reps, python, out });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "small" },
      reps: { type: "string", default: "1" },
      "real-shape": { type: "boolean", default: false },
    },
  });
  const python = await referencePython();
  if (!python) throw new Error("no Python with torch and transformers (the reference venv)");
  await benchPreprocessW2vBert({
    size: values.size as keyof typeof W2V_SIZES,
    reps: Number(values.reps),
    python,
    out: `${BENCH}/out`,
    realShape: values["real-shape"],
  });
}
