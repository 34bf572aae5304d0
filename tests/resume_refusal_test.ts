/**
 * A run into a processed_dir that holds samples is refused before anything is written when
 * the samples were made with other feature settings (exit 2) or belong to another cache (as
 * merge refuses it); the directory is left byte for byte as it was.
 */
import assert from "node:assert/strict";
import { encodeWav } from "../audio/wav.ts";
import { main } from "../cli.ts";
import { pack } from "../ops/pack.ts";
import { checkTargetCache } from "../ops/target_check.ts";

async function h5shard(...args: string[]) {
  const out: string[] = [], err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: await Deno.makeTempDir(),
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** A corpus of `n` short LJSpeech-named tones under `<root>/corpus`. */
async function toneCorpus(n: number): Promise<string> {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  for (let k = 0; k < n; k++) {
    const tone = Float32Array.from({ length: 4000 }, (_, i) => 0.3 * Math.sin(i / (3 + k)));
    await Deno.writeFile(
      `${root}/corpus/wavs/LJ001-${String(k + 1).padStart(4, "0")}.wav`,
      encodeWav(tone, 16000),
    );
  }
  return root;
}

/** Every file of a directory, by name, with its bytes. */
async function snapshot(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    files.set(e.name, await Deno.readFile(`${dir}/${e.name}`));
  }
  return files;
}

function assertSame(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): void {
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [name, bytes] of before) assert.deepEqual(after.get(name), bytes, `${name} changed`);
}

const MODEL = new URL("../examples/w2v_bert_tiny", import.meta.url).pathname;
const MEL_ONLY = ["--dataset", "ljspeech", "--semantic-model", "none", "--samples-per-hdf5", "2"];

Deno.test("a resume with another semantic model or mel bands is refused (exit 2), nothing written", async () => {
  const root = await toneCorpus(3);
  const cache = `${root}/cache`;
  const first = await h5shard("preprocess", `${root}/corpus`, cache, ...MEL_ONLY);
  assert.equal(first.code, 0, first.stderr);
  const meta = JSON.parse(await Deno.readTextFile(`${cache}/metadata.json`));
  assert.equal(meta.feature_settings.semantic_model, "none");
  assert.equal(meta.feature_settings.mel_config.n_mel, 80);
  assert.deepEqual(meta.feature_settings.extractors, ["mel"]);
  const before = await snapshot(cache);
  assert(before.has("features_00002.h5") && before.has("hdf5_index.json"));

  const model = await h5shard(
    "preprocess",
    `${root}/corpus`,
    cache,
    ...MEL_ONLY.slice(0, 2),
    "--semantic-model",
    MODEL,
    "--samples-per-hdf5",
    "2",
  );
  assert.equal(model.code, 2, model.stderr);
  assert.match(model.stderr, /semantic_model = "none", this run gives ".*w2v_bert_tiny"/);
  assert.match(model.stderr, /another processed_dir.*--overwrite-existing true/s);
  assertSame(before, await snapshot(cache));

  const bands = await h5shard(
    "preprocess",
    `${root}/corpus`,
    cache,
    ...MEL_ONLY,
    "--mel-n-mel",
    "100",
  );
  assert.equal(bands.code, 2, bands.stderr);
  assert.match(bands.stderr, /mel_config\.n_mel = 80, this run gives 100/);
  assertSame(before, await snapshot(cache));

  // The same settings resume; --overwrite-existing true remakes every sample with the new ones.
  const again = await h5shard("preprocess", `${root}/corpus`, cache, ...MEL_ONLY);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /stored 0 samples \(3 already there/);
  const remade = await h5shard(
    "preprocess",
    `${root}/corpus`,
    cache,
    ...MEL_ONLY,
    "--mel-n-mel",
    "100",
    "--overwrite-existing",
    "true",
  );
  assert.equal(remade.code, 0, remade.stderr);
  const after = JSON.parse(await Deno.readTextFile(`${cache}/metadata.json`));
  assert.equal(after.feature_settings.mel_config.n_mel, 100);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a cache made before feature_settings were recorded resumes on the settings it records", async () => {
  const root = await toneCorpus(2);
  const cache = `${root}/cache`;
  const first = await h5shard("preprocess", `${root}/corpus`, cache, ...MEL_ONLY);
  assert.equal(first.code, 0, first.stderr);
  // As an older h5shard wrote it: no feature_settings, no origin.
  const meta = JSON.parse(await Deno.readTextFile(`${cache}/metadata.json`));
  delete meta.feature_settings;
  delete meta.origin;
  await Deno.writeTextFile(`${cache}/metadata.json`, JSON.stringify(meta, null, 2));
  const same = await h5shard("preprocess", `${root}/corpus`, cache, ...MEL_ONLY);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stderr, /no feature_settings \(an older h5shard made it\)/);
  const before = await snapshot(cache);
  const bands = await h5shard(
    "preprocess",
    `${root}/corpus`,
    cache,
    ...MEL_ONLY,
    "--mel-n-mel",
    "100",
  );
  assert.equal(bands.code, 2, bands.stderr);
  assert.match(bands.stderr, /mel_config\.n_mel = 80, this run gives 100/);
  assertSame(before, await snapshot(cache));
  await Deno.remove(root, { recursive: true });
});

Deno.test("reshard, migrate and preprocess into a directory holding another cache are refused, it left as it was", async () => {
  const root = await toneCorpus(2);
  const other = await toneCorpus(2);
  const cache = `${root}/cache`;
  const made = await h5shard("preprocess", `${root}/corpus`, cache, ...MEL_ONLY);
  assert.equal(made.code, 0, made.stderr);
  const src = `${root}/src`;
  const data = new Float32Array(16).fill(0.5);
  await pack(
    ReadableStream.from([{
      key: "x",
      tensors: { x: { dtype: "float32" as const, shape: [4, 4], data } },
    }]),
    src,
  );
  const before = await snapshot(cache);

  const reshard = await h5shard("reshard", src, cache);
  assert.equal(reshard.code, 1, reshard.stderr);
  assert.match(
    reshard.stderr,
    /already holds another cache \(2 samples made by preprocess --dataset ljspeech/,
  );
  assert.match(reshard.stderr, /this run is reshard from .*src\)/);
  assertSame(before, await snapshot(cache));

  const preprocess = await h5shard("preprocess", `${other}/corpus`, cache, ...MEL_ONLY);
  assert.equal(preprocess.code, 1, preprocess.stderr);
  assert.match(preprocess.stderr, /already holds another cache/);
  assertSame(before, await snapshot(cache));

  assert.throws(
    () =>
      checkTargetCache(cache, {
        origin: { command: "migrate", dataset: "ljspeech", source: src },
        overwrite: false,
      }),
    /already holds another cache/,
  );
  // A reshard's own target resumes.
  const dst = `${root}/dst`;
  assert.equal((await h5shard("reshard", src, dst)).code, 0);
  const resumed = await h5shard("reshard", src, dst);
  assert.equal(resumed.code, 0, resumed.stderr);
  await Deno.remove(root, { recursive: true });
  await Deno.remove(other, { recursive: true });
});
