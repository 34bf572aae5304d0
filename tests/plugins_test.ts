import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "./helpers/assert.ts";
import {
  compareUtf8,
  createLibriTTS,
  definePlugin,
  getPlugin,
  LIBRITTS_SPLITS,
  listPlugins,
  ljspeech,
  registerPlugin,
  type SampleRef,
  walkFiles,
} from "../plugins/mod.ts";
import { CacheError, ConfigError, FormatError } from "../errors.ts";
import { discoverNpzFiles } from "../plugins/define_plugin.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Makes a temp dir holding `files` (relative paths, created empty) for `fn`. */
async function withTree(files: string[], fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "h5shard_plugins_" });
  try {
    for (const file of files) {
      const path = `${root}/${file}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, new Uint8Array());
    }
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function collect(refs: AsyncIterable<SampleRef>): Promise<SampleRef[]> {
  return await Array.fromAsync(refs);
}

/** Byte-wise comparison of the UTF-8 encodings: the reference for compareUtf8. */
function byteOrder(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

Deno.test("compareUtf8 sorts as UTF-8 bytes, not UTF-16 code units", () => {
  const words = ["b", "B", "a-c", "a/b", "é", "e\u0301", "中文", "\uFF21", "\u{1F600}", "", "ab"];
  const sorted = [...words].sort(compareUtf8);
  assertEquals(sorted, [...words].sort(byteOrder));
  // where the two orders differ: U+FF21 before an astral character
  assert(sorted.indexOf("\uFF21") < sorted.indexOf("\u{1F600}"));
  assert(["\uFF21", "\u{1F600}"].sort()[0] === "\u{1F600}", "plain sort differs here");
  // every pair around the UTF-8 length and surrogate boundaries, alone and with a suffix
  const points = [
    0x41,
    0x7f,
    0x80,
    0x7ff,
    0x800,
    0xd7ff,
    0xe000,
    0xfffd,
    0xffff,
    0x10000,
    0x10ffff,
  ];
  const strings = points.flatMap((p) => [String.fromCodePoint(p), String.fromCodePoint(p, 0x41)]);
  for (const a of strings) {
    for (const b of strings) {
      assertStrictEquals(Math.sign(compareUtf8(a, b)), Math.sign(byteOrder(a, b)), `${a} ${b}`);
    }
  }
});

Deno.test("walkFiles sorts by key across directories in UTF-8 byte order", async () => {
  await withTree(
    ["a/b.npz", "a-c.npz", "a.npz", "b/\uFF21.npz", "b/\u{1F600}.npz", "z.txt"],
    async (root) => {
      const entries = await Array.fromAsync(walkFiles(root, {
        include: (r) => r.endsWith(".npz"),
        key: (r) => r.slice(0, -4),
      }));
      assertEquals(entries.map((e) => e.key), ["a", "a-c", "a/b", "b/\uFF21", "b/\u{1F600}"]);
      assertEquals(entries[2], { path: `${root}/a/b.npz`, relative: "a/b.npz", key: "a/b" });
    },
  );
});

Deno.test("walkFiles follows symlinks, and lists broken links and loops with their problem", async () => {
  await withTree(["real/x.npz", "d/y.npz"], async (root) => {
    await Deno.symlink(root, `${root}/d/loop`);
    await Deno.symlink(`${root}/real`, `${root}/linked`);
    await Deno.symlink(`${root}/nowhere`, `${root}/dangling`);
    await Deno.symlink(`${root}/self.npz`, `${root}/self.npz`);
    const entries = await Array.fromAsync(walkFiles(root, {
      include: (r) => r.endsWith(".npz"),
      key: (r) => r.slice(0, -4),
    }));
    assertEquals(entries.map((e) => [e.key, e.problem?.replace(/ \(.*/, "")]), [
      ["d/loop", `symlink loop: leads back to ${await Deno.realPath(root)}`],
      ["d/y", undefined],
      ["dangling", "broken symlink"],
      ["linked/x", undefined],
      ["real/x", undefined],
      ["self", "broken symlink"],
    ]);
    assertMatch(entries.at(-1)!.problem!, /symbolic links/i);
    // the default NPZ discovery passes the problems on, for migrate's error log
    const refs = await Array.fromAsync(discoverNpzFiles(root));
    assertEquals(refs.filter((r) => r.problem).map((r) => r.key), ["d/loop", "dangling", "self"]);
  });
});

Deno.test("walkFiles skips hidden names unless asked", async () => {
  await withTree(["a.npz", "._a.npz", ".Trash/b.npz"], async (root) => {
    const keys = async (hidden?: boolean) =>
      (await Array.fromAsync(walkFiles(root, { hidden }))).map((e) => e.key);
    assertEquals(await keys(), ["a.npz"]);
    assertEquals(await keys(true), [".Trash/b.npz", "._a.npz", "a.npz"]);
  });
});

Deno.test("walkFiles names a missing root", async () => {
  await assertRejects(() => Array.fromAsync(walkFiles("/nonexistent/h5shard")), (e: unknown) => {
    assert(e instanceof CacheError);
    assertStrictEquals(e.dir, "/nonexistent/h5shard");
    return true;
  });
});

Deno.test("ljspeech discovers wavs/*.wav flat, sorted, key = stem", async () => {
  const files = [
    "wavs/LJ002-0001.wav",
    "wavs/LJ001-0002.wav",
    "wavs/LJ001-0001.wav",
    "wavs/LJ001-0003.WAV",
    "wavs/notes.txt",
    "wavs/nested/LJ000-0000.wav",
    "wavs/._LJ001-0001.wav",
    "metadata.csv",
  ];
  await withTree(files, async (root) => {
    const refs = await collect(ljspeech.discover(`${root}/`));
    assertEquals(refs.map((r) => r.key), ["LJ001-0001", "LJ001-0002", "LJ001-0003", "LJ002-0001"]);
    assertStrictEquals(refs[0].path, `${root}/wavs/LJ001-0001.wav`);
  });
  assertStrictEquals(ljspeech.keyForPath("/data/LJSpeech-1.1/wavs/LJ001-0001.wav"), "LJ001-0001");
  assertStrictEquals(ljspeech.keyForPath("C:\\LJSpeech\\wavs\\LJ001-0001.wav"), "LJ001-0001");
});

Deno.test("ljspeech keys and order hold for non-ASCII file names", async () => {
  const names = ["\u{1F600}", "\uFF21", "é", "中文", "z"];
  await withTree(names.map((n) => `wavs/${n}.wav`), async (root) => {
    const keys = (await collect(ljspeech.discover(root))).map((r) => r.key);
    assertEquals(keys, ["z", "é", "中文", "\uFF21", "\u{1F600}"]);
  });
  assertStrictEquals(ljspeech.keyForPath("/d/wavs/中文.wav"), "中文");
});

Deno.test("libritts discovers split/speaker/chapter/*.wav and warns about missing splits", async () => {
  const files = [
    "train-clean-100/19/198/19_198_000001_000000.wav",
    "train-clean-100/19/198/19_198_000000_000000.wav",
    "train-clean-100/19/198/19_198_000000_000000.normalized.txt",
    "train-clean-100/103/1241/103_1241_000000_000001.wav",
    "dev-clean/84/121123/84_121123_000007_000000.wav",
    "dev-clean/stray.wav",
    "other-split/1/2/1_2_3.wav",
  ];
  await withTree(files, async (root) => {
    const warnings: string[] = [];
    const plugin = createLibriTTS({ warn: (m) => warnings.push(m) });
    const refs = await collect(plugin.discover(root));
    assertEquals(refs.map((r) => r.key), [
      "dev-clean/84/121123/84_121123_000007_000000",
      "train-clean-100/103/1241/103_1241_000000_000001",
      "train-clean-100/19/198/19_198_000000_000000",
      "train-clean-100/19/198/19_198_000001_000000",
    ]);
    for (const ref of refs) assertStrictEquals(plugin.keyForPath(ref.path, root), ref.key);
    const missing = LIBRITTS_SPLITS.filter((s) => s !== "dev-clean" && s !== "train-clean-100");
    assertEquals(warnings, missing.map((s) => `${root}: LibriTTS split ${s} not found (skipped)`));
  });
});

Deno.test("libritts throws naming a missing data root, without split warnings", async () => {
  const warnings: string[] = [];
  const plugin = createLibriTTS({ warn: (m) => warnings.push(m) });
  await assertRejects(() => collect(plugin.discover("/nonexistent/LibriTTS")), (e: unknown) => {
    assert(e instanceof CacheError);
    assertStrictEquals(e.dir, "/nonexistent/LibriTTS");
    return true;
  });
  assertEquals(warnings, []);
});

Deno.test("libritts throws naming the data root when no split exists", async () => {
  await withTree(["wavs/a.wav"], async (root) => {
    const plugin = createLibriTTS({ warn: () => {} });
    await assertRejects(() => collect(plugin.discover(root)), (e: unknown) => {
      assert(e instanceof CacheError);
      assertStrictEquals(e.dir, root);
      assertMatch(e.message, /no LibriTTS split found/);
      return true;
    });
  });
});

Deno.test("libritts keyForPath normalizes separators, data roots and non-ASCII names", () => {
  const plugin = createLibriTTS({ warn: () => {} });
  const key = "train-clean-100/123/456/123_456_789";
  assertStrictEquals(plugin.keyForPath(`/data/LibriTTS/${key}.wav`), key);
  assertStrictEquals(plugin.keyForPath(`C:\\LibriTTS\\${key.replaceAll("/", "\\")}.wav`), key);
  assertStrictEquals(plugin.keyForPath(`/data/LibriTTS/${key}.wav`, "/data/LibriTTS/"), key);
  assertStrictEquals(plugin.keyForPath(`/data//LibriTTS/./${key}.wav`, "/data/LibriTTS"), key);
  assertStrictEquals(
    plugin.keyForPath("D:\\corpus\\dev-clean\\é\\中\\é_中_1.wav", "D:\\corpus"),
    "dev-clean/é/中/é_中_1",
  );
  assertStrictEquals(
    plugin.keyForPath(`${Deno.cwd()}/corpus/${key}.wav`, "corpus"),
    key,
    "a relative data root is taken from the working directory",
  );
  assertThrows(() => plugin.keyForPath("/elsewhere/a/b/c/d.wav", "/data/LibriTTS"), RangeError);
  assertThrows(() => plugin.keyForPath("b/c.wav"), /split\/speaker\/chapter\/utterance/);
});

Deno.test("definePlugin fills defaults: nested *.npz discovery keyed by relative path", async () => {
  const plugin = definePlugin({
    name: "mine",
    async *discover() {},
    keyForPath: (path: string) => path,
  });
  assertStrictEquals(plugin.description, "");
  const files = [
    "train-clean-100/1/2/1_2_3.npz",
    "LJ001-0001.npz",
    "dev-clean/4/5/4_5_6.npz",
    "dev-clean/4/5/4_5_6.txt",
    "中文.npz",
  ];
  await withTree(files, async (root) => {
    const refs = await collect(plugin.discoverNpz(root));
    assertEquals(refs.map((r) => r.key), [
      "LJ001-0001",
      "dev-clean/4/5/4_5_6",
      "train-clean-100/1/2/1_2_3",
      "中文",
    ]);
    assertStrictEquals(refs[1].path, `${root}/dev-clean/4/5/4_5_6.npz`);
    // the built-ins share the default
    assertEquals(await collect(ljspeech.discoverNpz(root)), refs);
  });
});

Deno.test("definePlugin rejects bad names and missing functions, quoting the value", () => {
  const base = { async *discover() {}, keyForPath: (p: string) => p };
  for (const name of ["", "a/b", "./x.ts", "-x", "has space"]) {
    assertThrows(() => definePlugin({ ...base, name }), (e: unknown) => {
      assert(e instanceof RangeError);
      assert(e.message.includes(JSON.stringify(name)), e.message);
      return true;
    });
  }
  assertThrows(
    () => definePlugin({ name: "x", keyForPath: base.keyForPath } as never),
    /plugin "x": discover must be a function/,
  );
});

Deno.test("registerPlugin adds to listPlugins and refuses a second plugin of the same name", async () => {
  const mine = registerPlugin({
    name: "registered_test",
    async *discover() {},
    keyForPath: String,
  });
  assertStrictEquals(registerPlugin(mine), mine);
  assertStrictEquals(await getPlugin("registered_test"), mine);
  const names = listPlugins().map((p) => p.name);
  assertEquals(names, [...names].sort());
  assert(
    names.includes("ljspeech") && names.includes("libritts") && names.includes("registered_test"),
  );
  assertThrows(() => registerPlugin({ ...mine }), RangeError);
  assertThrows(
    () => registerPlugin({ ...mine, name: "libritts" }),
    /"libritts" is already registered/,
  );
});

Deno.test("getPlugin loads a custom plugin from a module path, absolute, relative or file URL", async () => {
  const url = new URL("custom_plugin.ts", FIXTURES);
  const specs = [url.href, url.pathname];
  const cwd = `${Deno.cwd()}/`;
  if (url.pathname.startsWith(cwd)) specs.push(`./${url.pathname.slice(cwd.length)}`);
  for (const spec of specs) {
    const plugin = await getPlugin(spec);
    assertStrictEquals(plugin.name, "custom_fixture", spec);
    assertStrictEquals(plugin.keyForPath("/x/take_1.flac"), "take_1");
  }
  await withTree(["b.flac", "a.flac", "c.wav"], async (root) => {
    const plugin = await getPlugin(url.href);
    assertEquals((await collect(plugin.discover(root))).map((r) => r.key), ["a", "b"]);
  });
  const named = await getPlugin(new URL("named_plugin.ts", FIXTURES).href);
  assertStrictEquals(named.name, "named_fixture");
});

Deno.test("getPlugin errors list known names or name the module file", async () => {
  await assertRejects(() => getPlugin("ljspeeh"), (e: unknown) => {
    assert(e instanceof ConfigError);
    assertStrictEquals(e.value, "ljspeeh");
    assertMatch(e.message, /"libritts", "ljspeech"/);
    return true;
  });
  const bad = new URL("not_a_plugin.ts", FIXTURES).pathname;
  await assertRejects(() => getPlugin(bad), (e: unknown) => {
    assert(e instanceof FormatError);
    assertStrictEquals(e.file, bad);
    assertMatch(e.message, /exports no dataset plugin/);
    return true;
  });
  const missing = new URL("no_such_plugin.ts", FIXTURES).pathname;
  await assertRejects(() => getPlugin(missing), (e: unknown) => {
    assert(e instanceof FormatError);
    assertStrictEquals(e.file, missing);
    assertMatch(e.message, /cannot load plugin module/);
    return true;
  });
});
