import { assert, assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import {
  assertMatchesNumpy,
  assertSameBytes,
  npzTreePlugin,
  numpyFixtures,
  utterance,
} from "./helpers/npz_fixtures.ts";
import { NpzSource } from "../stages/npz_source.ts";
import { Float16Stream } from "../stages/float16_stream.ts";
import { encodeNpz } from "../formats/npz.ts";
import { bytesOf } from "../formats/dtype.ts";
import { CacheError, FormatError, SampleError } from "../errors.ts";
import { isFailure, type Sample, type SampleFailure } from "../stages/record.ts";
import type { DatasetPlugin, SampleRef } from "../plugins/plugin.ts";
import { libritts } from "../plugins/libritts.ts";
import { ljspeech } from "../plugins/ljspeech.ts";

const python = await findH5pyPython();
const noPython = ignoreWithout(python, "python3 with numpy");

async function collect(stream: ReadableStream<Sample | SampleFailure>) {
  const out: (Sample | SampleFailure)[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

async function writeCache(dir: string, keys: string[], frames = 6): Promise<void> {
  for (const [i, key] of keys.entries()) {
    const path = `${dir}/${key}.npz`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, encodeNpz(utterance(frames + i, i + 1), { compress: i % 2 === 1 }));
  }
}

const KEYS = [
  "LJ001-0001",
  "LJ001-0002",
  "LJ001-0003",
  "train-clean-100/123/456/123_456_789",
  "train-other/été/naïve_名",
];

Deno.test("NpzSource yields all samples in key order and one failure naming a truncated file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeCache(dir, KEYS);
    const bad = `${dir}/LJ001-0002.npz`;
    const bytes = await Deno.readFile(bad);
    await Deno.writeFile(bad, bytes.subarray(0, bytes.length - 100));
    const records = await collect(new NpzSource(dir, { plugin: npzTreePlugin(), readAhead: 2 }));
    assertEquals(records.map((r) => r.key), KEYS);
    const failures = records.filter(isFailure);
    assertEquals(failures.length, 1);
    const [f] = failures;
    assertEquals([f.key, f.origin], ["LJ001-0002", bad]);
    assert(f.error instanceof FormatError);
    assertEquals(f.error.file, bad);
    assertMatch(
      f.error.message,
      /LJ001-0002\.npz: no zip end-of-central-directory record: the file is truncated/,
    );
    for (const [i, r] of records.entries()) {
      if (isFailure(r)) continue;
      const want = utterance(6 + i, i + 1);
      assertEquals(r.origin, `${dir}/${r.key}.npz`);
      assertEquals(Object.keys(r.tensors).sort(), ["hidden_states", "mel_spectrogram"]);
      assertEquals(r.tensors.mel_spectrogram.shape, [1, 6 + i, 80]);
      assertSameBytes(
        bytesOf(r.tensors.hidden_states.data),
        bytesOf(want.hidden_states.data),
        r.key,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpzSource walks LibriTTS and LJSpeech caches with the built-in plugins", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keys = [
      "dev-clean/84/121123/84_121123_000007_000000",
      "train-clean-100/123/456/123_456_789",
      "train-clean-100/123/457/123_457_000",
    ];
    await writeCache(`${dir}/libritts`, keys);
    await Deno.writeFile(
      `${dir}/libritts/train-clean-100/123/456/123_456_789.npz`,
      new Uint8Array(7),
    );
    const records = await collect(new NpzSource(`${dir}/libritts`, { plugin: libritts }));
    assertEquals(records.map((r) => [r.key, isFailure(r)]), [
      [keys[0], false],
      [keys[1], true],
      [keys[2], false],
    ]);
    const failure = records[1] as SampleFailure;
    assertMatch(failure.error.message, /123_456_789\.npz: 7 bytes is too short for a zip archive/);
    await writeCache(`${dir}/lj`, ["LJ001-0002", "LJ001-0001"]);
    const lj = await collect(new NpzSource(`${dir}/lj`, { plugin: ljspeech, readAhead: 1 }));
    assertEquals(lj.map((r) => r.key), ["LJ001-0001", "LJ001-0002"]);
    assert(lj.every((r) => !isFailure(r)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A plugin over fixed refs that counts how many it has handed out. */
function listPlugin(refs: SampleRef[]): DatasetPlugin & { listed: number; closed: boolean } {
  const p = {
    ...npzTreePlugin(),
    listed: 0,
    closed: false,
    async *discoverNpz() {
      try {
        for (const r of refs) {
          p.listed++;
          yield r;
        }
      } finally {
        p.closed = true;
      }
    },
  };
  return p;
}

Deno.test("NpzSource skips keys and turns an unreadable file into a SampleError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeCache(dir, ["a", "c"]);
    const plugin = listPlugin([
      { key: "a", path: `${dir}/a.npz` },
      { key: "b", path: `${dir}/b.npz` },
      { key: "c", path: `${dir}/c.npz` },
      { key: "d", path: `${dir}/missing.npz` },
    ]);
    const records = await collect(new NpzSource(dir, { plugin, skip: (k) => k === "a" }));
    assertEquals(records.map((r) => [r.key, isFailure(r)]), [["b", true], ["c", false], [
      "d",
      true,
    ]]);
    for (const r of records.filter(isFailure)) {
      assert(r.error instanceof SampleError);
      assertEquals(r.error.file, r.origin);
      assertMatch(r.error.message, /cannot read: /);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpzSource lists and reads at most readAhead files ahead of the consumer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keys = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    await writeCache(dir, keys, 2);
    const plugin = listPlugin(keys.map((key) => ({ key, path: `${dir}/${key}.npz` })));
    const reader = new NpzSource(dir, { plugin, readAhead: 3 }).getReader();
    for (let k = 1; k <= 5; k++) {
      const { value } = await reader.read();
      assertEquals(value?.key, keys[k - 1]);
      await new Promise((r) => setTimeout(r, 5));
      assert(plugin.listed <= k + 3, `after ${k} reads ${plugin.listed} files were listed`);
      assert(plugin.listed >= k, "listing runs ahead");
    }
    await reader.cancel();
    assert(plugin.closed, "cancel closes the plugin's listing");
    assert(plugin.listed < keys.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpzSource errors with a CacheError naming a directory it cannot list", async () => {
  const missing = `${await Deno.makeTempDir()}/nope`;
  const reader = new NpzSource(missing, { plugin: npzTreePlugin() }).getReader();
  let error: unknown;
  try {
    await reader.read();
  } catch (e) {
    error = e;
  }
  assert(error instanceof CacheError, `expected a CacheError, got ${error}`);
  assertEquals(error.dir, missing);
  assertMatch(error.message, /cannot list NPZ files/);
  await Deno.remove(missing.slice(0, -5));
});

Deno.test("NpzSource delivers the samples listed before a listing error, then errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeCache(dir, ["a", "b"]);
    const plugin: DatasetPlugin = {
      ...npzTreePlugin(),
      async *discoverNpz() {
        yield { key: "a", path: `${dir}/a.npz` };
        yield { key: "b", path: `${dir}/b.npz` };
        throw new Deno.errors.PermissionDenied("readdir sub");
      },
    };
    const reader = new NpzSource(dir, { plugin, readAhead: 4 }).getReader();
    assertEquals((await reader.read()).value?.key, "a");
    assertEquals((await reader.read()).value?.key, "b");
    const error = await reader.read().then(() => undefined, (e) => e);
    assert(error instanceof CacheError, `expected a CacheError, got ${error}`);
    assertMatch(error.message, /cannot list NPZ files: readdir sub/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpzSource rejects a bad readAhead or plugin with the value received", () => {
  assertThrows(() => new NpzSource(".", { plugin: npzTreePlugin(), readAhead: 0 }), RangeError);
  assertThrows(
    () => new NpzSource(".", { plugin: npzTreePlugin(), readAhead: 1.5 }),
    /readAhead must be a positive integer, got 1.5/,
  );
  assertThrows(
    () => new NpzSource(".", { plugin: undefined as unknown as DatasetPlugin }),
    TypeError,
  );
});

Deno.test({
  name: "NpzSource reads a numpy-written cache (savez and savez_compressed) bit-exactly",
  ignore: noPython,
  fn: async () => {
    const py = requireTool(python, "python3 with numpy");
    const dir = await Deno.makeTempDir();
    try {
      const expected = await numpyFixtures(
        py,
        dir,
        `
keys = ['LJ001-0001', 'LJ001-0002', 'train-clean-100/123/456/123_456_789', 'train-other/été/名']
for i, k in enumerate(keys):
    t = 1 if i == 0 else 20 + i
    h = rng.standard_normal((t, 1024)).astype('<f4')
    m = rng.standard_normal((1, t, 80)).astype('<f4')
    save = np.savez_compressed if i % 2 else np.savez
    save(path('cache/' + k + '.npz'), hidden_states=h, mel_spectrogram=m)
    expect('%d_hidden_states' % i, h)
    expect('%d_mel_spectrogram' % i, m)
`,
      );
      const records = await collect(new NpzSource(`${dir}/cache`, { plugin: npzTreePlugin() }));
      assertEquals(records.map((r) => r.key), [
        "LJ001-0001",
        "LJ001-0002",
        "train-clean-100/123/456/123_456_789",
        "train-other/été/名",
      ]);
      for (const [i, r] of records.entries()) {
        assert(!isFailure(r), `${r.key} failed`);
        for (const name of ["hidden_states", "mel_spectrogram"]) {
          assertMatchesNumpy(r.tensors[name], expected[`${i}_${name}`], `${r.key} ${name}`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("NpzSource converts to float16 on its workers exactly as Float16Stream does, on either thread", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeCache(dir, KEYS.slice(0, 3));
    const extra = utterance(2, 9);
    extra.tokens = { dtype: "int64", shape: [2], data: new BigInt64Array([1n, -2n]) };
    (extra.hidden_states.data as Float32Array)[5] = 1e6; // beyond float16
    await Deno.writeFile(`${dir}/z.npz`, encodeNpz(extra, { compress: true }));
    const plugin = npzTreePlugin();
    const want = await collect(
      new NpzSource(dir, { plugin, workers: 0 }).pipeThrough(new Float16Stream()),
    );
    for (const workers of [0, 1, 2]) {
      const got = await collect(new NpzSource(dir, { plugin, workers, float16: "warn" }));
      assertEquals(got.length, 4);
      for (const [i, r] of got.entries()) {
        const w = want[i] as Sample;
        assert(!isFailure(r), `${r.key}: ${isFailure(r) ? r.error.message : ""}`);
        assertEquals([r.key, r.inputBytes, r.inputDTypes, r.warnings], [
          w.key,
          w.inputBytes,
          w.inputDTypes,
          w.warnings,
        ]);
        for (const [name, t] of Object.entries(w.tensors)) {
          assertEquals(r.tensors[name].dtype, t.dtype, `${r.key} ${name}`);
          assertSameBytes(bytesOf(r.tensors[name].data), bytesOf(t.data), `${r.key} ${name}`);
        }
      }
      assertEquals((got[3] as Sample).warnings?.length, 1);
      const strict = await collect(new NpzSource(dir, { plugin, workers, float16: "error" }));
      const [f] = strict.filter(isFailure);
      assertEquals(strict.filter(isFailure).length, 1);
      assert(f.error instanceof SampleError, String(f.error));
      assertEquals([f.key, f.error.dataset, f.error.file], ["z", "hidden_states", `${dir}/z.npz`]);
      assertMatch(f.error.message, /1 float32 values beyond the float16 range/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpzSource rejects a bad workers count or float16 policy with the value received", () => {
  const plugin = npzTreePlugin();
  assertThrows(() => new NpzSource(".", { plugin, workers: -1 }), RangeError, "got -1");
  assertThrows(
    () => new NpzSource(".", { plugin, float16: "round" as unknown as "warn" }),
    RangeError,
    'got "round"',
  );
});
