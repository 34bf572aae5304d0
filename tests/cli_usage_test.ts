/**
 * The command line as a newcomer meets it: each command accepts and lists only its own options,
 * wrong values and unknown flags exit 2 with our own message naming the flag and the value,
 * and "did you mean" points at the nearest flag, command or dataset. In-process (fast).
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "./helpers/assert.ts";
import { main } from "../cli.ts";
import { errorLines } from "../cli/print_error.ts";
import { FormatError, SampleError } from "../errors.ts";
import { encodeNpz } from "../formats/npz.ts";
import { codecName } from "../formats/zlib_codec.ts";
import { pack } from "../ops/pack.ts";

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = await Deno.makeTempDir();
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd });
  await Deno.remove(cwd, { recursive: true });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

Deno.test("wrong values exit 2 naming the flag and the value", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--samples-per-hdf5", "abc"], /--samples-per-hdf5: expected an integer >= 1, got "abc"/],
    [["--use-float16", "no"], /--use-float16: expected true or false, got "no"/],
    [["--compression-level", "12"], /--compression-level: expected an integer from 0 to 9/],
    [["--float16-overflow", "drop"], /got "drop"/],
  ];
  for (const [extra, message] of cases) {
    await t.step(extra.join(" "), async () => {
      const r = await run("migrate", "a", "b", "--dataset", "ljspeech", ...extra);
      assertEquals(r.code, 2, r.stderr);
      assertMatch(r.stderr, message);
      assertMatch(r.stderr, /Run 'h5shard migrate --help'/);
    });
  }
  const dataset = await run("migrate", "a", "b", "--dataset", "ljspech");
  assertEquals(dataset.code, 2);
  assertMatch(dataset.stderr, /--dataset: expected a dataset plugin: .*got "ljspech"/);
  assertMatch(dataset.stderr, /did you mean ljspeech\?/);
  const samples = await run("demo", "--samples", "many");
  assertEquals(samples.code, 2);
  assertMatch(samples.stderr, /--samples: expected an integer 1\.\.5000, got "many"/);
});

Deno.test("unknown flags and commands exit 2 with our own message and a suggestion", async () => {
  const typo = await run("migrate", "a", "b", "--datset", "ljspeech");
  assertEquals(typo.code, 2);
  assertMatch(
    typo.stderr,
    /^error: unknown option --datset for migrate \(did you mean --dataset\?\)/,
  );
  assert(!typo.stderr.includes("'--'"), "not Node's parser text");
  const key = await run("migrate", "a", "b", "--dataset", "ljspeech", "--samples-per-hdf", "3");
  assertMatch(key.stderr, /did you mean --samples-per-hdf5\?/);
  const command = await run("migrat", "a", "b");
  assertEquals(command.code, 2);
  assertMatch(command.stderr, /unknown command "migrat" \(did you mean migrate\?\)/);
  const none = await run("migrate", "a", "b", "--dataset", "ljspeech", "--zzzzzzzz", "1");
  assertMatch(none.stderr, /unknown option --zzzzzzzz for migrate\n/);
  const noValue = await run("migrate", "a", "b", "--dataset");
  assertEquals(noValue.code, 2);
  assertMatch(noValue.stderr, /--dataset needs a value/);
  const twice = await run("migrate", "a", "b", "--dataset", "ljspeech", "--dataset", "libritts");
  assertMatch(twice.stderr, /--dataset is given more than once/);
  const args = await run("migrate", "a");
  assertMatch(args.stderr, /expected <npz_dir> <processed_dir>, got 1 argument\(s\): "a"/);
});

Deno.test("each command lists and accepts only the settings it uses", async () => {
  const migrate = await run("migrate", "--help");
  assertEquals(migrate.code, 0);
  assertMatch(migrate.stdout, /--samples-per-hdf5 VALUE/);
  assertMatch(migrate.stdout, /--compression-level VALUE/);
  assertMatch(migrate.stdout, /--prefetch-size VALUE/);
  for (const unused of ["--mel-sample-rate", "--num-audio-workers", "--max-open-files"]) {
    assert(!migrate.stdout.includes(unused), `migrate --help lists ${unused}`);
  }
  const mel = await run("migrate", "a", "b", "--dataset", "ljspeech", "--mel-sample-rate", "16000");
  assertEquals(mel.code, 2);
  assertMatch(mel.stderr, /unknown option --mel-sample-rate for migrate/);
  const plugins = await run("plugins", "--help");
  assert(!plugins.stdout.includes("--config"), "plugins reads no config");
  const json = await run("plugins", "--json");
  assertEquals(json.code, 2);
  assertMatch(
    json.stderr,
    /unknown option --json for plugins \(it is an option of inspect, verify, ls\)/,
  );
});

Deno.test("--version prints ours and the runtime's", async () => {
  const r = await run("--version");
  assertEquals(r.code, 0);
  const version = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
    .version;
  assertStrictEquals(r.stdout.split("\n")[0], `h5shard ${version}`);
  assertMatch(r.stdout, new RegExp(`deno ${Deno.version.deno.replaceAll(".", "\\.")} \\(v8 `));
  assertStrictEquals(r.stdout.split("\n")[2], `zlib codec ${codecName()}`);
});

Deno.test("inspect names the zlib codec, in text and in --json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const x = { dtype: "float32" as const, shape: [4, 2], data: new Float32Array(8).fill(1) };
    await pack(ReadableStream.from([{ key: "a", tensors: { x } }]), dir, {
      preprocessing: { num_save_workers: 1 },
    });
    const text = await run("inspect", dir);
    assertEquals(text.code, 0, text.stderr);
    assertStrictEquals(
      text.stdout.split("\n").at(-1),
      `  zlib codec ${codecName()} (this process)`,
    );
    const json = await run("inspect", dir, "--json");
    assertEquals(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assertEquals([report.zlibCodec, report.totalSamples], [codecName(), 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the error printer says each fact once", () => {
  const file = "LJ001-0001.npz";
  const inner = new FormatError(file, "not a zip file");
  const outer = new SampleError("LJ001-0001", inner.message, file, undefined, { cause: inner });
  const lines = errorLines(outer);
  assertEquals(lines.length, 1, lines.join("\n"));
  assertStrictEquals(lines[0].split(file).length - 1, 1, lines[0]);
  const io = new Error("open failed", { cause: new Deno.errors.NotFound("no such file") });
  assertEquals(errorLines(io), ["error: open failed", "  caused by: NotFound: no such file"]);
});

Deno.test("the default config file is looked up in the given working directory", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(`${cwd}/preprocess_config.json`, '{"preprocessing": {"shuffle": 3}}');
  const err: string[] = [];
  const code = await main(["migrate", `${cwd}/none`, `${cwd}/out`, "--dataset", "ljspeech"], {
    out: () => {},
    err: (l) => err.push(l),
    cwd,
  });
  assertEquals(code, 1);
  assertMatch(err.join("\n"), /preprocess_config\.json: preprocessing\.shuffle: expected true/);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("migrate counts the work first: its progress shows total, percent and ETA", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/npz`);
    for (const key of ["LJ001-0001", "LJ001-0002", "LJ001-0003"]) {
      const x = { dtype: "float32" as const, shape: [4, 8], data: new Float32Array(32) };
      await Deno.writeFile(`${dir}/npz/${key}.npz`, encodeNpz({ x }, { compress: false }));
    }
    let drawn = "";
    const code = await main(
      ["migrate", `${dir}/npz`, `${dir}/h5`, "--dataset", "ljspeech", "--num-save-workers", "1"],
      {
        out: () => {},
        err: () => {},
        cwd: dir,
        progress: { write: (t) => drawn += t, interactive: false },
      },
    );
    assertEquals(code, 0);
    assertMatch(drawn, /migrate {2}\[#+\] 3\/3 samples {2}100% {2}[\d.]+\/s {2}ETA \d+:\d\d/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
