import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";
import { compareWithNpz, makeLibriTtsNpz, makeLjspeechNpz } from "./helpers/legacy_cache.ts";
import { type CacheDigest, h5pyCacheDigest, tensorDigest } from "./helpers/cache_digest.ts";
import { buildH5pyCache, standardSamples } from "./helpers/h5py_cache.ts";
import { isFloat } from "../formats/dtype.ts";
import { runCli } from "./helpers/run_cli.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");
/** Runs the real CLI in a subprocess, in `cwd` (a temp dir, so no config file is picked up). */
const h5shard = (args: string[], cwd?: string) => runCli(args, { cwd });

/** `h5shard migrate <root>/npz <root>/h5 --dataset <dataset> ...extra`. */
function migrateIn(root: string, dataset: string, ...extra: string[]) {
  return h5shard(["migrate", `${root}/npz`, `${root}/h5`, "--dataset", dataset, ...extra]);
}

function allOk(result: Record<string, Record<string, string>>): string[] {
  const bad: string[] = [];
  for (const [key, datasets] of Object.entries(result)) {
    for (const [name, verdict] of Object.entries(datasets)) {
      if (verdict !== "ok") bad.push(`${key}/${name}: ${verdict}`);
    }
  }
  return bad;
}

Deno.test("h5shard --help lists every command, and each command's --help has examples", async () => {
  const top = await h5shard(["--help"]);
  assertEquals(top.code, 0);
  for (const cmd of ["demo", "migrate", "inspect", "verify", "get", "reshard", "plugins"]) {
    assertMatch(top.stdout, new RegExp(`\\n  ${cmd} `));
    const help = await h5shard([cmd, "--help"]);
    assertEquals(help.code, 0, `${cmd} --help`);
    assertMatch(help.stdout, /Usage: h5shard /);
    assertMatch(help.stdout, /Examples:\n {2}h5shard /);
    // The zip-bomb cap is migrate's alone.
    assertEquals(help.stdout.includes("--max-sample-bytes"), cmd === "migrate", `${cmd} --help`);
  }
  const migrate = await h5shard(["migrate", "--help"]);
  assertMatch(migrate.stdout, /--samples-per-hdf5 VALUE/);
  assertMatch(migrate.stdout, /--use-float16 VALUE/);
});

Deno.test("h5shard exits 2 on a wrong command line and prints --version, as a process", async () => {
  const bad = await h5shard(["migrate", "a", "b", "--dataset", "ljspeech", "--datset", "x"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /unknown option --datset for migrate \(did you mean --dataset\?\)/);
  const version = await h5shard(["--version"]);
  assertEquals(version.code, 0);
  assertMatch(version.stdout, /^h5shard \d+\.\d+\.\d+\ndeno \d/);
});

Deno.test({
  name:
    "h5shard migrate converts an LJSpeech NPZ cache (savez, compressed, Fortran, f64, i64, T=1, big-endian, bool) and logs the truncated file",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await makeLjspeechNpz(py, `${root}/npz`);
    const run = await migrateIn(root, "ljspeech", "--samples-per-hdf5", "3");
    assertEquals(run.code, 1, run.stderr);
    assertMatch(run.stderr, /LJ001-0007\.npz/);
    const log = JSON.parse(await Deno.readTextFile(`${root}/h5/error_log.json`));
    assertEquals(log.errors.map((f: { sample_key: string }) => f.sample_key), ["LJ001-0007"]);
    assertMatch(await Deno.readTextFile(`${root}/h5/error_files.txt`), /LJ001-0007\.npz\n$/);
    const result = await compareWithNpz(py, `${root}/h5`, `${root}/npz`);
    assertEquals(Object.keys(result), [1, 2, 3, 4, 5, 6, 8].map((i) => `LJ001-000${i}`));
    assertEquals(allOk(result), []);
    const index = JSON.parse(await Deno.readTextFile(`${root}/h5/hdf5_index.json`));
    assertEquals([index.current_file_idx, index.current_file_count], [3, 1]);
    // Re-running resumes: nothing new, the truncated file fails again, nothing duplicated.
    const again = await migrateIn(root, "ljspeech", "--samples-per-hdf5", "3");
    assertEquals(again.code, 1);
    assertMatch(again.stdout, /stored 0 samples \(7 already there, 1 failed\)/);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "h5shard migrate converts a nested LibriTTS NPZ cache, float32 mode, non-ASCII keys",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await makeLibriTtsNpz(py, `${root}/npz`);
    const run = await migrateIn(root, "libritts", "--use-float16", "false");
    assertEquals(run.code, 0, run.stderr);
    const result = await compareWithNpz(py, `${root}/h5`, `${root}/npz`, false);
    assertEquals(Object.keys(result).length, 5);
    assert(Object.keys(result).includes("test-other/ü/日本/ü_日本_000001"));
    assertEquals(allOk(result), []);
    const index = JSON.parse(await Deno.readTextFile(`${root}/h5/hdf5_index.json`));
    assertEquals(index.use_float16, false);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "h5shard get writes a frame range as .npy, verify passes, reshard rewrites into new shards",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await makeLibriTtsNpz(py, `${root}/npz`);
    assertEquals((await migrateIn(root, "libritts")).code, 0);
    const key = "train-clean-100/19/198/19_198_000000_000003";
    const get = await h5shard([
      "get",
      `${root}/h5`,
      key,
      "mel_spectrogram",
      "--frames",
      "2:7",
      "--out",
      `${root}/mel.npy`,
    ]);
    assertEquals(get.code, 0, get.stderr);
    const same = await runPython(
      py,
      `import numpy as np, sys
a = np.load(sys.argv[1])
want = np.load(sys.argv[2])["mel_spectrogram"].astype(np.float16)[:, 2:7]
print(a.dtype, a.shape, a.tobytes() == want.tobytes())`,
      [`${root}/mel.npy`, `${root}/npz/${key}.npz`],
    );
    assertEquals(same.trim(), "float16 (1, 5, 8) True");
    // Python slices, clamped as h5py does; a wrong dataset name lists the ones there are.
    for (const [frames, slice] of [["-3:", "-3:"], [":4", ":4"], ["2:999", "2:999"]]) {
      const out = `${root}/slice.npy`;
      const got = await h5shard([
        "get",
        `${root}/h5`,
        key,
        "mel_spectrogram",
        `--frames=${frames}`,
        "-o",
        out,
      ]);
      assertEquals(got.code, 0, got.stderr);
      const check = await runPython(
        py,
        `import numpy as np, sys
a = np.load(sys.argv[1])
want = np.load(sys.argv[2])["mel_spectrogram"].astype(np.float16)[:, ${slice}]
print(a.shape == want.shape and a.tobytes() == want.tobytes())`,
        [out, `${root}/npz/${key}.npz`],
      );
      assertEquals(check.trim(), "True", frames);
    }
    const wrong = await h5shard(["get", `${root}/h5`, key, "mel_spectrogam"]);
    assertEquals(wrong.code, 1);
    assertMatch(wrong.stderr, /no dataset "mel_spectrogam".*"hidden_states", "mel_spectrogram"/);

    // --against without --dataset: the plugin metadata.json records (libritts), not ljspeech.
    const verify = await h5shard(["verify", `${root}/h5`, "--against", `${root}/npz`]);
    assertEquals(verify.code, 0, verify.stderr + verify.stdout);
    assertMatch(verify.stdout, /5 samples.*OK/);

    const reshard = await h5shard([
      "reshard",
      `${root}/h5`,
      `${root}/h5b`,
      "--samples-per-hdf5",
      "2",
    ]);
    assertEquals(reshard.code, 0, reshard.stderr);
    const index = JSON.parse(await Deno.readTextFile(`${root}/h5b/hdf5_index.json`));
    assertEquals([index.current_file_idx, index.current_file_count], [3, 1]);
    assertEquals(allOk(await compareWithNpz(py, `${root}/h5b`, `${root}/npz`)), []);
    const same2 = await h5shard(["reshard", `${root}/h5`, `${root}/h5`]);
    assertEquals(same2.code, 2);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "h5shard verify --against fails when the source lacks samples, has none, or is an HDF5 cache",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await makeLibriTtsNpz(py, `${root}/npz`);
    assertEquals((await migrateIn(root, "libritts")).code, 0);
    const ok = await h5shard(["verify", `${root}/h5`, "--against", `${root}/npz`]);
    assertEquals(ok.code, 0, ok.stderr + ok.stdout);
    assertMatch(ok.stdout, /5 compared with the source: OK/);
    const json = await h5shard(["verify", `${root}/h5`, "--against", `${root}/npz`, "--json"]);
    assertEquals(JSON.parse(json.stdout).compared, 5);

    await Deno.mkdir(`${root}/empty`);
    const empty = await h5shard(["verify", `${root}/h5`, "--against", `${root}/empty`]);
    assertEquals(empty.code, 1, empty.stdout);
    assertMatch(empty.stderr, /empty: no \.npz files found by the "libritts" plugin/);
    const h5 = await h5shard(["verify", `${root}/h5`, "--against", `${root}/h5`]);
    assertEquals(h5.code, 1, h5.stdout);
    assertMatch(h5.stderr, /hdf5_index\.json: it looks like an HDF5 cache/);

    const key = "train-clean-100/19/198/19_198_000000_000003";
    await Deno.remove(`${root}/npz/${key}.npz`);
    const missing = await h5shard(["verify", `${root}/h5`, "--against", `${root}/npz`, "--json"]);
    assertEquals(missing.code, 1, missing.stderr);
    const report = JSON.parse(missing.stdout);
    assertEquals(
      report.problems.map((p: { kind: string; key: string }) => [p.kind, p.key]),
      [["missing_in_source", key]],
    );
    assertEquals(report.compared, 4);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "h5shard reshard turns an h5py-written float32 cache into float16 shards that h5py reads, source untouched",
  ignore,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    const src = await buildH5pyCache(py, `${root}/src`, standardSamples(), {
      samplesPerFile: 3,
      useFloat16: false,
      dump: true,
    });
    const before = await h5pyCacheDigest(py, src.dir);
    const run = await h5shard(["reshard", src.dir, `${root}/dst`, "--samples-per-hdf5", "2"]);
    assertEquals(run.code, 0, run.stderr);
    // What h5py reads from the new cache is the h5py-written values cast to float16.
    const want: CacheDigest = {};
    for (const [key, datasets] of src.expected) {
      want[key] = {};
      for (const [name, { stored }] of Object.entries(datasets)) {
        const cast = isFloat(stored.dtype) && stored.dtype !== "float16"
          ? {
            dtype: "float16" as const,
            shape: stored.shape,
            data: new Float16Array(stored.data as Float32Array),
          }
          : stored;
        want[key][name] = await tensorDigest(cast);
      }
    }
    assertEquals(await h5pyCacheDigest(py, `${root}/dst`), want);
    const index = JSON.parse(await Deno.readTextFile(`${root}/dst/hdf5_index.json`));
    assertEquals([index.current_file_idx, index.current_file_count, index.use_float16], [
      3,
      1,
      true,
    ]);
    assertEquals(await h5pyCacheDigest(py, src.dir), before);
    await Deno.remove(root, { recursive: true });
  },
});
