import { assert, assertEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { h5pyCacheDigest } from "./helpers/cache_digest.ts";
import { writeExampleCache } from "../ops/example_cache.ts";
import { migrate } from "../ops/migrate.ts";
import { reshard } from "../ops/reshard.ts";
import { NativeH5File } from "../formats/hdf5/reader/native_h5_file.ts";

const python = await findH5pyPython();

function shardFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".h5")).sort();
}

async function example(root: string, samplesPerShard: number, dir: string): Promise<string> {
  await migrate({
    npzDir: `${root}/npz`,
    processedDir: `${root}/${dir}`,
    plugin: "ljspeech",
    preprocessing: { samples_per_hdf5: samplesPerShard, num_save_workers: 1 },
  });
  return `${root}/${dir}`;
}

Deno.test({
  name: "reshard that keeps the chunks copies them: equal to a run written that way (h5py)",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await writeExampleCache(`${root}/npz`, { samples: 41, dims: 16, minFrames: 10, maxFrames: 50 });
    const src = await example(root, 6, "src");
    const direct = await example(root, 15, "direct");
    const report = await reshard(src, `${root}/dst`, {
      preprocessing: { samples_per_hdf5: 15 },
    });
    assertEquals([report.copiedChunks, report.written, report.failed], [41, 41, 0]);
    // The same chunks in the same layout as a run written with 15 per shard: the same bytes.
    assertEquals(
      Deno.readTextFileSync(`${root}/dst/hdf5_index.json`),
      Deno.readTextFileSync(`${direct}/hdf5_index.json`),
    );
    assertEquals(shardFiles(`${root}/dst`), shardFiles(direct));
    for (const f of shardFiles(direct)) {
      assertEquals(Deno.readFileSync(`${root}/dst/${f}`), Deno.readFileSync(`${direct}/${f}`), f);
    }
    assertEquals(await h5pyCacheDigest(py, `${root}/dst`), await h5pyCacheDigest(py, src));
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "reshard told to copy chunks encodes afresh the samples other settings would change",
  ignore: ignoreWithout(python, "python3 with h5py"),
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await writeExampleCache(`${root}/npz`, { samples: 9, dims: 16, minFrames: 10, maxFrames: 50 });
    const src = await example(root, 4, "src");
    const auto = await reshard(src, `${root}/auto`, {
      preprocessing: { samples_per_hdf5: 5, compression_level: 6 },
    });
    assertEquals(auto.copiedChunks, 0, "other settings: no copy by default");
    const forced = await reshard(src, `${root}/forced`, {
      preprocessing: { samples_per_hdf5: 5, compression_level: 6 },
      copyChunks: true,
    });
    assertEquals([forced.copiedChunks, forced.written, forced.failed], [0, 9, 0]);
    const f = NativeH5File.open(`${root}/forced/features_00001.h5`);
    const key = f.names("/")[0];
    const level = f.filters(`${key}/hidden_states`).find((x) => x.name === "deflate")?.cd_values[0];
    f.close();
    assertEquals(level, 6);
    const digest = await h5pyCacheDigest(py, src);
    assertEquals(await h5pyCacheDigest(py, `${root}/forced`), digest);
    assertEquals(await h5pyCacheDigest(py, `${root}/auto`), digest);
    assert(
      Deno.readTextFileSync(`${root}/forced/metadata.json`).includes('"compression_level": 6'),
    );
    await Deno.remove(root, { recursive: true });
  },
});
