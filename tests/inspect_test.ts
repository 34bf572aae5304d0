import { elementCount } from "../formats/dtype.ts";
import { inspectCache } from "../ops/inspect.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { h5pyFixtures, standardSamples } from "./helpers/h5py_cache.ts";
import { findH5pyPython, ignoreWithout, requireTool, runPython } from "./helpers/interop.ts";

const python = await findH5pyPython();
const ignore = ignoreWithout(python, "python3 with h5py");

const { scratch, fixture } = h5pyFixtures("inspect_test_", python);
/** 5 samples in 2 shards (3 + 2), floats stored as float16. */
const cache = () => fixture("cache", standardSamples(), { samplesPerFile: 3 });

Deno.test({
  name: "inspect summarizes a 2-shard h5py cache",
  ignore,
  async fn() {
    const { dir, expected } = await cache();
    const report = await inspectCache(dir);
    // Plain data: survives JSON unchanged.
    assertEquals(JSON.parse(JSON.stringify(report)), report);
    assertEquals(report.oddities, []);
    assertEquals(
      [report.totalSamples, report.useFloat16, report.samplesPerFile, report.currentFileIdx],
      [5, true, 3, 2],
    );
    assertEquals(report.shards.map((s) => [s.name, s.samples, s.groups, s.readable]), [
      ["features_00001.h5", 3, 3, true],
      ["features_00002.h5", 2, 2, true],
    ]);
    for (const s of report.shards) {
      assertEquals(s.bytes, (await Deno.stat(`${dir}/${s.name}`)).size);
      assertEquals(s.compressionRatio, s.rawBytes / s.bytes);
    }
    assertEquals(report.bytesOnDisk, report.shards[0].bytes + report.shards[1].bytes);

    let raw = 0;
    for (const d of expected.values()) {
      for (const e of Object.values(d)) raw += e.stored.data.byteLength;
    }
    assertEquals(report.rawBytes, raw);
    assert(report.compressionRatio! > 0);

    const h = report.datasets.hidden_states;
    assertEquals([h.count, h.dtypes, h.ranks], [5, { float16: 5 }, [2]]);
    assertEquals([h.shapeMin, h.shapeMax], [[9, 1024], [201, 1024]]);
    assertEquals(h.filters, ["deflate(4)"]);
    assert(h.chunkShapes.length >= 1 && h.chunkShapes.every((c) => c.length === 2));
    const m = report.datasets.mel_spectrogram;
    assertEquals([m.shapeMin, m.shapeMax], [[1, 15, 80], [1, 342, 80]]);
    assertEquals(report.datasets.mask.dtypes, { bool: 1 });
    assertEquals(report.datasets.tokens.rawBytes, 50 * 4);
    assertEquals(
      report.datasets.mel_spectrogram.rawBytes,
      [...expected.values()].reduce(
        (a, d) => a + elementCount(d.mel_spectrogram.stored.shape) * 2,
        0,
      ),
    );
  },
});

Deno.test({
  name: "inspect lists odd things: unreferenced, missing and empty shards, bad counts",
  ignore,
  async fn() {
    const { dir } = await cache();
    const odd = `${scratch}/odd`;
    await Deno.mkdir(odd);
    await Deno.copyFile(`${dir}/features_00001.h5`, `${odd}/features_00001.h5`);
    await Deno.copyFile(`${dir}/features_00001.h5`, `${odd}/features_00007.h5`);
    const index = JSON.parse(await Deno.readTextFile(`${dir}/hdf5_index.json`));
    index.current_file_count = 4;
    await Deno.writeTextFile(`${odd}/hdf5_index.json`, JSON.stringify(index));
    await Deno.writeFile(`${odd}/features_00003.h5`, new Uint8Array(0));
    await runPython(
      requireTool(python, "python3 with h5py"),
      `import h5py, sys
h5py.File(sys.argv[1], "w").close()`,
      [`${odd}/features_00005.h5`],
    );

    const report = await inspectCache(odd);
    const text = report.oddities.join("\n");
    assertMatch(text, /current_file_count is 4 but 2 entries/);
    assertMatch(text, /features_00002\.h5 is missing; 2 indexed samples/);
    assertMatch(text, /features_00007\.h5 is not referenced/);
    assertMatch(text, /features_00007\.h5: 3 groups are not indexed/);
    assertMatch(text, /features_00003\.h5.*cannot open as HDF5/);
    assertMatch(text, /features_00005\.h5 holds no sample groups/);
    assertEquals(report.shards.map((s) => [s.name, s.readable]), [
      ["features_00001.h5", true],
      ["features_00002.h5", false],
      ["features_00003.h5", false],
      ["features_00005.h5", true],
      ["features_00007.h5", true],
    ]);
    assertEquals(report.datasets.hidden_states.count, 3);
    await assertRejects(inspectCache(`${scratch}/nothing`), /nothing/);
  },
});
