import { assert, assertEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { type CacheDigest, h5pyCacheDigest } from "./helpers/cache_digest.ts";
import { CacheError, ConfigError, LockError } from "../errors.ts";
import { merge, MERGE_PLAN_FILE } from "../ops/merge.ts";
import { migrate } from "../ops/migrate.ts";
import { preprocess } from "../ops/preprocess.ts";
import { encodeWav } from "../formats/wav.ts";
import { writeExampleCache } from "../ops/example_cache.ts";
import { pack } from "../ops/pack.ts";
import type { Preprocessing } from "../config.ts";
import type { Sample } from "../stages/record.ts";
import { LOCK_FILE } from "../stages/dir_lock.ts";

const python = await findH5pyPython();
const CLI = new URL("../cli.ts", import.meta.url).pathname;

function cli(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  });
}

async function runCli(args: string[]): Promise<string> {
  const out = await cli(args).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert(out.success, `h5shard ${args.join(" ")} failed:\n${text}`);
  return text;
}

function shardFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^features_\d{5}\.h5$/.test(n))
    .sort();
}

/** A small deterministic sample: float16 (T, width) and an int32 pair. */
function sample(i: number, width = 16): Sample {
  const T = 5 + (i * 7) % 23;
  const hs = new Float16Array(T * width);
  let x = (i + 1) * 2654435761 >>> 0;
  for (let j = 0; j < hs.length; j++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    hs[j] = (x / 2 ** 32 - 0.5) * 4;
  }
  return {
    key: `spk${i % 3}/utt_${String(i).padStart(5, "0")}`,
    tensors: {
      hidden_states: { dtype: "float16", shape: [T, width], data: hs },
      lengths: { dtype: "int32", shape: [2], data: Int32Array.of(T, i) },
    },
  };
}

async function part(
  dir: string,
  from: number,
  to: number,
  settings: Partial<Preprocessing> = {},
  width = 16,
): Promise<string> {
  const samples: Sample[] = [];
  for (let i = from; i < to; i++) samples.push(sample(i, width));
  await pack(ReadableStream.from(samples), dir, {
    preprocessing: { samples_per_hdf5: 10, num_save_workers: 1, ...settings },
  });
  return dir;
}

/** The counts of `metadata.json` that a merge sums over its parts, and `processed_dir`. */
const COUNTS = [
  "total_files",
  "processed_files",
  "error_files",
  "total_samples",
  "processed_samples",
  "skipped_samples",
  "failed_samples",
  "num_hdf5_files",
] as const;

/** Asserts that `merged`'s metadata.json has `single`'s counts, and itself as processed_dir. */
function assertSameCounts(merged: string, single: string): void {
  const read = (dir: string) => JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
  const [m, s] = [read(merged), read(single)];
  for (const name of COUNTS) {
    assert(typeof s[name] === "number", `${single}: no ${name} in metadata.json`);
    assertEquals(m[name], s[name], name);
  }
  assertEquals([m.processed_dir, s.processed_dir], [merged, single]);
}

function union(digests: CacheDigest[]): CacheDigest {
  return Object.assign({}, ...digests);
}

Deno.test({
  name: "3 partitions of a migrate run concurrently, merged, equal a single run (h5py)",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    const npz = `${root}/npz`;
    await writeExampleCache(npz, { samples: 53, dims: 32, minFrames: 10, maxFrames: 40 });
    const settings = ["--dataset", "ljspeech", "--samples-per-hdf5", "7"];
    const children = [0, 1, 2].map((i) =>
      cli(["migrate", npz, `${root}/part_${i}`, ...settings, "--partition", `${i}/3`]).spawn()
    );
    const single = runCli(["migrate", npz, `${root}/single`, ...settings]);
    for (const c of children) assert((await c.output()).success);
    await single;
    // 8 shard blocks over 3 tasks: 2, 3 and 3 shards; only the last task's last shard partial.
    const sizes = [0, 1, 2].map((i) => {
      const meta = JSON.parse(Deno.readTextFileSync(`${root}/part_${i}/metadata.json`));
      return meta.partition.end - meta.partition.start;
    });
    assertEquals(sizes, [14, 21, 18]);

    const text = await runCli([
      "merge",
      `${root}/part_2`,
      `${root}/part_0`,
      `${root}/part_1`,
      `${root}/merged`,
    ]);
    // The one partial shard is copied whole: it is already what combining would make.
    assert(text.includes("7 shard(s) linked, 1 copied, 0 combined"), text);
    const merged = await h5pyCacheDigest(py, `${root}/merged`);
    assertEquals(Object.keys(merged).length, 53);
    assertEquals(merged, await h5pyCacheDigest(py, `${root}/single`));
    assertEquals(
      Deno.readTextFileSync(`${root}/merged/hdf5_index.json`),
      Deno.readTextFileSync(`${root}/single/hdf5_index.json`),
    );
    // Same writer, same samples in the same shards: the files themselves are equal too.
    assertEquals(shardFiles(`${root}/merged`), shardFiles(`${root}/single`));
    for (const f of shardFiles(`${root}/single`)) {
      assertEquals(
        Deno.readFileSync(`${root}/merged/${f}`),
        Deno.readFileSync(`${root}/single/${f}`),
        f,
      );
    }
    const meta = JSON.parse(Deno.readTextFileSync(`${root}/merged/metadata.json`));
    assertEquals(meta.total_samples, 53);
    assertEquals(meta.num_hdf5_files, 8);
    assertEquals(meta.partition, undefined);
    assertSameCounts(`${root}/merged`, `${root}/single`);
    assertEquals(meta.merged_from.map((m: { partition: string }) => m.partition), [
      "0/3",
      "1/3",
      "2/3",
    ]);
    await runCli(["verify", `${root}/merged`]);
    // A second run, with the parts in any order, finds the merge done and changes nothing.
    for (const order of [[0, 1, 2], [2, 0, 1]]) {
      assert((await runCli(["merge", ...order.map((i) => `${root}/part_${i}`), `${root}/merged`]))
        .includes("nothing to do"));
    }
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("merge takes empty partitions (more tasks than shards) in its stride", async () => {
  const root = await Deno.makeTempDir();
  await writeExampleCache(`${root}/npz`, { samples: 23, dims: 8, minFrames: 4, maxFrames: 9 });
  const base = { npzDir: `${root}/npz`, plugin: "ljspeech" };
  const preprocessing = { samples_per_hdf5: 10, num_save_workers: 1 };
  for (let i = 0; i < 5; i++) {
    await migrate({
      ...base,
      processedDir: `${root}/p${i}`,
      preprocessing,
      partition: { index: i, count: 5 },
    });
  }
  await migrate({ ...base, processedDir: `${root}/single`, preprocessing });
  const report = await merge({
    parts: [0, 1, 2, 3, 4].map((i) => `${root}/p${i}`),
    processedDir: `${root}/merged`,
  });
  assertEquals(
    [report.totalSamples, report.shards, report.linked, report.copied, report.combined],
    [23, 3, 2, 1, 0],
  );
  assertEquals(
    Deno.readTextFileSync(`${root}/merged/hdf5_index.json`),
    Deno.readTextFileSync(`${root}/single/hdf5_index.json`),
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test({
  name: "a merge killed with SIGKILL is finished by running it again",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    // Wide samples, stored without deflate, so copying the tails takes a while.
    const opts = { samples_per_hdf5: 300, compression_level: 0 };
    const parts = [
      await part(`${root}/a`, 0, 500, opts, 256),
      await part(`${root}/b`, 500, 700, opts, 256),
      await part(`${root}/c`, 700, 900, opts, 256),
    ];
    const target = `${root}/merged`;
    const child = cli(["merge", ...parts, target]).spawn();
    // Shard 1 is linked, 2 and 3 are combined from 600 tail samples: kill while 3 is written.
    const killAt = `${target}/.features_00003.h5.partial`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        Deno.statSync(killAt);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    child.kill("SIGKILL");
    const status = await child.status;
    assertEquals(status.signal, "SIGKILL");
    const left = [...Deno.readDirSync(target)].map((e) => e.name);
    assert(!left.includes("hdf5_index.json"), `killed too late: ${left}`);
    assert(left.includes(MERGE_PLAN_FILE) && left.includes("features_00002.h5"), `${left}`);

    const report = await merge({ parts, processedDir: target });
    assertEquals(report.resumed, 2);
    assertEquals(report.combined, 1);
    const index = JSON.parse(Deno.readTextFileSync(`${target}/hdf5_index.json`));
    assertEquals([index.current_file_idx, index.current_file_count], [3, 300]);
    assert(!Deno.readDirSync(target).some((e) => e.name.startsWith(".")), "leftovers");
    const expected = union(await Promise.all(parts.map((p) => h5pyCacheDigest(py, p))));
    assertEquals(await h5pyCacheDigest(py, target), expected);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("merging again after a part grew is refused, naming the part, and the merged cache is kept", async () => {
  const root = await Deno.makeTempDir();
  const p0 = await part(`${root}/p0`, 0, 20);
  const p1 = await part(`${root}/p1`, 20, 33);
  const target = `${root}/merged`;
  assertEquals((await merge({ parts: [p0, p1], processedDir: target })).totalSamples, 33);
  const snapshot = () =>
    [...Deno.readDirSync(target)].map((e) => {
      const info = Deno.statSync(`${target}/${e.name}`);
      return `${e.name}:${info.size}:${info.mtime?.getTime()}`;
    }).sort().join();
  const before = snapshot();
  const index = Deno.readTextFileSync(`${target}/hdf5_index.json`);
  // The partition task of p1 is run again with one more key.
  await part(p1, 20, 34);
  assertEquals(
    Object.keys(JSON.parse(Deno.readTextFileSync(`${p1}/hdf5_index.json`)).sample_index).length,
    14,
  );
  let error: unknown;
  try {
    await merge({ parts: [p0, p1], processedDir: target });
  } catch (e) {
    error = e;
  }
  assert(error instanceof CacheError, `expected CacheError, got ${error}`);
  for (const w of [Deno.realPathSync(p1), "13", "14", "new directory"]) {
    assert(error.message.includes(w), `"${w}" not in: ${error.message}`);
  }
  assert(!error.message.includes(Deno.realPathSync(p0) + " "), error.message);
  assertEquals(Deno.readTextFileSync(`${target}/hdf5_index.json`), index);
  assertEquals(snapshot(), before);
  // Into a new directory, the grown part is merged whole.
  const again = await merge({ parts: [p0, p1], processedDir: `${root}/merged2` });
  assertEquals([again.alreadyDone, again.totalSamples], [false, 34]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("merge refuses, by name, parts that do not belong together and busy targets", async (t) => {
  const root = await Deno.makeTempDir();
  const a = await part(`${root}/a`, 0, 25);
  const b = await part(`${root}/b`, 25, 40);
  const before = (dir: string) =>
    [...Deno.readDirSync(dir)].map((e) => `${e.name}:${Deno.statSync(`${dir}/${e.name}`).size}`)
      .sort().join();
  const snapshot = [a, b].map(before);
  let n = 0;
  const refused = async (
    parts: string[],
    kind: typeof CacheError | typeof LockError,
    ...words: string[]
  ) => {
    const target = `${root}/out_${n++}`;
    let error: unknown;
    try {
      await merge({ parts, processedDir: target });
    } catch (e) {
      error = e;
    }
    assert(error instanceof kind, `expected ${kind.name}, got ${error}`);
    for (const w of words) assert(error.message.includes(w), `"${w}" not in: ${error.message}`);
    const made = [...Deno.readDirSync(root)].some((e) => `${root}/${e.name}` === target);
    assertEquals(made ? shardFiles(target) : [], []);
  };

  await t.step("overlapping keys", async () => {
    const c = await part(`${root}/c`, 30, 45);
    await refused([a, b, c], CacheError, '"spk0/utt_00030"', c, b, "overlap");
  });
  const settings: [string, Partial<Preprocessing>, string][] = [
    ["use_float16", { use_float16: false }, "use_float16 is false"],
    ["compression level", { compression_level: 6 }, "compression_level is 6"],
    ["shuffle", { shuffle: true }, "shuffle is true"],
    ["samples_per_hdf5", { samples_per_hdf5: 12 }, "samples_per_hdf5 is 12"],
    ["chunk size", { chunk_bytes: 4096 }, "chunk_bytes is 4096"],
  ];
  for (const [name, s, words] of settings) {
    await t.step(`a different ${name}`, async () => {
      const c = await part(`${root}/s_${n}`, 100, 105, s);
      await refused([a, c], CacheError, words, c, a);
    });
  }
  await t.step("a part locked by a live writer", async () => {
    const lock = `${b}/${LOCK_FILE}`;
    Deno.writeTextFileSync(
      lock,
      JSON.stringify({ pid: Deno.pid, host: Deno.hostname(), since: "now" }),
    );
    try {
      await refused([a, b], LockError, b, `pid ${Deno.pid}`);
    } finally {
      Deno.removeSync(lock);
    }
  });
  await t.step("a part given twice", async () => {
    await refused([a, b, `${a}/.`], CacheError, "given twice");
  });
  await t.step("a missing or repeated partition", async () => {
    const tag = (dir: string, index: number) => {
      const meta = JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
      meta.partition = { index, count: 3, total: 40, start: 0, end: 0 };
      Deno.writeTextFileSync(`${dir}/metadata.json`, JSON.stringify(meta));
    };
    const c = await part(`${root}/p0`, 200, 205);
    const d = await part(`${root}/p2`, 300, 305);
    tag(c, 0);
    tag(d, 2);
    await refused([c, d], CacheError, "partition(s) 1/3 missing");
    tag(d, 0);
    await refused([c, d], CacheError, "partition 0/3 is also");
  });
  await t.step("a target that holds another cache, or another unfinished merge", async () => {
    let error: unknown;
    try {
      await merge({ parts: [a], processedDir: b });
    } catch (e) {
      error = e;
    }
    assert(error instanceof CacheError && error.message.includes("already holds a cache"));
    const target = `${root}/unfinished`;
    Deno.mkdirSync(target);
    Deno.writeTextFileSync(
      `${target}/${MERGE_PLAN_FILE}`,
      JSON.stringify({ parts: ["/elsewhere"], shards: 1, samples: 1 }),
    );
    try {
      await merge({ parts: [a, b], processedDir: target });
      throw new Error("not refused");
    } catch (e) {
      assert(e instanceof CacheError && e.message.includes("/elsewhere"), String(e));
    }
  });
  // Nothing refused left a trace in the parts: no lock file, no changed byte count.
  assertEquals([a, b].map(before), snapshot);
  await Deno.remove(root, { recursive: true });
});

Deno.test("migrate refuses to continue a partition directory with another split", async () => {
  const root = await Deno.makeTempDir();
  await writeExampleCache(`${root}/npz`, { samples: 12, dims: 8, minFrames: 4, maxFrames: 9 });
  const run = (index: number, count: number) =>
    migrate({
      npzDir: `${root}/npz`,
      processedDir: `${root}/part`,
      plugin: "ljspeech",
      preprocessing: { samples_per_hdf5: 3, num_save_workers: 1 },
      partition: { index, count },
    });
  assertEquals((await run(1, 2)).written, 6);
  assertEquals((await run(1, 2)).skipped, 6, "the same partition resumes");
  let error: unknown;
  try {
    await run(0, 2);
  } catch (e) {
    error = e;
  }
  assert(error instanceof ConfigError, String(error));
  assert(error.message.includes("1/2 (keys 6..12 of 12)"), error.message);
  await Deno.remove(root, { recursive: true });
});

Deno.test("preprocess --partition: 3 partitions of a WAV corpus merged equal a single run", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/corpus/wavs`, { recursive: true });
  for (let i = 0; i < 11; i++) {
    const tone = Float32Array.from(
      { length: 1600 + 160 * i },
      (_, j) => 0.4 * Math.sin(j / (3 + i)),
    );
    const name = `LJ001-${String(i + 1).padStart(4, "0")}`;
    await Deno.writeFile(`${root}/corpus/wavs/${name}.wav`, encodeWav(tone, 16000));
  }
  const run = (processedDir: string, partition?: { index: number; count: number }) =>
    preprocess({
      dataRoot: `${root}/corpus`,
      processedDir,
      plugin: "ljspeech",
      partition,
      preprocessing: { samples_per_hdf5: 2, num_audio_workers: 1, num_save_workers: 1 },
    });
  const parts = [0, 1, 2].map((i) => `${root}/part_${i}`);
  for (let i = 0; i < 3; i++) await run(parts[i], { index: i, count: 3 });
  await run(`${root}/single`);
  const meta = JSON.parse(Deno.readTextFileSync(`${parts[2]}/metadata.json`));
  assertEquals(meta.partition, { index: 2, count: 3, total: 11, start: 8, end: 11 });
  const report = await merge({ parts, processedDir: `${root}/merged` });
  assertEquals([report.totalSamples, report.shards], [11, 6]);
  assertSameCounts(`${root}/merged`, `${root}/single`);
  assertEquals(
    Deno.readTextFileSync(`${root}/merged/hdf5_index.json`),
    Deno.readTextFileSync(`${root}/single/hdf5_index.json`),
  );
  for (const f of shardFiles(`${root}/single`)) {
    assertEquals(
      Deno.readFileSync(`${root}/merged/${f}`),
      Deno.readFileSync(`${root}/single/${f}`),
    );
  }
  await Deno.remove(root, { recursive: true });
});
