import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "./helpers/assert.ts";
import { type Config, defaultConfig, loadConfig, parseConfig } from "../config.ts";
import { applyOverrides, PREPROCESSING_FLAGS } from "../cli/flags.ts";
import { ConfigError, FormatError } from "../errors.ts";
import { MEL_DEFAULTS } from "../extractors/mel.ts";
import { NO_SEMANTIC_MODEL } from "../ops/preprocess.ts";
import { MEL } from "./helpers/audio_reference.ts";

const REPO_CONFIG = new URL("../preprocess_config.json", import.meta.url);

function parse(json: unknown): { config: Config; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseConfig(json, "cfg.json", (m) => warnings.push(m));
  return { config, warnings };
}

/** Asserts that `fn` throws a ConfigError at `path` whose message contains every part. */
function assertConfigError(fn: () => unknown, path: string, ...parts: string[]): void {
  assertThrows(fn, (error: unknown) => {
    assert(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assertStrictEquals(error.path, path);
    for (const part of parts) assert(error.message.includes(part), `${error.message} ∌ ${part}`);
    return true;
  });
}

Deno.test("defaultConfig has the contract's defaults and h5shard's additions", () => {
  const p = defaultConfig().preprocessing;
  assertEquals(
    [p.use_float16, p.samples_per_hdf5, p.num_save_workers, p.overwrite_existing],
    [true, 20000, 4, false],
  );
  assertEquals(
    [p.compression_level, p.shuffle, p.float16_overflow, p.chunk_bytes],
    [4, false, "warn", 16384],
  );
  assertEquals(
    [p.checkpoint_interval, p.checkpoint_seconds, p.max_open_files, p.max_sample_bytes],
    [1000, 60, 64, 2 ** 30],
  );
  // the mel extractor's defaults are these, and the original pipeline's
  assertEquals([MEL_DEFAULTS, p.mel_config], [MEL, MEL]);
  assertEquals(defaultConfig().datasets, {});
  // one semantic model default for the CLI (the schema) and the library (preprocess())
  assertStrictEquals(defaultConfig().semantic_model.model_name, NO_SEMANTIC_MODEL);
  // a fresh object each time
  defaultConfig().preprocessing.samples_per_hdf5 = 1;
  assertStrictEquals(defaultConfig().preprocessing.samples_per_hdf5, 20000);
});

Deno.test("parseConfig reads the repo's preprocess_config.json without warnings", async () => {
  const warnings: string[] = [];
  const config = await loadConfig(REPO_CONFIG.pathname, (m) => warnings.push(m));
  assertEquals(warnings, []);
  assertEquals(config.semantic_model, {
    model_name: "facebook/w2v-bert-2.0",
    output_layer: 17,
    execution_provider: "auto",
    batch_size: 0,
  });
  assertStrictEquals(config.preprocessing.mel_config.n_mel, 80);
  assertStrictEquals(config.preprocessing.retry_delay, 1);
  assertEquals(config.datasets.libritts, {
    data_root: "data/LibriTTS",
    processed_dir: "data/processed_maskgct/libritts",
  });
  // every key the file has, the defaults have too, with the same value
  const json = JSON.parse(await Deno.readTextFile(REPO_CONFIG));
  assertEquals(config.preprocessing, { ...defaultConfig().preprocessing, ...json.preprocessing });
});

Deno.test("parseConfig fills missing keys with defaults", () => {
  const { config } = parse({ preprocessing: { samples_per_hdf5: 7, mel_config: { n_mel: 40 } } });
  assertStrictEquals(config.preprocessing.samples_per_hdf5, 7);
  assertStrictEquals(config.preprocessing.mel_config.n_mel, 40);
  assertStrictEquals(config.preprocessing.mel_config.hop_size, 320);
  assertStrictEquals(config.preprocessing.compression_level, 4);
  assertEquals(parse({}).config, defaultConfig());
});

Deno.test("parseConfig errors name the file, the JSON path, the value and what is accepted", async (t) => {
  const cases: [unknown, string, string[]][] = [
    [{ preprocessing: { samples_per_hdf5: 0 } }, "preprocessing.samples_per_hdf5", [
      "an integer >= 1",
      "got 0",
    ]],
    [{ preprocessing: { samples_per_hdf5: 2.5 } }, "preprocessing.samples_per_hdf5", ["got 2.5"]],
    [{ preprocessing: { samples_per_hdf5: "100" } }, "preprocessing.samples_per_hdf5", [
      'got "100"',
    ]],
    [{ preprocessing: { compression_level: 10 } }, "preprocessing.compression_level", [
      "an integer from 0 to 9",
      "got 10",
    ]],
    [{ preprocessing: { use_float16: "yes" } }, "preprocessing.use_float16", [
      "true or false",
      'got "yes"',
    ]],
    [{ preprocessing: { float16_overflow: "ignore" } }, "preprocessing.float16_overflow", [
      'one of "warn", "error", "clamp"',
      'got "ignore"',
    ]],
    [{ preprocessing: { chunk_bytes: 512 } }, "preprocessing.chunk_bytes", [">= 1024", "got 512"]],
    [{ preprocessing: { checkpoint_seconds: 0 } }, "preprocessing.checkpoint_seconds", [
      "a number > 0",
      "got 0",
    ]],
    [{ preprocessing: { retry_delay: null } }, "preprocessing.retry_delay", ["got null"]],
    [{ preprocessing: { mel_config: { n_fft: -1 } } }, "preprocessing.mel_config.n_fft", [
      "got -1",
    ]],
    [{ preprocessing: { mel_config: [] } }, "preprocessing.mel_config", ["an object", "got []"]],
    [{ preprocessing: 3 }, "preprocessing", ["an object"]],
    [{ semantic_model: { output_layer: -1 } }, "semantic_model.output_layer", [">= 1"]],
    // layer 0 is the feature projection, not a hidden layer: the extractor refuses it too
    [{ semantic_model: { output_layer: 0 } }, "semantic_model.output_layer", [">= 1", "got 0"]],
    [{ semantic_model: { model_name: "" } }, "semantic_model.model_name", ["non-empty"]],
    [{ datasets: { lj: { data_root: "a" } } }, "datasets.lj.processed_dir", ["got undefined"]],
    [{ datasets: { lj: "data" } }, "datasets.lj", ['got "data"']],
    [[1], "(top level)", ["a JSON object"]],
  ];
  for (const [json, path, parts] of cases) {
    await t.step(
      JSON.stringify(json),
      () => assertConfigError(() => parse(json), path, "cfg.json: ", ...parts),
    );
  }
});

Deno.test("parseConfig checks mel_config keys against each other", () => {
  assertConfigError(
    () => parse({ preprocessing: { mel_config: { sample_rate: 8000 } } }),
    "preprocessing.mel_config.fmax",
    "<= mel_config.sample_rate / 2 (4000)",
    "got 8000",
  );
  assertConfigError(
    () => parse({ preprocessing: { mel_config: { fmin: 500, fmax: 400 } } }),
    "preprocessing.mel_config.fmax",
    "> mel_config.fmin (500)",
  );
  assertConfigError(
    () => parse({ preprocessing: { mel_config: { win_size: 2048, n_fft: 1024 } } }),
    "preprocessing.mel_config.win_size",
    "<= mel_config.n_fft (1024)",
  );
});

Deno.test("parseConfig warns about unknown keys at every level and ignores them", () => {
  const { config, warnings } = parse({
    extra: 1,
    semantic_model: { layer: 3 },
    preprocessing: { foo: true, mel_config: { n_mels: 80 } },
    datasets: { lj: { data_root: "a", processed_dir: "b", plugin: "x" } },
  });
  assertEquals(warnings, [
    "cfg.json: unknown key extra (ignored)",
    "cfg.json: unknown key semantic_model.layer (ignored)",
    "cfg.json: unknown key preprocessing.foo (ignored)",
    "cfg.json: unknown key preprocessing.mel_config.n_mels (ignored)",
    "cfg.json: unknown key datasets.lj.plugin (ignored)",
  ]);
  assertStrictEquals(config.preprocessing.mel_config.n_mel, 80);
  assertEquals(config.datasets, { lj: { data_root: "a", processed_dir: "b" } });
});

Deno.test("parseConfig keeps any dataset name as data, even __proto__", () => {
  const json = JSON.parse('{"datasets": {"__proto__": {"data_root": "a", "processed_dir": "b"}}}');
  const { config } = parse(json);
  assertEquals(Object.keys(config.datasets), ["__proto__"]);
  assertStrictEquals(Object.getPrototypeOf(config.datasets), Object.prototype);
});

Deno.test("loadConfig names the file when it is missing or not JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/nope.json`;
    await assertRejects(() => loadConfig(missing, () => {}), (e: unknown) => {
      assert(e instanceof FormatError);
      assertStrictEquals(e.file, missing);
      assertMatch(e.message, /nope\.json: cannot read config file/);
      return true;
    });
    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, '{\n  "preprocessing": {\n    "shuffle" true\n  }\n}\n');
    await assertRejects(() => loadConfig(bad, () => {}), (e: unknown) => {
      assert(e instanceof FormatError);
      assertMatch(e.message, /bad\.json: invalid JSON: .*line 3 column 15/);
      return true;
    });
    const bom = `${dir}/bom.json`;
    await Deno.writeTextFile(bom, '\uFEFF{"preprocessing": {"shuffle": true}}');
    assertStrictEquals((await loadConfig(bom, () => {})).preprocessing.shuffle, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyOverrides parses every type and returns a new Config", () => {
  const base = defaultConfig();
  const config = applyOverrides(base, {
    "samples-per-hdf5": "100",
    "--use-float16": "false",
    "shuffle": "1",
    "overwrite-existing": "TRUE",
    "extract-mel": "0",
    "retry-delay": "0.25",
    "checkpoint-seconds": "1e1",
    "float16-overflow": "clamp",
    "compression-level": "9",
  });
  const p = config.preprocessing;
  assertEquals(
    [p.samples_per_hdf5, p.use_float16, p.shuffle, p.overwrite_existing, p.extract_mel],
    [100, false, true, true, false],
  );
  assertEquals([p.retry_delay, p.checkpoint_seconds, p.float16_overflow, p.compression_level], [
    0.25,
    10,
    "clamp",
    9,
  ]);
  assertEquals(base, defaultConfig(), "the input is not changed");
});

Deno.test("applyOverrides sets mel_config keys through mel- flags", () => {
  const config = applyOverrides(defaultConfig(), {
    "mel-sample-rate": "22050",
    "mel-fmax": "8000",
    "mel-n-mel": "80",
    "mel-n-fft": "1024",
    "mel-win-size": "1024",
    "mel-hop-size": "256",
    "mel-fmin": "0",
  });
  assertEquals(config.preprocessing.mel_config, {
    sample_rate: 22050,
    hop_size: 256,
    win_size: 1024,
    n_fft: 1024,
    n_mel: 80,
    fmin: 0,
    fmax: 8000,
  });
  assertConfigError(
    () => applyOverrides(defaultConfig(), { "mel-sample-rate": "8000" }),
    "preprocessing.mel_config.fmax",
    "got 8000",
  );
  assertConfigError(
    () => applyOverrides(defaultConfig(), { "mel-fmax": "9000" }),
    "--mel-fmax",
    'got "9000"',
  );
});

Deno.test("applyOverrides names the flag and value", async (t) => {
  const cases: [string, string, string][] = [
    ["samples-per-hdf5", "abc", "an integer >= 1"],
    ["samples-per-hdf5", "1.5", "an integer >= 1"],
    ["samples-per-hdf5", "", "an integer >= 1"],
    ["use-float16", "yes", "true or false"],
    ["compression-level", "-1", "from 0 to 9"],
    ["checkpoint-seconds", "Infinity", "a number > 0"],
    ["float16-overflow", "drop", 'one of "warn", "error", "clamp"'],
  ];
  for (const [flag, value, expected] of cases) {
    await t.step(`--${flag} ${JSON.stringify(value)}`, () =>
      assertConfigError(
        () => applyOverrides(defaultConfig(), { [flag]: value }),
        `--${flag}`,
        expected,
        `got ${JSON.stringify(value)}`,
      ));
  }
});

Deno.test("applyOverrides rejects an unknown flag listing close matches", () => {
  assertConfigError(
    () => applyOverrides(defaultConfig(), { "sample-per-hdf5": "100" }),
    "--sample-per-hdf5",
    "did you mean --samples-per-hdf5?",
  );
  assertConfigError(
    () => applyOverrides(defaultConfig(), { "--float16": "true" }),
    "--float16",
    "--use-float16",
  );
  assertConfigError(
    () => applyOverrides(defaultConfig(), { "zzzzzzzzzzzzzz": "1" }),
    "--zzzzzzzzzzzzzz",
    "see --help",
  );
});

Deno.test("PREPROCESSING_FLAGS describes every preprocessing key once, with its default", () => {
  const leaves = Object.entries(defaultConfig().preprocessing).flatMap(([k, v]) =>
    typeof v === "object" ? Object.keys(v).map((m) => `${k}.${m}`) : [k]
  );
  assertEquals(PREPROCESSING_FLAGS.map((f) => f.key).sort(), leaves.sort());
  assertStrictEquals(new Set(PREPROCESSING_FLAGS.map((f) => f.flag)).size, leaves.length);
  const byKey = new Map(PREPROCESSING_FLAGS.map((f) => [f.key, f]));
  assertEquals(byKey.get("compression_level"), {
    flag: "compression-level",
    key: "compression_level",
    type: "integer from 0 to 9",
    default: 4,
    help: "deflate level (0 = stored)",
  });
  assertStrictEquals(byKey.get("mel_config.n_fft")?.flag, "mel-n-fft");
  assertStrictEquals(byKey.get("use_float16")?.type, "boolean");
  assertStrictEquals(byKey.get("float16_overflow")?.type, "warn|error|clamp");
  for (const f of PREPROCESSING_FLAGS) {
    assert(f.help.length > 0, f.key);
    // each default survives a round trip through its own flag
    const config = applyOverrides(defaultConfig(), { [f.flag]: String(f.default) });
    assertEquals(config, defaultConfig(), f.flag);
  }
});
