/**
 * Hostile input on the write side: nothing already stored is overwritten, nothing is written
 * into a source, keys HDF5 cannot hold are refused by name, a resumed cache keeps its chunk
 * settings and counts totals, a killed run's leftovers are cleaned, disk errors name the file,
 * and an NPZ tree's broken links and zip bombs become named failures.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { pack } from "../ops/pack.ts";
import { migrate, type MigratePlan } from "../ops/migrate.ts";
import { reindex } from "../ops/reindex.ts";
import { decodeNpz, encodeNpz } from "../formats/npz.ts";
import { writeZip } from "../formats/zip_writer.ts";
import { CacheError, ConfigError, FormatError } from "../errors.ts";
import type { Sample } from "../stages/record.ts";
import { DeflateStream } from "../stages/deflate_stream.ts";
import { ShardSink } from "../stages/shard_sink.ts";
import type { Tensor } from "../formats/tensor.ts";
import { runCli } from "./helpers/run_cli.ts";

function tensors(seed: number): Record<string, Tensor> {
  const T = 3 + seed % 5;
  return {
    hidden_states: {
      dtype: "float32",
      shape: [T, 8],
      data: new Float32Array(T * 8).map((_, i) => Math.sin(seed + i)),
    },
  };
}

const sample = (key: string, seed = 1): Sample => ({ key, tensors: tensors(seed) });

const quick = { samples_per_hdf5: 2, num_save_workers: 1 };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `<dir>/<key>.npz` for each key. */
async function npzCache(dir: string, keys: string[]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [i, key] of keys.entries()) {
    await Deno.writeFile(`${dir}/${key}.npz`, encodeNpz(tensors(i), { compress: i % 2 === 0 }));
  }
}

/** The error `fn` rejects with, checked to be a `cls`. */
async function rejection<E extends Error>(
  fn: () => Promise<unknown>,
  cls: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${e}`);
    return e;
  }
  throw new Error(`expected ${cls.name}, nothing was thrown`);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("a processed_dir holding shards but no index is refused, naming them, untouched", async () => {
  await withDir(async (dir) => {
    await pack(ReadableStream.from([sample("a"), sample("b"), sample("c")]), `${dir}/h5`, {
      preprocessing: quick,
    });
    await Deno.remove(`${dir}/h5/hdf5_index.json`);
    const before = await Deno.readFile(`${dir}/h5/features_00001.h5`);
    await npzCache(`${dir}/npz`, ["d"]);
    const error = await rejection(
      () => migrate({ npzDir: `${dir}/npz`, processedDir: `${dir}/h5`, plugin: "ljspeech" }),
      CacheError,
    );
    assertMatch(error.message, /features_00001\.h5, features_00002\.h5 but no hdf5_index\.json/);
    assertMatch(error.message, /h5shard reindex/);
    assertEquals(await Deno.readFile(`${dir}/h5/features_00001.h5`), before);
  });
});

Deno.test("reindex rebuilds a lost index byte for byte, and never replaces one", async () => {
  await withDir(async (dir) => {
    const keys = ["a", "b", "c", "train/1/2/x"];
    await pack(ReadableStream.from(keys.map((k, i) => sample(k, i))), dir, {
      preprocessing: quick,
    });
    const original = await Deno.readTextFile(`${dir}/hdf5_index.json`);
    const refused = await rejection(() => reindex(dir, { samplesPerFile: 2 }), CacheError);
    assertMatch(refused.message, /already has hdf5_index\.json/);
    await Deno.remove(`${dir}/hdf5_index.json`);
    const wrong = await rejection(() => reindex(dir, { samplesPerFile: 3 }), CacheError);
    assertMatch(wrong.message, /features_00001\.h5 holds 2 samples, but samples_per_hdf5 is 3/);
    const report = await reindex(dir, { samplesPerFile: 2 });
    assertEquals(report, { shards: 2, samples: 4, useFloat16: true });
    assertEquals(await Deno.readTextFile(`${dir}/hdf5_index.json`), original);
    // the cache resumes from the rebuilt index
    const more = await pack(ReadableStream.from([sample("d", 9)]), dir, { preprocessing: quick });
    assertEquals([more.written, more.totalSamples, more.shards], [1, 5, 3]);
    await Deno.rename(`${dir}/features_00002.h5`, `${dir}/features_00009.h5`);
    await Deno.remove(`${dir}/hdf5_index.json`);
    const gap = await rejection(() => reindex(dir, { samplesPerFile: 2 }), CacheError);
    assertMatch(gap.message, /features_00002\.h5 is missing/);
    // a damaged shard is named, and no index is written from what could be read
    await Deno.rename(`${dir}/features_00009.h5`, `${dir}/features_00002.h5`);
    await Deno.truncate(`${dir}/features_00001.h5`, 1000);
    const damaged = await rejection(() => reindex(dir, { samplesPerFile: 2 }), FormatError);
    assertMatch(damaged.message, /features_00001\.h5/);
    assertEquals(listing(dir).includes("hdf5_index.json"), false);
  });
});

Deno.test("reindex takes samples_per_hdf5 and use_float16 from metadata.json when not given", async () => {
  await withDir(async (dir) => {
    const keys = ["a", "b", "c", "d", "e"];
    await pack(ReadableStream.from(keys.map((k, i) => sample(k, i))), dir, {
      preprocessing: { ...quick, use_float16: false },
    });
    const original = await Deno.readTextFile(`${dir}/hdf5_index.json`);
    await Deno.remove(`${dir}/hdf5_index.json`);
    const report = await reindex(dir);
    assertEquals(report, { shards: 3, samples: 5, useFloat16: false });
    assertEquals(await Deno.readTextFile(`${dir}/hdf5_index.json`), original);

    // Through the CLI, with no flag: metadata.json's 2, not the default 20000.
    await Deno.remove(`${dir}/hdf5_index.json`);
    const cli = await runCli(["reindex", dir]);
    assertEquals(cli.code, 0, cli.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/hdf5_index.json`), original);

    // Without metadata.json the default does not fit: the error names the flag to give.
    await Deno.remove(`${dir}/hdf5_index.json`);
    await Deno.remove(`${dir}/metadata.json`);
    const bare = await runCli(["reindex", dir]);
    assertEquals(bare.code, 1, bare.stdout);
    assertMatch(
      bare.stderr,
      /samples_per_hdf5 is 20000 \(the default; metadata\.json records none\)/,
    );
    assertMatch(bare.stderr, /--samples-per-hdf5/);
    const flagged = await runCli(["reindex", dir, "--samples-per-hdf5", "2"]);
    assertEquals(flagged.code, 0, flagged.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`)).samples_per_file, 2);
  });
});

Deno.test("reindex keeps metadata.json's use_float16 when no array is floating, and refuses a bad samples_per_hdf5 there", async () => {
  await withDir(async (dir) => {
    const ints = (key: string): Sample => ({
      key,
      tensors: { ids: { dtype: "int32", shape: [3], data: new Int32Array([1, 2, 3]) } },
    });
    await pack(ReadableStream.from([ints("a"), ints("b"), ints("c")]), dir, {
      preprocessing: { ...quick, use_float16: false },
    });
    const original = await Deno.readTextFile(`${dir}/hdf5_index.json`);
    await Deno.remove(`${dir}/hdf5_index.json`);
    assertEquals(await reindex(dir), { shards: 2, samples: 3, useFloat16: false });
    assertEquals(await Deno.readTextFile(`${dir}/hdf5_index.json`), original);

    await Deno.remove(`${dir}/hdf5_index.json`);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
    await Deno.writeTextFile(
      `${dir}/metadata.json`,
      JSON.stringify({ ...meta, samples_per_hdf5: "2" }),
    );
    const bad = await rejection(() => reindex(dir), CacheError);
    assertMatch(bad.message, /metadata\.json records samples_per_hdf5 "2", not a positive integer/);
    assertMatch(bad.message, /--samples-per-hdf5/);
    // A value given wins over metadata.json.
    assertEquals((await reindex(dir, { samplesPerFile: 2 })).samples, 3);
  });
});

Deno.test("a killed run's temporaries and signature-less shards are removed at start", async () => {
  await withDir(async (dir) => {
    const warnings: string[] = [];
    await pack(ReadableStream.from([sample("a")]), dir, { preprocessing: quick });
    await Deno.writeTextFile(`${dir}/.hdf5_index.json.tmp-999999`, "{half");
    await Deno.writeFile(`${dir}/features_00002.h5`, new Uint8Array(96)); // no signature
    await pack(ReadableStream.from([sample("b")]), dir, {
      preprocessing: quick,
      onWarning: (m) => warnings.push(m),
    });
    assert(!listing(dir).some((n) => n.includes(".tmp-")), listing(dir).join());
    assertEquals(
      warnings.filter((w) => /features_00002\.h5: a shard with no HDF5 signature/.test(w)).length,
      1,
    );
    // nothing indexed was lost: a and b are both in shard 1
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    assertEquals(Object.keys(index.sample_index).sort(), ["a", "b"]);
    // a shard is never on disk without an index: the index is written before the first shard
    await withDir(async (fresh) => {
      const encoded = await Array.fromAsync(
        ReadableStream.from([sample("x")]).pipeThrough(new DeflateStream({ workers: 0 })),
      );
      const writer = new ShardSink(fresh).getWriter();
      await writer.write(encoded[0]);
      assertEquals(listing(fresh), [
        ".h5shard.lock",
        "features_00001.h5",
        "hdf5_index.json",
        "metadata.json",
      ]);
      await writer.close();
    });
  });
});

Deno.test("keys HDF5 cannot hold are refused at the door, naming the key and why", async () => {
  await withDir(async (dir) => {
    const bad: [string, RegExp][] = [
      ["", /datasets at the file root/],
      ["/lead", /leading "\/"/],
      ["a//b", /empty path component/],
      ["a/", /trailing "\/"/],
      ["a/../b", /"\.\." path component/],
      [".", /"\." path component/],
      ["nul\0", /NUL/],
    ];
    const nested: Sample = { key: "ok2", tensors: { "a/b": tensors(2).hidden_states } };
    const report = await pack(
      ReadableStream.from([sample("ok"), ...bad.map(([k]) => sample(k)), nested]),
      dir,
      { preprocessing: quick },
    );
    assertEquals(report.written, 1);
    assertEquals(report.failures.map((f) => f.key), [...bad.map(([k]) => k), "ok2"]);
    for (const [i, [key, why]] of bad.entries()) {
      assert(report.failures[i].error.includes(JSON.stringify(key)), report.failures[i].error);
      assertMatch(report.failures[i].error, why);
    }
    assertMatch(
      report.failures.at(-1)!.error,
      /dataset name "a\/b": a "\/" would create a nested group/,
    );
    const listed = (await Deno.readTextFile(`${dir}/error_files.txt`)).split("\n");
    assertEquals(listed.length, bad.length + 2, "one line per failure, then the final newline");
    assertMatch(await Deno.readTextFile(`${dir}/error_log.json`), /a\/\/b/);
  });
  // An NPZ member name that would nest is refused by the decoder, naming the member.
  const zip = writeZip([{ name: "a/b.npy", parts: [encodeNpz({}, { compress: false })] }], {
    compress: false,
  });
  const error = thrown(() => decodeNpz(zip, "x.npz"));
  assert(error instanceof FormatError, String(error));
  assertMatch(error.message, /x\.npz: member "a\/b\.npy": a "\/" would create a nested group/);
});

Deno.test("resume refuses other chunk settings; metadata.json counts are totals", async () => {
  await withDir(async (dir) => {
    const first = await pack(ReadableStream.from([sample("a"), sample("b")]), dir, {
      preprocessing: quick,
    });
    assertEquals(first.written, 2);
    for (
      const [key, value] of [
        ["compression_level", 6],
        ["shuffle", true],
        ["chunk_bytes", 4096],
      ] as const
    ) {
      const error = await rejection(
        () =>
          pack(ReadableStream.from([sample("c")]), dir, {
            preprocessing: { ...quick, [key]: value },
          }),
        ConfigError,
      );
      assertEquals(error.path, `preprocessing.${key}`);
      assertMatch(error.message, /metadata\.json records/);
    }
    await pack(ReadableStream.from([sample("a"), sample("c")]), dir, { preprocessing: quick });
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
    assertEquals(
      [meta.total_samples, meta.processed_samples, meta.skipped_samples, meta.runs],
      [3, 3, 1, 2],
    );
    assertEquals(meta.compression_level, 4);
  });
});

Deno.test("a disk error stops the run and names the file (EFBIG under ulimit -f)", async () => {
  await withDir(async (dir) => {
    await npzCache(`${dir}/npz`, Array.from({ length: 40 }, (_, i) => `k${100 + i}`));
    const cli = new URL("../cli.ts", import.meta.url).pathname;
    // SIGXFSZ ignored (inherited through exec): writing past the limit fails with EFBIG.
    const script =
      `trap '' XFSZ; ulimit -f 8; exec "$0" run -A "${cli}" migrate "${dir}/npz" "${dir}/h5" ` +
      "--dataset ljspeech --samples-per-hdf5 5 --compression-level 0";
    const out = await new Deno.Command("bash", {
      args: ["-c", script, Deno.execPath()],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assertMatch(stderr, /cannot write (features_\d{5}\.h5|hdf5_index\.json|metadata\.json): /);
    assertMatch(stderr, /File too large|EFBIG|os error 27/);
  });
});

Deno.test("migrate: broken symlinks and loops go to error_log.json; a zip bomb is refused", async () => {
  await withDir(async (dir) => {
    await npzCache(`${dir}/npz`, ["a", "b"]);
    await Deno.symlink(`${dir}/npz/missing.npz`, `${dir}/npz/broken.npz`);
    await Deno.symlink(`${dir}/npz`, `${dir}/npz/loop`);
    // 16 MiB of zeros deflate to ~16 KB; the cap is what stops it, before inflating
    await Deno.writeFile(
      `${dir}/npz/bomb.npz`,
      encodeNpz({
        x: { dtype: "uint8", shape: [16 << 20], data: new Uint8Array(16 << 20) },
      }, { compress: true }),
    );
    const error = thrown(() =>
      decodeNpz(Deno.readFileSync(`${dir}/npz/bomb.npz`), "bomb.npz", { maxBytes: 1 << 20 })
    );
    assertMatch(error.message, /bomb\.npz: its arrays would decode to 1677\d+ bytes/);
    let plan: MigratePlan | undefined;
    const report = await migrate({
      npzDir: `${dir}/npz`,
      processedDir: `${dir}/h5`,
      plugin: "ljspeech",
      preprocessing: quick,
      onPlan: (p) => plan = p,
    });
    assertEquals(plan, { found: 5, skipped: 0, total: 5 });
    assertEquals(report.written, 3, "a, b and the (uncapped by default) bomb's 16 MiB");
    assertEquals(report.failures.map((f) => f.key).sort(), ["broken", "loop"]);
    const log = JSON.parse(await Deno.readTextFile(`${dir}/h5/error_log.json`));
    assertMatch(JSON.stringify(log), /broken symlink/);
    assertMatch(JSON.stringify(log), /symlink loop/);
  });
});

Deno.test("migrate --max-sample-bytes: a sample over the cap is a named failure, the rest are stored", async () => {
  await withDir(async (dir) => {
    await npzCache(`${dir}/npz`, ["a", "b"]);
    await Deno.writeFile(
      `${dir}/npz/bomb.npz`,
      encodeNpz({ x: { dtype: "uint8", shape: [2 << 20], data: new Uint8Array(2 << 20) } }, {
        compress: true,
      }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "migrate",
        `${dir}/npz`,
        `${dir}/h5`,
        "--dataset",
        "ljspeech",
        "--max-sample-bytes",
        String(1 << 20),
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assertMatch(stderr, /1 sample\(s\) failed/);
    const index = JSON.parse(await Deno.readTextFile(`${dir}/h5/hdf5_index.json`));
    assertEquals(Object.keys(index.sample_index).sort(), ["a", "b"]);
    const log = JSON.parse(await Deno.readTextFile(`${dir}/h5/error_log.json`));
    assertEquals(log.errors.length, 1, JSON.stringify(log));
    const [entry] = log.errors;
    assertEquals(entry.sample_key, "bomb");
    assertEquals(entry.file_path, `${dir}/npz/bomb.npz`);
    assertMatch(entry.error_message, /decode to 2097\d+ bytes, more than the cap of 1048576 bytes/);
    assertMatch(entry.error_message, /preprocessing\.max_sample_bytes, --max-sample-bytes N/);
  });
});

Deno.test("migrate: a source with nothing to migrate, or swapped dirs, is an error; the source is untouched", async () => {
  await withDir(async (dir) => {
    await npzCache(`${dir}/npz`, ["a", "b"]);
    await migrate({ npzDir: `${dir}/npz`, processedDir: `${dir}/h5`, plugin: "ljspeech" });
    const npzBefore = listing(`${dir}/npz`);
    const h5Before = listing(`${dir}/h5`);
    // swapped: the HDF5 cache as the source
    const swapped = await rejection(
      () => migrate({ npzDir: `${dir}/h5`, processedDir: `${dir}/npz`, plugin: "ljspeech" }),
      CacheError,
    );
    assertMatch(swapped.message, /holds 2 \.npz file\(s\).*migrate <npz_dir> <processed_dir>/);
    // a folder of wavs: nothing to migrate, named
    await Deno.mkdir(`${dir}/wavs`);
    await Deno.writeFile(`${dir}/wavs/x.wav`, new Uint8Array(44));
    const empty = await rejection(
      () => migrate({ npzDir: `${dir}/wavs`, processedDir: `${dir}/out`, plugin: "ljspeech" }),
      CacheError,
    );
    assertMatch(
      empty.message,
      /wavs: no \.npz files found \(the ljspeech plugin looks for <key>\.npz/,
    );
    const hdf5 = await rejection(
      () => migrate({ npzDir: `${dir}/h5`, processedDir: `${dir}/out`, plugin: "ljspeech" }),
      CacheError,
    );
    assertMatch(hdf5.message, /it looks like an HDF5 cache/);
    // into the source, or below it
    for (const target of [`${dir}/npz`, `${dir}/npz/h5`]) {
      await assertRejects(
        () => migrate({ npzDir: `${dir}/npz`, processedDir: target, plugin: "ljspeech" }),
        CacheError,
        "migrate never writes into its source",
      );
    }
    assertEquals(listing(`${dir}/npz`), npzBefore);
    assertEquals(listing(`${dir}/h5`), h5Before);
    assert(!listing(dir).includes("out"), "no processed_dir was made");
  });
});

Deno.test("a symlink named like a future shard, index or temporary is refused by name; its target is untouched", async () => {
  await withDir(async (dir) => {
    const outside = `${dir}/outside.bin`;
    const original = new TextEncoder().encode("not yours to overwrite\n");
    await Deno.writeFile(outside, original);
    const keys = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => sample(`k${from + i}`, from + i));
    // A new directory: features_00002.h5 is where the third sample would go.
    for (const name of ["features_00002.h5", "hdf5_index.json", ".metadata.json.tmp-4242"]) {
      const fresh = `${dir}/fresh-${name}`;
      await Deno.mkdir(fresh);
      await Deno.symlink(outside, `${fresh}/${name}`);
      const e = await rejection(
        () => pack(ReadableStream.from(keys(0, 5)), fresh, { preprocessing: quick }),
        CacheError,
      );
      assertMatch(e.message, new RegExp(`${name.replaceAll(".", "\\.")} is a symbolic link`));
      assertEquals(await Deno.readFile(outside), original);
      assertEquals(listing(fresh), [name]);
    }
    // A resumed cache: the next shard of a cache with two full ones.
    const cache = `${dir}/cache`;
    await pack(ReadableStream.from(keys(0, 4)), cache, { preprocessing: quick });
    await Deno.symlink(outside, `${cache}/features_00003.h5`);
    const before = listing(cache);
    const index = await Deno.readFile(`${cache}/hdf5_index.json`);
    const e = await rejection(
      () => pack(ReadableStream.from(keys(4, 3)), cache, { preprocessing: quick }),
      CacheError,
    );
    assertMatch(e.message, /features_00003\.h5 is a symbolic link/);
    assertEquals(await Deno.readFile(outside), original);
    assertEquals(await Deno.readFile(`${cache}/hdf5_index.json`), index);
    assertEquals(listing(cache), before);
    // The CLI exits non-zero, naming it.
    await Deno.mkdir(`${dir}/npz`);
    await Deno.writeFile(`${dir}/npz/k9.npz`, encodeNpz(tensors(9), { compress: false }));
    const cli = await runCli([
      "migrate",
      `${dir}/npz`,
      cache,
      "--dataset",
      "ljspeech",
      "--samples-per-hdf5",
      "2",
    ]);
    assert(cli.code !== 0, cli.stdout);
    assertMatch(cli.stderr, /features_00003\.h5 is a symbolic link/);
    assertEquals(await Deno.readFile(outside), original);
  });
});

Deno.test("a shard that appears where a new one goes is never truncated", async () => {
  await withDir(async (dir) => {
    // A signed shard past the index's last one (not ours): the run stops before writing it.
    await pack(ReadableStream.from([sample("a"), sample("b"), sample("c")]), dir, {
      preprocessing: quick,
    });
    const stranger = await Deno.readFile(`${dir}/features_00001.h5`);
    await Deno.writeFile(`${dir}/features_00003.h5`, stranger);
    const e = await rejection(
      () =>
        pack(ReadableStream.from([sample("d"), sample("e"), sample("f")]), dir, {
          preprocessing: quick,
        }),
      CacheError,
    );
    assertMatch(e.message, /features_00003\.h5/);
    assertEquals(await Deno.readFile(`${dir}/features_00003.h5`), stranger);
  });
});

Deno.test("a killed run's next shard (checkpointed, not yet indexed) is replaced on resume", async () => {
  await withDir(async (dir) => {
    // What a kill between shard 2's first checkpoint and the index's leaves: a signed shard 2
    // holding keys the index does not name.
    await pack(ReadableStream.from([sample("a"), sample("b")]), `${dir}/c`, {
      preprocessing: quick,
    });
    await pack(ReadableStream.from([sample("x"), sample("y")]), `${dir}/o`, {
      preprocessing: quick,
    });
    Deno.copyFileSync(`${dir}/o/features_00001.h5`, `${dir}/c/features_00002.h5`);
    const warnings: string[] = [];
    const report = await pack(ReadableStream.from([sample("x"), sample("d")]), `${dir}/c`, {
      preprocessing: quick,
      onWarning: (w) => warnings.push(w),
    });
    assertEquals(report.written, 2);
    assert(warnings.some((w) => w.includes("features_00002.h5")), warnings.join("\n"));
    // The same with only an empty index: the first shard.
    Deno.mkdirSync(`${dir}/e`);
    Deno.writeTextFileSync(
      `${dir}/e/hdf5_index.json`,
      JSON.stringify({
        sample_index: {},
        current_file_idx: 1,
        current_file_count: 0,
        samples_per_file: 2,
        use_float16: true,
      }),
    );
    Deno.copyFileSync(`${dir}/o/features_00001.h5`, `${dir}/e/features_00001.h5`);
    const again = await pack(ReadableStream.from([sample("x"), sample("d")]), `${dir}/e`, {
      preprocessing: quick,
    });
    assertEquals(again.written, 2);
  });
});
