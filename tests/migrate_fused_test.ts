// migrate's fused per-file worker task (read, decode, float16, chunk, deflate on one worker,
// chunks moved back in one buffer) writes the very bytes the staged path wrote (NpzSource ->
// Float16Stream -> DeflateStream), at any worker count, and h5py reads them as numpy's arrays.
import { encodeNpz } from "../formats/npz.ts";
import { migrate } from "../ops/migrate.ts";
import { pack } from "../ops/pack.ts";
import { NpzEncodedSource, NpzSource } from "../stages/npz_source.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout } from "./helpers/interop.ts";
import { compareWithNpz, makeLjspeechNpz } from "./helpers/legacy_cache.ts";
import { npzTreePlugin, utterance } from "./helpers/npz_fixtures.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with numpy and h5py");

const preprocessing = { samples_per_hdf5: 4, chunk_bytes: 64 * 1024 };

/** Shard file name -> bytes, and the index's sample_index. */
async function shards(dir: string) {
  const files: Record<string, Uint8Array> = {};
  for await (const e of Deno.readDir(dir)) {
    if (/^features_\d+\.h5$/.test(e.name)) files[e.name] = await Deno.readFile(`${dir}/${e.name}`);
  }
  const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
  return { files, sampleIndex: index.sample_index };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

Deno.test({
  name: "migrate's fused task writes shards byte-identical to the staged path, at 1 and 2 workers",
  ignore,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "migrate_fused_" });
    try {
      const src = `${root}/npz`;
      // numpy's files: float32/float64, Fortran order, big-endian, int64, bool, stored and
      // compressed members, one truncated file; plus long utterances cut into many chunks.
      await makeLjspeechNpz(python!, src);
      for (const [i, frames] of [[1, 700], [2, 333]]) {
        const bytes = encodeNpz(utterance(frames, i), { compress: i === 1 });
        await Deno.writeFile(`${src}/LJ009-000${i}.npz`, bytes);
      }
      const staged = `${root}/staged`;
      const plugin = npzTreePlugin();
      await pack(new NpzSource(src, { plugin, float16: "warn" }), staged, { preprocessing });
      const want = await shards(staged);
      assert(Object.keys(want.files).length >= 3, `shards: ${Object.keys(want.files)}`);
      for (const workers of [1, 2]) {
        const out = `${root}/fused_${workers}`;
        const report = await migrate({
          npzDir: src,
          processedDir: out,
          plugin,
          preprocessing: { ...preprocessing, num_save_workers: workers },
        });
        assertEquals(report.workers, workers);
        assertEquals(report.failed, 1, "the truncated file");
        const got = await shards(out);
        assertEquals(got.sampleIndex, want.sampleIndex);
        assertEquals(Object.keys(got.files).sort(), Object.keys(want.files).sort());
        for (const [name, bytes] of Object.entries(want.files)) {
          assert(sameBytes(got.files[name], bytes), `${name} differs at ${workers} worker(s)`);
        }
        const log = JSON.parse(await Deno.readTextFile(`${out}/error_log.json`));
        assertEquals(JSON.stringify(log).includes("LJ001-0007"), true);
      }
      // h5py reads what was written as numpy's arrays cast to float16.
      const check = await compareWithNpz(python!, `${root}/fused_2`, src);
      assertEquals(Object.keys(check).length, 9);
      for (const [key, datasets] of Object.entries(check)) {
        for (const [name, verdict] of Object.entries(datasets)) {
          assertEquals(verdict, "ok", `${key}/${name}`);
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("NpzEncodedSource's chunks share one moved buffer, and a bad file is a FormatError naming it", async () => {
  const root = await Deno.makeTempDir({ prefix: "migrate_fused_" });
  try {
    await Deno.writeFile(`${root}/a.npz`, encodeNpz(utterance(300), { compress: false }));
    await Deno.writeFile(`${root}/b.npz`, new TextEncoder().encode("not a zip"));
    const encode = { level: 4, shuffle: true, chunkBytes: 16 * 1024 };
    const records = await Array.fromAsync(
      new NpzEncodedSource(root, { plugin: npzTreePlugin(), workers: 2, float16: "warn" }, encode),
    );
    assertEquals(records.map((r) => r.key), ["a", "b"]);
    const [a, b] = records;
    assert("datasets" in a, "a is encoded");
    const layout = a.datasets.hidden_states.layout;
    assert(layout.kind === "chunked" && layout.chunks.length > 1, "many chunks");
    const buffer = layout.chunks[0].buffer;
    assert(layout.chunks.every((c) => c.buffer === buffer), "one buffer for every chunk");
    assertEquals(a.datasets.hidden_states.dtype, "float16");
    assertEquals(a.inputBytes, 300 * (1024 + 80) * 4);
    assert("error" in b && b.error.name === "FormatError", `b: ${JSON.stringify(b)}`);
    assert(b.error.message.includes("b.npz"), b.error.message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
