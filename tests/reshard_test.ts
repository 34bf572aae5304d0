import { ConfigError } from "../errors.ts";
import { reshard } from "../ops/reshard.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { hostileCache, KEYS } from "./helpers/hostile_cache.ts";

Deno.test("reshard copies a cache with other settings, skips what the destination has, and advises a new directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reshard_test_" });
  try {
    await hostileCache(`${dir}/src`);
    const progress: number[] = [];
    const first = await reshard(`${dir}/src`, `${dir}/dst`, {
      preprocessing: { samples_per_hdf5: 3, use_float16: false },
      onProgress: (s) => progress.push(s.written + s.skipped + s.failed),
    });
    assertEquals([first.written, first.skipped, first.failed, first.shards], [4, 0, 0, 2]);
    assertEquals(progress.at(-1), KEYS.length);
    const again = await reshard(`${dir}/src`, `${dir}/dst`, {
      preprocessing: { samples_per_hdf5: 3, use_float16: false },
    });
    assertEquals([again.written, again.skipped], [0, 4]);
    await assertRejects(
      reshard(`${dir}/src`, `${dir}/dst`, { preprocessing: { samples_per_hdf5: 5 } }),
      (e: Error) =>
        e instanceof ConfigError && e.path === "preprocessing.samples_per_hdf5" &&
        !/use reshard|reshard the cache/.test(e.message) && e.message.includes("new processed_dir"),
    );
    await assertRejects(reshard(`${dir}/src`, `${dir}/src`), /never modifies its source/);
    assert((await Deno.stat(`${dir}/dst/hdf5_index.json`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
