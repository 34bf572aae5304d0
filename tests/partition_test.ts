import { assert, assertEquals } from "./helpers/assert.ts";
import { ConfigError } from "../errors.ts";
import { parsePartition, partitionKeys, partitionRange } from "../ops/partition.ts";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof ConfigError, String(e));
    return e;
  }
  throw new Error("no ConfigError thrown");
}

Deno.test("parsePartition reads i/N and refuses anything else, quoting the value", () => {
  assertEquals(parsePartition("0/1"), { index: 0, count: 1 });
  assertEquals(parsePartition(" 7 / 8 "), { index: 7, count: 8 });
  for (const bad of ["", "3", "1/0", "-1/4", "4/4", "9/4", "a/b", "1/2/3", "1.5/4", "0/100000"]) {
    const e = configError(() => parsePartition(bad));
    assertEquals(e.path, "--partition");
    assertEquals(e.value, bad);
  }
  const e = configError(() => parsePartition("4/4"));
  assert(e.message.includes("0 to 3"), e.message);
});

Deno.test("partitions tile the key list in whole shards; only the last range ends partial", () => {
  for (const total of [0, 1, 9, 10, 11, 99, 100, 101, 953]) {
    for (const count of [1, 2, 3, 7, 16]) {
      for (const S of [1, 3, 10]) {
        let next = 0;
        for (let index = 0; index < count; index++) {
          const r = partitionRange(total, { index, count }, S);
          assertEquals(r.start, next, `${total} keys, ${index}/${count}, S=${S}`);
          if (r.end < total) assertEquals(r.end % S, 0, `${total} keys ${index}/${count} S=${S}`);
          assertEquals(r.start <= r.end, true);
          next = r.end;
        }
        assertEquals(next, total);
      }
    }
  }
});

Deno.test("partition sizes differ by at most one shard", () => {
  const sizes = [0, 1, 2, 3, 4].map((index) => partitionRange(23 * 100, { index, count: 5 }, 100))
    .map((r) => (r.end - r.start) / 100);
  assertEquals(sizes.sort(), [4, 4, 5, 5, 5]);
});

Deno.test("partitionKeys takes the same slice whatever task computes it", () => {
  const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  const parts = [0, 1, 2].map((index) => partitionKeys(keys, { index, count: 3 }, 4));
  assertEquals(parts.flatMap((p) => p.keys), keys);
  assertEquals(parts.map((p) => p.keys.length), [8, 8, 9]);
  assertEquals(parts[2].range, { index: 2, count: 3, total: 25, start: 16, end: 25 });
});
