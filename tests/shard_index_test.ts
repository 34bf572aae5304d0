import { assertEquals, assertThrows } from "./helpers/assert.ts";
import {
  emptyIndex,
  IndexBuilder,
  parseIndex,
  serializeIndex,
  shardFileName,
  shardNumber,
} from "../formats/shard_index.ts";
import { FormatError } from "../errors.ts";

Deno.test("shardFileName is features_ + 5 digits, 1-based", () => {
  assertEquals(shardFileName(1), "features_00001.h5");
  assertEquals(shardFileName(12345), "features_12345.h5");
  assertEquals(shardNumber("features_00002.h5"), 2);
  assertEquals(shardNumber("features_2.h5"), undefined);
  assertThrows(() => shardFileName(0), RangeError);
});

Deno.test("IndexBuilder serializes exactly like JSON.stringify with 2 spaces, across segments", () => {
  const b = new IndexBuilder(emptyIndex(3, true));
  assertEquals(b.serialize(), serializeIndex(b.toJSON()));
  for (let i = 0; i < 2500; i++) {
    const key = i % 7 === 0 ? `train-clean-100/${i}/ü😀/${i}` : `LJ${i}`;
    b.set(key, { file_idx: 1 + Math.floor(i / 3), group_name: key });
  }
  b.currentFileIdx = 834;
  b.currentFileCount = 1;
  const first = b.serialize();
  assertEquals(first, serializeIndex(b.toJSON()));
  // An update in an early segment keeps the key's position and invalidates that segment only.
  b.set("LJ1", { file_idx: 900, group_name: "LJ1" });
  const second = b.serialize();
  assertEquals(second, serializeIndex(b.toJSON()));
  assertEquals(JSON.parse(second).sample_index.LJ1.file_idx, 900);
  assertEquals(Object.keys(JSON.parse(second).sample_index)[1], "LJ1");
});

Deno.test("parseIndex round-trips and names the bad field", () => {
  const b = new IndexBuilder(emptyIndex(20000, false));
  b.set("a/b", { file_idx: 1, group_name: "a/b" });
  assertEquals(parseIndex(b.serialize(), "x.json"), b.toJSON());
  assertThrows(() => parseIndex("{", "idx.json"), FormatError);
  assertThrows(
    () => parseIndex(JSON.stringify({ ...b.toJSON(), samples_per_file: 0 }), "idx.json"),
    /idx.json: samples_per_file: expected an integer >= 1, got 0/,
  );
  assertThrows(
    () =>
      parseIndex(
        JSON.stringify({ ...b.toJSON(), sample_index: { k: { file_idx: 0, group_name: "k" } } }),
        "idx.json",
      ),
    /sample_index\["k"\]/,
  );
});

Deno.test("parseIndex refuses an entry whose group_name is not its key, naming the key", () => {
  const index = emptyIndex(2, false);
  index.sample_index["LJ001-0001"] = { file_idx: 1, group_name: "/LJ001-0002" };
  index.sample_index["LJ001-0002"] = { file_idx: 1, group_name: "LJ001-0002" };
  index.current_file_count = 2;
  assertThrows(
    () => parseIndex(JSON.stringify(index), "idx.json"),
    FormatError,
    'idx.json: sample_index["LJ001-0001"]: group_name "/LJ001-0002" is not the key',
  );
});
