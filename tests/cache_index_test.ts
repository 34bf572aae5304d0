/**
 * The one index loader: reading a cache (index required) and resuming one (index optional)
 * give the same index, and a bad index is a named error either way, never "no index".
 */
import { assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import { CacheError, FormatError } from "../errors.ts";
import { indexedKeys, pack } from "../ops/pack.ts";
import { readCacheIndex, readCacheIndexIfAny } from "../cache/cache_index.ts";
import type { Sample } from "../stages/record.ts";

const sample = (key: string): Sample => ({
  key,
  tensors: { x: { dtype: "int32", shape: [2], data: new Int32Array([1, 2]) } },
});

Deno.test("readCacheIndexIfAny: undefined without an index, the index with one, FormatError when bad", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(readCacheIndexIfAny(`${dir}/not-yet`), undefined);
    assertEquals(indexedKeys(dir), new Set());
    await pack(ReadableStream.from(["b", "a"].map(sample)), dir, {
      preprocessing: { num_save_workers: 1 },
    });
    assertEquals(readCacheIndexIfAny(dir), await readCacheIndex(dir));
    assertEquals(indexedKeys(dir), new Set(["a", "b"]));
    await Deno.writeTextFile(`${dir}/hdf5_index.json`, "{half");
    const named = new RegExp(`^${dir}/hdf5_index\\.json: `);
    assertThrows(() => indexedKeys(dir), (e) => e instanceof FormatError && named.test(e.message));
    await Deno.remove(`${dir}/hdf5_index.json`);
    await Deno.mkdir(`${dir}/hdf5_index.json`);
    const unreadable = (e: unknown) =>
      e instanceof CacheError && /cannot read hdf5_index\.json/.test(e.message);
    assertThrows(() => readCacheIndexIfAny(dir), unreadable);
    await assertRejects(() => readCacheIndex(dir), unreadable);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCacheIndex says whether the directory is missing or only its index", async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(() => readCacheIndex(dir), CacheError, "no hdf5_index.json: not a cache");
  await assertRejects(() => readCacheIndex(`${dir}/nope`), CacheError, "no such directory");
  await Deno.remove(dir);
});
