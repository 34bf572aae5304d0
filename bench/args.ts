/** Command-line options of `deno task bench`, parsed from an argument list (no globals). */
import { parseArgs } from "../deps.ts";

/** Work per size: samples in the NPZ cache (the RSS test also uses its first quarter), reads. */
export const SIZES = {
  small: { samples: 24, wholeReads: 60, sliceReads: 200 },
  default: { samples: 288, wholeReads: 400, sliceReads: 1000 },
  large: { samples: 1152, wholeReads: 1200, sliceReads: 3000 },
} as const;

export type SizeName = keyof typeof SIZES;

export interface BenchOptions {
  size: SizeName;
  reps: number;
  /** Also run one CPU-profiled h5shard migrate and summarise where its time goes. */
  profile: boolean;
  /** Also run the h5wasm writer (float32; slow). */
  h5wasm: boolean;
  /** `--min-frames N`: generate utterances of N..800 frames (default 150), in their own folder. */
  minFrames: number;
  /**
   * `--read-passes N`: N times the size's random reads (default 1), for reads in the steady
   * state a long training run sees rather than a short process's start.
   */
  readPasses: number;
  /** `--workers 1,2,4`: run only the scaling case (bench/scaling.ts) at these worker counts. */
  workers?: number[];
  help: boolean;
}

export const USAGE =
  `usage: deno task bench [--size small|default|large] [--reps N] [--profile] [--h5wasm]
                       [--min-frames N] [--read-passes N]
       deno task bench --workers 1,2,4,8,16 [--size S] [--reps N]

Benchmarks h5shard against the original h5py writer and reader, on each h5py build found
(Debian's /usr/bin/python3 and the reference venv ~/.cache/h5shard/venv), on the same generated
LJSpeech-like NPZ cache, alternating contenders in each repetition, and prints medians with
PASS/MISS against the targets.

  --size S     small (seconds), default (~600 MB float32, under 10 minutes), large (~2.4 GB)
  --reps N     repetitions of every measurement (default 3); medians are reported
  --profile    also run one h5shard migrate and one read run under --cpu-prof (untimed) and
               print their hottest functions per thread
  --h5wasm     also run the h5wasm writer (float32, the JavaScript alternative; slow)
  --min-frames N  utterances of N..800 frames (default 150; 50 is a corpus of another shape),
               generated into bench/out/data/<size>_t<N>/ when N is not 150
  --read-passes N  N times the random reads (default 1: 400 whole samples and 1,000
               50-frame windows at default size); the first ones of a process pay for
               compiling and first lookups, so more passes measure the steady state
  --workers L  instead, the scaling table: migrate and preprocess (mel only) at each worker
               count of the comma-separated list L (throughput, efficiency vs 1 worker, CPU s
               per GB, peak RSS; workers are capped at the cores), written to
               bench/out/scaling.json; with --profile, one migrate per count under
               --cpu-prof too, summarised per thread
  --help       this text

Needs a python3 that imports h5py and numpy (Debian: apt-get install python3-h5py); it tries
/usr/bin/python3 and the venv, then python3 on PATH. Installs nothing. Data and outputs go to
bench/out/ (the NPZ cache is generated once per size, then reused); results to
bench/out/results.json.`;

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      size: { type: "string", default: "default" },
      reps: { type: "string", default: "3" },
      profile: { type: "boolean", default: false },
      h5wasm: { type: "boolean", default: false },
      workers: { type: "string" },
      "min-frames": { type: "string", default: "150" },
      "read-passes": { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) {
    throw new TypeError(`unexpected argument ${JSON.stringify(positionals[0])}; see --help`);
  }
  const size = values.size;
  if (!Object.hasOwn(SIZES, size)) {
    throw new RangeError(`--size: expected small, default or large, got ${JSON.stringify(size)}`);
  }
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) {
    throw new RangeError(
      `--reps: expected a whole number >= 1, got ${JSON.stringify(values.reps)}`,
    );
  }
  const minFrames = wholeNumberIn("--min-frames", values["min-frames"], 50, 800);
  const readPasses = wholeNumberIn("--read-passes", values["read-passes"], 1, 100);
  return {
    size: size as SizeName,
    minFrames,
    readPasses,
    reps,
    profile: values.profile,
    h5wasm: values.h5wasm,
    ...(values.workers === undefined ? {} : { workers: parseWorkerList(values.workers) }),
    help: values.help,
  };
}

/** `text` as a whole number in `lo..hi`; else RangeError naming `flag` and quoting `text`. */
function wholeNumberIn(flag: string, text: string, lo: number, hi: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new RangeError(
      `${flag}: expected a whole number in ${lo}..${hi}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** Parses `--workers 1,2,4`: distinct whole numbers >= 1, in the order given. */
export function parseWorkerList(text: string): number[] {
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    throw new RangeError(
      `--workers: expected whole numbers in 1..64 separated by commas, got ${JSON.stringify(text)}`,
    );
  }
  return [...new Set(list)];
}
