/**
 * A new user's first hour, as they would live it: the CLI run as a command (the installed
 * `h5shard`, or `deno task` from their own directory), a temporary directory as the working
 * directory, and every mistake of issue 21 answered with what to do.
 */
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { pack, type Sample } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const CLI = `${ROOT}/cli.ts`;
const BASE = Deno.makeTempDirSync({ prefix: "h5shard_newcomer_" });
globalThis.addEventListener("unload", () => Deno.removeSync(BASE, { recursive: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(cmd: string, args: string[], cwd: string, path?: string): Promise<Run> {
  // A user's shell: no INIT_CWD (npx, which may have started this test, sets one, and deno
  // task keeps an INIT_CWD it inherits).
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  env.NO_COLOR = "1";
  if (path !== undefined) env.PATH = path;
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

let dirs = 0;
/** A new directory to stand in, as a user's own folder. */
function userDir(): string {
  const dir = `${BASE}/user${++dirs}`;
  Deno.mkdirSync(dir);
  return dir;
}

/** A copy of the built-in five-file corpus at `dir/name` (LJSpeech layout). */
function corpus(dir: string, name = "LJSpeech-1.1"): string {
  const to = `${dir}/${name}`;
  Deno.mkdirSync(`${to}/wavs`, { recursive: true });
  const from = `${ROOT}/examples/ljspeech_mini`;
  Deno.copyFileSync(`${from}/metadata.csv`, `${to}/metadata.csv`);
  for (const e of Deno.readDirSync(`${from}/wavs`)) {
    Deno.copyFileSync(`${from}/wavs/${e.name}`, `${to}/wavs/${e.name}`);
  }
  return to;
}

let installing: Promise<{ bin: string; run: Run; cwd: string }> | undefined;
/** `deno task install --root inst`, typed in a user's folder with a relative root, once. */
function install() {
  installing ??= (async () => {
    const cwd = userDir();
    const run = await exec(
      Deno.execPath(),
      ["task", "--config", `${ROOT}/deno.json`, "install", "--root", "inst"],
      cwd,
    );
    return { bin: `${cwd}/inst/bin`, run, cwd };
  })();
  return installing;
}

/** The installed `h5shard`, run from `cwd` with the install's bin folder first on the PATH. */
async function h5shard(args: string[], cwd: string): Promise<Run> {
  const { bin } = await install();
  const path = `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  return exec(`${bin}/h5shard`, args, cwd, path);
}

/** `deno task --config <checkout>/deno.json h5shard ...`, typed in `cwd`. */
function task(args: string[], cwd: string): Promise<Run> {
  return exec(
    Deno.execPath(),
    ["task", "--config", `${ROOT}/deno.json`, "h5shard", ...args],
    cwd,
  );
}

let melCache: Promise<string> | undefined;
/** A mel-only cache of the five-file corpus (made with `deno run cli.ts`, as a fixture). */
function cache(): Promise<string> {
  melCache ??= (async () => {
    const dir = userDir();
    const root = corpus(dir);
    const made = await exec(
      Deno.execPath(),
      ["run", "-A", CLI, "preprocess", root, `${dir}/cache`, "--dataset", "ljspeech"].concat(
        ["--semantic-model", "none"],
      ),
      dir,
    );
    assertEquals(made.code, 0, made.stderr);
    return `${dir}/cache`;
  })();
  return melCache;
}

const LIBRI = "train-clean-100/103/1240/103_1240_000001_000000";
const LONG = `train-other-500/${"9".repeat(4)}/${"8".repeat(6)}/${"long_utterance_".repeat(12)}x`;

/** A cache of LibriTTS-style keys (and one very long key), written with the library. */
async function libriCache(): Promise<string> {
  const dir = `${userDir()}/libri`;
  const mel = (seed: number) => ({
    dtype: "float32" as const,
    shape: [1, 120, 80],
    data: Float32Array.from({ length: 120 * 80 }, (_, i) => Math.sin(i * 0.01 + seed)),
  });
  const keys = [LIBRI, "train-clean-100/103/1240/103_1240_000002_000000", "LJ001-0001", LONG];
  const samples: Sample[] = keys.map((key, i) => ({ key, tensors: { mel_spectrogram: mel(i) } }));
  await pack(ReadableStream.from(samples), dir, { dataset: "libritts" });
  return dir;
}

/** Width and height of a PNG, from its IHDR. */
function pngSize(file: string): [number, number] {
  const bytes = Deno.readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

/** Seconds of audio in the corpus's WAV files, from their RIFF headers. */
function wavSeconds(dir: string): number {
  let total = 0;
  for (const e of Deno.readDirSync(dir)) {
    const b = Deno.readFileSync(`${dir}/${e.name}`);
    const v = new DataView(b.buffer, b.byteOffset);
    let rate = 0, align = 0;
    for (let at = 12; at + 8 <= b.length;) {
      const id = new TextDecoder().decode(b.subarray(at, at + 4));
      const size = v.getUint32(at + 4, true);
      if (id === "fmt ") {
        rate = v.getUint32(at + 12, true);
        align = v.getUint16(at + 20, true);
      }
      if (id === "data") total += Math.min(size, b.length - at - 8) / align / rate;
      at += 8 + size + (size & 1);
    }
  }
  return total;
}

Deno.test("deno task install puts h5shard on the PATH; h5shard --version works from any directory", async () => {
  const { run, bin, cwd } = await install();
  assertEquals(run.code, 0, run.stderr);
  // The relative --root means the user's folder, and the PATH line to add is printed.
  assert(Deno.statSync(`${cwd}/inst/bin/h5shard`).isFile);
  assertMatch(run.stdout, new RegExp(`export PATH="${bin}:\\$PATH"`));
  // The launcher grants what the h5shard task grants, and no more.
  const flags = (JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks.h5shard as string)
    .split(" ").filter((w) => w.startsWith("--allow-"));
  const launcher = Deno.readTextFileSync(`${bin}/h5shard`);
  assertEquals(launcher.match(/--allow-[a-z]+/g), flags);
  const elsewhere = userDir();
  const version = await h5shard(["--version"], elsewhere);
  assertEquals(version.code, 0, version.stderr);
  const want = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).version;
  assertEquals(version.stdout.split("\n")[0], `h5shard ${want}`);
  // The launcher works with only the install's bin folder and the system's on the PATH when
  // the install had to link a deno (no deno of the user's own on the PATH).
  const linked = (() => {
    try {
      return Deno.lstatSync(`${bin}/deno`).isSymlink;
    } catch {
      return false;
    }
  })();
  if (linked) {
    const bare = await exec(`${bin}/h5shard`, ["--version"], elsewhere, `${bin}:/usr/bin:/bin`);
    assertEquals(bare.code, 0, bare.stderr);
  }
});

Deno.test("under deno task, relative paths and --config mean the user's directory", async () => {
  const dir = userDir();
  const cached = await cache();
  const got = await task(
    ["get", cached, "LJ001-0001", "mel_spectrogram", "--out", "mine.npy"],
    dir,
  );
  assertEquals(got.code, 0, got.stderr);
  assert(Deno.statSync(`${dir}/mine.npy`).size > 0);
  let inCheckout = true;
  try {
    Deno.statSync(`${ROOT}/mine.npy`);
  } catch {
    inCheckout = false;
  }
  assert(!inCheckout, "mine.npy was written into the checkout");
  // The same array as a run given the absolute path.
  const direct = await exec(
    Deno.execPath(),
    ["run", "-A", CLI, "get", cached, "LJ001-0001", "mel_spectrogram", "--out", `${dir}/ref.npy`],
    dir,
  );
  assertEquals(direct.code, 0, direct.stderr);
  assertEquals(Deno.readFileSync(`${dir}/mine.npy`), Deno.readFileSync(`${dir}/ref.npy`));

  // preprocess with a relative corpus, cache and config file: the config is the user's.
  corpus(dir, "corpus");
  Deno.writeTextFileSync(
    `${dir}/my_config.json`,
    JSON.stringify({ preprocessing: { samples_per_hdf5: 2 } }),
  );
  const pre = await task(
    [
      "preprocess",
      "corpus",
      "out",
      "--dataset",
      "ljspeech",
      "--semantic-model",
      "none",
      "--config",
      "my_config.json",
    ],
    dir,
  );
  assertEquals(pre.code, 0, pre.stderr);
  const index = JSON.parse(Deno.readTextFileSync(`${dir}/out/hdf5_index.json`));
  assertEquals(Object.keys(index.sample_index).length, 5);
  assertEquals(index.current_file_idx, 3, "samples_per_hdf5 2 from my_config.json: 3 shards");
});

Deno.test("README's first From audio example runs as written; a missing export names --semantic-model none", async () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("## From audio"));
  const open = section.indexOf("```sh\n") + 6;
  const block = section.slice(open, section.indexOf("\n```", open));
  const line = block.split("\n")[0].replace(/\s+#.*$/, "");
  assertMatch(line, /^h5shard preprocess data\/LJSpeech-1\.1 \S+ --dataset ljspeech/);
  const dir = userDir();
  corpus(`${dir}/data`);
  const args = line.split(/\s+/).slice(1);
  const run = await h5shard(args, dir);
  assertEquals(run.code, 0, run.stderr);
  const out = args[2];
  const index = JSON.parse(Deno.readTextFileSync(`${dir}/${out}/hdf5_index.json`));
  assertEquals(Object.keys(index.sample_index).sort(), [
    "LJ001-0001",
    "LJ001-0002",
    "LJ001-0003",
    "LJ001-0004",
    "LJ001-0005",
  ]);
  // Without --semantic-model and without a config naming a model: the schema's default, none,
  // as for the library: the mel alone.
  const melOnly = await h5shard(
    ["preprocess", "data/LJSpeech-1.1", "mel_only", "--dataset", "ljspeech"],
    dir,
  );
  assertEquals(melOnly.code, 0, melOnly.stderr);
  const melIndex = JSON.parse(Deno.readTextFileSync(`${dir}/mel_only/hdf5_index.json`));
  assertEquals(Object.keys(melIndex.sample_index).length, 5);
  // With the repo's preprocess_config.json (it names facebook/w2v-bert-2.0, as the original's
  // does): not an export, and the error says how to compute the mel spectrograms alone.
  const noModel = await h5shard(
    [
      "preprocess",
      "data/LJSpeech-1.1",
      "other",
      "--dataset",
      "ljspeech",
      "--config",
      `${ROOT}/preprocess_config.json`,
    ],
    dir,
  );
  assertEquals(noModel.code, 1);
  assertMatch(noModel.stderr, /--semantic-model none/);
});

Deno.test("stats --dataset <absent>: one error listing the datasets there are, exit 2", async () => {
  const run = await h5shard(["stats", await cache(), "--dataset", "mel"], userDir());
  assertEquals(run.code, 2);
  assertMatch(run.stderr, /no sample of .* has it; its datasets: mel_spectrogram/);
  assert(!run.stderr.includes("warning"), run.stderr);
  assertEquals(run.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length, 1);
});

Deno.test("get with an unknown key offers the nearest keys and notices key and dataset swapped", async () => {
  const dir = await libriCache();
  const cwd = userDir();
  const base = await h5shard(["get", dir, "103_1240_000001_000000", "mel_spectrogram"], cwd);
  assertEquals(base.code, 1);
  assertMatch(base.stderr, new RegExp(`did you mean ${LIBRI}\\?`));
  const typo = await h5shard(["get", dir, LIBRI.replace("1240/", "124/"), "mel_spectrogram"], cwd);
  assertMatch(typo.stderr, new RegExp(`did you mean ${LIBRI}`));
  const swapped = await h5shard(["get", dir, "mel_spectrogram", LIBRI], cwd);
  assertEquals(swapped.code, 1);
  assertMatch(swapped.stderr, /key and the dataset are swapped/);
  assertMatch(swapped.stderr, new RegExp(`get ${dir} ${LIBRI} mel_spectrogram`));
});

Deno.test("--out: a missing folder is named, a wrong extension exits 2, nothing is written", async () => {
  const cached = await cache();
  const cwd = userDir();
  const missing = await h5shard(
    ["get", cached, "LJ001-0001", "mel_spectrogram", "--out", "nowhere/x.npy"],
    cwd,
  );
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /the folder nowhere does not exist/);
  assert(!missing.stderr.includes("NotFound"), missing.stderr);
  const txt = await h5shard(
    ["get", cached, "LJ001-0001", "mel_spectrogram", "--out", "x.txt"],
    cwd,
  );
  assertEquals(txt.code, 2);
  assertMatch(txt.stderr, /get writes \.npy/);
  const jpg = await h5shard(["plot", cached, "LJ001-0001", "--out", "x.jpg"], cwd);
  assertEquals(jpg.code, 2);
  assertMatch(jpg.stderr, /plot writes \.png/);
  assertEquals([...Deno.readDirSync(cwd)].map((e) => e.name), []);
});

Deno.test("a refused merge leaves no folder behind; a partition with no files says so", async () => {
  const cached = await cache();
  const cwd = userDir();
  // Two caches with the same keys: refused, and the new destination is gone again.
  const copy = `${userDir()}/copy`;
  Deno.mkdirSync(copy);
  for (const e of Deno.readDirSync(cached)) {
    Deno.copyFileSync(`${cached}/${e.name}`, `${copy}/${e.name}`);
  }
  const merged = await h5shard(["merge", cached, copy, "new/merged"], cwd);
  assertEquals(merged.code, 1);
  assertMatch(merged.stderr, /is also in .*parts must not overlap/);
  assertEquals([...Deno.readDirSync(cwd)].map((e) => e.name), []);

  corpus(cwd, "corpus");
  const part = await h5shard(
    ["preprocess", "corpus", "part0", "--dataset", "ljspeech", "--semantic-model", "none"].concat(
      ["--partition", "0/8"],
    ),
    cwd,
  );
  assertEquals(part.code, 0, part.stderr);
  assertMatch(part.stderr, /partition 0\/8 got no files: the 5 files fill 1 shard/);
});

Deno.test("wavs/ or a cache given as the corpus: a hint naming the expected layout", async () => {
  const cwd = userDir();
  corpus(cwd);
  const wavs = await h5shard(
    ["preprocess", "LJSpeech-1.1/wavs", "out", "--dataset", "ljspeech", "--semantic-model", "none"],
    cwd,
  );
  assertEquals(wavs.code, 1);
  assertMatch(
    wavs.stderr,
    /folder of WAV files itself.*give the folder that holds it, LJSpeech-1\.1/,
  );
  assertMatch(wavs.stderr, /<data_root>\/wavs\/\*\.wav/);
  const asCorpus = await h5shard(
    ["preprocess", await cache(), "out", "--dataset", "ljspeech", "--semantic-model", "none"],
    cwd,
  );
  assertEquals(asCorpus.code, 1);
  assertMatch(asCorpus.stderr, /is an h5shard cache .*not a corpus/);
  assertEquals([...Deno.readDirSync(cwd)].map((e) => e.name), ["LJSpeech-1.1"]);
});

Deno.test("preprocess reports audio hours and audio seconds per second", async () => {
  const cwd = userDir();
  const root = corpus(cwd);
  const run = await h5shard(
    ["preprocess", "LJSpeech-1.1", "out", "--dataset", "ljspeech", "--semantic-model", "none"],
    cwd,
  );
  assertEquals(run.code, 0, run.stderr);
  const m = /audio: ([\d.]+) h of audio \(([\d.]+) s\), ([\d.]+) audio s per s/.exec(run.stdout);
  assert(m, run.stdout);
  const seconds = wavSeconds(`${root}/wavs`);
  assert(Math.abs(Number(m[2]) - seconds) < 0.1, `${m[2]} s printed, ${seconds} s in the files`);
  assertEquals(m[1], (seconds / 3600).toFixed(2));
  assert(Number(m[3]) > 0);
  // Progress lines (not a terminal: plain lines) carry the audio rate too.
  assertMatch(run.stderr, /h audio, [\d.]+ audio s\/s/);
});

Deno.test("plot: a long key never widens the image", async () => {
  const dir = await libriCache();
  const cwd = userDir();
  const short = await h5shard(["plot", dir, "LJ001-0001", "--out", "short.png"], cwd);
  assertEquals(short.code, 0, short.stderr);
  const long = await h5shard(["plot", dir, LONG, "--out", "long.png"], cwd);
  assertEquals(long.code, 0, long.stderr);
  assertEquals(pngSize(`${cwd}/long.png`), pngSize(`${cwd}/short.png`));
});

Deno.test("no 'Ignored build scripts' warning for onnxruntime-node on a first run", async () => {
  // A fresh project directory with this deno.json: Deno warns once per project, on first use.
  const dir = userDir();
  Deno.copyFileSync(`${ROOT}/deno.json`, `${dir}/deno.json`);
  Deno.copyFileSync(`${ROOT}/deno.lock`, `${dir}/deno.lock`);
  const deps = Deno.readTextFileSync(`${ROOT}/deps.ts`);
  const spec = /npm:onnxruntime-node@[\d.]+/.exec(deps)![0];
  Deno.writeTextFileSync(`${dir}/main.ts`, `export const ort = () => import("${spec}");\n`);
  const run = await exec(Deno.execPath(), ["run", "-A", "main.ts"], dir);
  assertEquals(run.code, 0, run.stderr);
  assert(!/Ignored build scripts/.test(run.stderr), run.stderr);
});
