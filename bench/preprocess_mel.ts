/**
 * The preprocess (mel only) case of `deno task bench`: an espeak-ng corpus in LJSpeech layout
 * (22.05 kHz PCM16) preprocessed to a mel-only HDF5 cache by h5shard and by the original
 * pipeline's CPU path (soundfile + torch resample port + torch.stft mel + h5py writer), the two
 * alternating in each repetition. Reports audio seconds per wall second (median), the ratio,
 * and where the time goes (per-stage seconds: the anchor's own, h5shard's on one thread).
 *
 * Standalone: `deno run -A bench/preprocess_mel.ts [--size small|default|large] [--reps N]`.
 */
import { decodeWav } from "../audio/wav.ts";
import { Resampler } from "../audio/resample.ts";
import { MelSpectrogram } from "../audio/mel.ts";
import { MEL_DEFAULTS } from "../extractors/mel.ts";
import { parseArgs } from "../deps.ts";
import { median } from "./stats.ts";

const BENCH = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const ROOT = BENCH.replace(/\/bench$/, "");

/** Utterances per size. */
export const PREPROCESS_SIZES = { small: 8, default: 40, large: 160 } as const;

/** The corpus's sentences (shared with the scaling case, so both reuse one corpus). */
export const SENTENCES = [
  "Printing, in the only sense with which we are at present concerned, differs from most if not from all the arts and crafts represented in the Exhibition.",
  "In being comparatively modern.",
  "For although the Chinese took impressions from wood blocks engraved in relief for centuries before the woodcutters of the Netherlands.",
  "The earliest book printed with movable types, the Gutenberg, or forty-two line Bible of about fourteen fifty-five.",
];

/** One contender's measurement. */
interface Run {
  seconds: number;
  json: Record<string, number>;
}

async function run(cmd: string, args: string[]): Promise<Run> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  const json = JSON.parse(text.split("\n").at(-1)!);
  return { seconds: json.seconds, json };
}

/**
 * An espeak-ng corpus in LJSpeech layout: `count` utterances `<stem>-NNNN.wav` of `sentences`,
 * made once per count and reused. Returns its length in seconds of audio.
 */
export async function makeSpeechCorpus(
  dir: string,
  count: number,
  sentences: readonly string[],
  stem: string,
): Promise<number> {
  const wavs = `${dir}/wavs`;
  const done = await Deno.readTextFile(`${dir}/count`).catch(() => "");
  if (done.trim() !== String(count)) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(wavs, { recursive: true });
    for (let i = 0; i < count; i++) {
      const path = `${wavs}/${stem}-${String(i + 1).padStart(4, "0")}.wav`;
      const text = `${sentences[i % sentences.length]} Number ${i + 1}.`;
      const r = await new Deno.Command("espeak-ng", { args: ["-w", path, text] }).output();
      if (!r.success) throw new Error("espeak-ng failed: is it installed?");
    }
    await Deno.writeTextFile(`${dir}/count`, String(count));
  }
  let audio = 0;
  for (const entry of Deno.readDirSync(wavs)) {
    const d = decodeWav(Deno.readFileSync(`${wavs}/${entry.name}`), entry.name);
    audio += d.audio.length / d.sampleRate;
  }
  return audio;
}

/** h5shard's stages on this thread over the corpus: where a worker's time goes. */
function stageSeconds(dir: string): Record<string, number> {
  const mel = new MelSpectrogram(MEL_DEFAULTS);
  const resamplers = new Map<number, Resampler>();
  const s = { read: 0, decode: 0, resample: 0, mel: 0 };
  for (const entry of [...Deno.readDirSync(`${dir}/wavs`)]) {
    let t = performance.now();
    const bytes = Deno.readFileSync(`${dir}/wavs/${entry.name}`);
    s.read += performance.now() - t;
    t = performance.now();
    const d = decodeWav(bytes, entry.name);
    s.decode += performance.now() - t;
    t = performance.now();
    let r = resamplers.get(d.sampleRate);
    if (!r) resamplers.set(d.sampleRate, r = new Resampler(d.sampleRate, 16000));
    const wave = r.resample(d.audio);
    s.resample += performance.now() - t;
    t = performance.now();
    mel.compute(wave);
    s.mel += performance.now() - t;
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v / 1000]));
}

/** Options of {@linkcode benchPreprocessMel}. */
export interface PreprocessBenchOptions {
  size: keyof typeof PREPROCESS_SIZES;
  reps: number;
  /** A Python with torch, librosa, soundfile and h5py. */
  python: string;
  /** Where the corpus and the caches go. */
  out: string;
}

/** Runs the case; returns its summary and prints its report to stdout. */
export async function benchPreprocessMel(o: PreprocessBenchOptions) {
  const corpus = `${o.out}/data/preprocess_${o.size}`;
  const audio = await makeSpeechCorpus(corpus, PREPROCESS_SIZES[o.size], SENTENCES, "LJ001");
  const runs = `${o.out}/runs/preprocess_${o.size}`;
  const contenders = {
    h5shard: () =>
      run(Deno.execPath(), ["run", "-A", `${BENCH}/preprocess_run.ts`, corpus, `${runs}/h5shard`]),
    original: () => run(o.python, [`${BENCH}/preprocess_original.py`, corpus, `${runs}/original`]),
  };
  const results: Record<string, Run[]> = { h5shard: [], original: [] };
  console.error(
    `preprocess bench: ${PREPROCESS_SIZES[o.size]} files, ${audio.toFixed(1)} s of audio`,
  );
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const [id, go] of Object.entries(contenders)) {
      await Deno.remove(`${runs}/${id}`, { recursive: true }).catch(() => {});
      const r = await go();
      results[id].push(r);
      console.error(`  rep ${rep} preprocess:${id}: ${r.seconds.toFixed(2)} s`);
    }
  }
  const speed = (id: string) => audio / median(results[id].map((r) => r.seconds));
  const ratio = speed("h5shard") / speed("original");
  const stages = stageSeconds(corpus);
  const anchor = results.original.at(-1)!.json;
  const summary = {
    files: PREPROCESS_SIZES[o.size],
    audioSeconds: audio,
    reps: o.reps,
    audioSecondsPerSecond: { h5shard: speed("h5shard"), original: speed("original") },
    ratio,
    h5shardStagesOneThread: stages,
    originalStages: {
      load: anchor.load_seconds,
      resample: anchor.resample_seconds,
      mel: anchor.mel_seconds,
      write: anchor.write_seconds,
    },
  };
  const f = (x: number) => x.toFixed(2);
  console.log(
    [
      `preprocess (WAV -> mel-only HDF5), ${summary.files} files, ${
        f(audio)
      } s of 22.05 kHz audio, median of ${o.reps}`,
      `  h5shard   ${f(speed("h5shard"))} audio s/s`,
      `  original  ${
        f(speed("original"))
      } audio s/s (soundfile + torch resample port + torch.stft + h5py)`,
      `  ratio     ${ratio.toFixed(2)}x ${ratio >= 1 ? "PASS" : "MISS"} (target: not slower)`,
      `  where the time goes, s: h5shard on one thread: ${
        Object.entries(stages).map(([k, v]) => `${k} ${f(v)}`).join(", ")
      }; original: ${
        Object.entries(summary.originalStages).map(([k, v]) => `${k} ${f(v)}`).join(", ")
      }`,
    ].join("\n"),
  );
  return summary;
}

/** The reference venv's Python (`H5SHARD_PYTHON`, else `$H5SHARD_VENV` or ~/.cache/h5shard/venv), if it imports torch. */
export async function referencePython(): Promise<string | undefined> {
  const home = Deno.env.get("HOME") ?? "";
  const python = Deno.env.get("H5SHARD_PYTHON") ??
    `${Deno.env.get("H5SHARD_VENV") ?? `${home}/.cache/h5shard/venv`}/bin/python`;
  const args = ["-c", "import torch, librosa, soundfile, h5py"];
  const ok = await new Deno.Command(python, { args, stdout: "null", stderr: "null" }).output()
    .then((r) => r.success, () => false);
  return ok ? python : undefined;
}

/** The case as `deno task bench` runs it: skipped, with a note, without the reference venv. */
export async function preprocessCase(
  size: keyof typeof PREPROCESS_SIZES,
  reps: number,
  out: string,
) {
  const python = await referencePython();
  if (!python) {
    console.log("preprocess case skipped: no Python with torch, librosa, soundfile and h5py");
    return undefined;
  }
  return benchPreprocessMel({ size, reps, python, out });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { size: { type: "string", default: "small" }, reps: { type: "string", default: "3" } },
  });
  await preprocessCase(
    values.size as keyof typeof PREPROCESS_SIZES,
    Number(values.reps),
    `${BENCH}/out`,
  );
}
