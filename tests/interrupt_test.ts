/**
 * SIGINT and SIGTERM in the middle of a preprocess: the run stops, checkpoints, lets go of the
 * lock, removes a shard with no sample, says how to resume and exits 130 / 143. The cache then
 * verifies, and the same command resumes it to what one uninterrupted run stores.
 */
import assert from "node:assert/strict";
import { encodeWav } from "../audio/wav.ts";
import { openCache } from "../ops/cache_reader.ts";
import { bytesOf } from "../formats/dtype.ts";
import { CLI, runCli } from "./helpers/run_cli.ts";
import { encodeNpz } from "../formats/npz.ts";
import { migrate } from "../ops/migrate.ts";
import { utterance } from "./helpers/npz_fixtures.ts";

const SLOW = new URL("./fixtures/slow_extractor.ts", import.meta.url).pathname;
const FILES = 120;

async function corpus(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "interrupt_test_" });
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  for (let k = 0; k < FILES; k++) {
    const tone = Float32Array.from(
      { length: 1600 + 16 * k },
      (_, i) => 0.3 * Math.sin(i / (2 + k % 7)),
    );
    await Deno.writeFile(
      `${root}/corpus/wavs/LJ001-${String(k).padStart(4, "0")}.wav`,
      encodeWav(tone, 16000),
    );
  }
  return root;
}

const args = (root: string, out: string) => [
  "preprocess",
  `${root}/corpus`,
  out,
  "--dataset",
  "ljspeech",
  "--semantic-model",
  "none",
  "--extractor",
  SLOW,
  "--num-audio-workers",
  "1",
  "--samples-per-hdf5",
  "16",
  "--checkpoint-interval",
  "4",
];

/** Every dataset of every sample, as dtype, shape and bytes. */
async function contents(dir: string): Promise<Map<string, string>> {
  const cache = await openCache(dir);
  const out = new Map<string, string>();
  try {
    for (const key of cache.keys()) {
      for (const [name, t] of Object.entries(await cache.get(key))) {
        out.set(`${key}/${name}`, `${t.dtype} ${t.shape} ${bytesOf(t.data).join(",")}`);
      }
    }
  } finally {
    cache.close();
  }
  return out;
}

async function indexedCount(dir: string): Promise<number> {
  try {
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    return Object.keys(index.sample_index).length;
  } catch {
    return 0;
  }
}

let single: Promise<Map<string, string>> | undefined;

for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} mid-preprocess: checkpoint, no lock, exit ${status}; verify OK; resume equals one run`, async () => {
    const root = await corpus();
    const out = `${root}/cache`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args(root, out)],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Mid-run: once the first checkpoint has indexed samples.
    while (await indexedCount(out) === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill(signal);
    const result = await child.output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, status, stderr);
    const stored = Number(
      /interrupted: (\d+) samples stored; the same command resumes/.exec(stderr)?.[1],
    );
    assert(stored > 0 && stored < FILES, `${stored} of ${FILES} stored:\n${stderr}`);
    const names = [...Deno.readDirSync(out)].map((e) => e.name);
    assert(!names.includes(".h5shard.lock"), `the lock is gone: ${names}`);
    const indexed = await indexedCount(out);
    assert.equal(indexed, stored, "every stored sample is indexed");
    const shards = names.filter((n) => /^features_\d{5}\.h5$/.test(n)).length;
    assert.equal(shards, Math.ceil(indexed / 16), `no shard without a sample: ${names}`);

    const verify = await runCli(["verify", out]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    const resume = await runCli(args(root, out));
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(
      resume.stdout,
      new RegExp(`stored ${FILES - stored} samples \\(${stored} already there`),
    );
    single ??= (async () => {
      const once = await runCli(args(root, `${root}/single`));
      assert.equal(once.code, 0, once.stderr);
      return await contents(`${root}/single`);
    })();
    const expected = await single;
    assert.equal(expected.size, FILES * 2);
    assert.deepEqual(await contents(out), expected);
    await Deno.remove(root, { recursive: true });
  });
}

Deno.test("migrate stopped through its AbortSignal checkpoints, and the same call resumes to the whole cache", async () => {
  const root = await Deno.makeTempDir({ prefix: "interrupt_test_" });
  await Deno.mkdir(`${root}/npz`);
  const total = 60;
  for (let k = 0; k < total; k++) {
    const bytes = encodeNpz(utterance(4 + k % 5, k + 1), { compress: false });
    await Deno.writeFile(`${root}/npz/LJ001-${String(k).padStart(4, "0")}.npz`, bytes);
  }
  const controller = new AbortController();
  const options = {
    npzDir: `${root}/npz`,
    processedDir: `${root}/cache`,
    plugin: "ljspeech",
    preprocessing: { samples_per_hdf5: 8, checkpoint_interval: 3 },
  };
  const first = await migrate({
    ...options,
    signal: controller.signal,
    onProgress: (s) => {
      if (s.written === 10) controller.abort();
    },
  });
  assert.equal(first.interrupted, true);
  assert(first.written >= 10 && first.written < total, `${first.written} stored`);
  assert.equal(await indexedCount(`${root}/cache`), first.written);
  const names = [...Deno.readDirSync(`${root}/cache`)].map((e) => e.name);
  assert(!names.includes(".h5shard.lock"), `the lock is gone: ${names}`);
  const resumed = await migrate(options);
  assert.equal(resumed.interrupted, undefined);
  assert.equal(resumed.written, total - first.written);
  const once = await migrate({ ...options, processedDir: `${root}/single` });
  assert.deepEqual(await contents(`${root}/cache`), await contents(`${root}/single`));
  assert.equal(once.written, total);
  await Deno.remove(root, { recursive: true });
});
