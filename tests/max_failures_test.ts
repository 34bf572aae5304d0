/**
 * `--max-failures`: an array job's partitions with a bad file each still exit 0 within the
 * limit (their failures in error_log.json), so the merge that waits on them runs.
 */
import assert from "node:assert/strict";
import { encodeWav } from "../audio/wav.ts";
import { main } from "../cli.ts";
import { allowedFailures } from "../config/schema.ts";

async function h5shard(...args: string[]) {
  const out: string[] = [], err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: await Deno.makeTempDir(),
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** Six tones; LJ001-0002 and LJ001-0005 (one in each half) are not WAV files. */
async function corpus(): Promise<string> {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  for (let k = 1; k <= 6; k++) {
    const path = `${root}/corpus/wavs/LJ001-000${k}.wav`;
    if (k === 2 || k === 5) await Deno.writeTextFile(path, "not a wav file");
    else {
      const tone = Float32Array.from({ length: 3200 }, (_, i) => 0.2 * Math.sin(i / (2 + k)));
      await Deno.writeFile(path, encodeWav(tone, 16000));
    }
  }
  return root;
}

const ARGS = ["--dataset", "ljspeech", "--semantic-model", "none", "--samples-per-hdf5", "3"];

Deno.test("two partitions with a bad file each exit 0 under --max-failures 1, and merge", async () => {
  const root = await corpus();
  for (const i of [0, 1]) {
    const args = ["preprocess", `${root}/corpus`, `${root}/part_${i}`, ...ARGS];
    const strict = await h5shard(...args, "--partition", `${i}/2`, "--max-retries", "0");
    assert.equal(strict.code, 1, "without --max-failures one failure fails the run");
    assert.match(strict.stderr, /1 sample\(s\) failed, more than --max-failures 0/);
    const run = await h5shard(
      ...args,
      "--partition",
      `${i}/2`,
      "--max-failures",
      "1",
      "--max-retries",
      "0",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /1 sample\(s\) failed, within --max-failures 1 \(1 allowed here\)/);
    const log = JSON.parse(await Deno.readTextFile(`${root}/part_${i}/error_log.json`));
    assert.deepEqual(log.errors.map((e: { sample_key: string }) => e.sample_key), [
      i === 0 ? "LJ001-0002" : "LJ001-0005",
    ]);
  }
  const merged = await h5shard("merge", `${root}/part_0`, `${root}/part_1`, `${root}/merged`);
  assert.equal(merged.code, 0, merged.stderr);
  const index = JSON.parse(await Deno.readTextFile(`${root}/merged/hdf5_index.json`));
  assert.deepEqual(Object.keys(index.sample_index).sort(), [
    "LJ001-0001",
    "LJ001-0003",
    "LJ001-0004",
    "LJ001-0006",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("--max-failures as a percentage, and values it refuses", async () => {
  assert.equal(allowedFailures("50%", 6), 3);
  assert.equal(allowedFailures("1%", 99), 0);
  const root = await corpus();
  const over = await h5shard(
    "preprocess",
    `${root}/corpus`,
    `${root}/a`,
    ...ARGS,
    "--max-failures",
    "20%",
    "--max-retries",
    "0",
  );
  assert.equal(over.code, 1, "2 of 6 failed, 20% allows 1");
  assert.match(
    over.stderr,
    /2 sample\(s\) failed, more than --max-failures 20% \(1 allowed here\)/,
  );
  const within = await h5shard(
    "preprocess",
    `${root}/corpus`,
    `${root}/b`,
    ...ARGS,
    "--max-failures",
    "40%",
    "--max-retries",
    "0",
  );
  assert.equal(within.code, 0, within.stderr);
  for (const bad of ["-1", "two", "101%"]) {
    const run = await h5shard(
      "preprocess",
      `${root}/corpus`,
      `${root}/c`,
      ...ARGS,
      "--max-failures",
      bad,
    );
    assert.equal(run.code, 2, `${bad}: ${run.stderr}`);
    assert.match(run.stderr, /--max-failures/);
  }
  await Deno.remove(root, { recursive: true });
});
