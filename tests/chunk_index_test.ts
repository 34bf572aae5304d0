import { assert, assertEquals } from "./helpers/assert.ts";
import { FormatError } from "../errors.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import { PositionedReader } from "../formats/hdf5/positioned_reader.ts";
import { ChunkIndex } from "../formats/hdf5/reader/chunk_index.ts";
import { NativeH5File } from "../formats/hdf5/reader/native_h5_file.ts";
import { overlappingChunks } from "../formats/hdf5/reader/hyperslab.ts";
import { seededRandom as rng } from "./helpers/random.ts";
import { shardRegions } from "./helpers/shard_damage.ts";

Deno.test("ChunkIndex finds the same chunks with a node cache of one byte as with a roomy one, through a three-level tree", () => {
  const dir = Deno.makeTempDirSync({ prefix: "chunk_index_" });
  try {
    const file = `${dir}/tree.h5`;
    // 7000 chunks of 1x4 int32: 110 leaves, 2 internal nodes and a root (fanout 64).
    const shape = [3500, 8];
    const chunkShape = [1, 4];
    const w = Hdf5FileWriter.create(file);
    const chunks = Array.from(
      { length: 7000 },
      (_, i) => new Uint8Array(new Int32Array([i, i, i, i]).buffer),
    );
    w.writeDataset("d", {
      dtype: "int32",
      shape,
      layout: { kind: "chunked", chunkShape, filters: [], chunks },
    });
    w.close();
    const f = NativeH5File.open(file);
    const all = f.chunks("/d");
    f.close();
    assertEquals(all.length, 7000);
    const btree = readBtreeAddress(file);
    const fh = Deno.openSync(file);
    try {
      const reader = new PositionedReader(fh, file, fh.statSync().size);
      const d = { btree, rank: 2, chunkBytes: 16 };
      const roomy = new ChunkIndex(reader, 32);
      const tight = new ChunkIndex(reader, 32, 1);
      assertEquals(tight.list(d), roomy.list(d));
      assertEquals(roomy.list(d).map((r) => r.address), all.map((r) => r.address));
      const r = rng(5);
      for (let probe = 0; probe < 200; probe++) {
        const start = [Math.floor(r() * 3500), Math.floor(r() * 8)];
        const count = [
          1 + Math.floor(r() * Math.min(40, 3500 - start[0])),
          1 + Math.floor(r() * (8 - start[1])),
        ];
        const wanted = overlappingChunks(start, count, chunkShape);
        const a = tight.find(d, wanted);
        const b = roomy.find(d, wanted);
        assertEquals(a, b, `probe ${probe}`);
        assertEquals(a.length, wanted.length, `probe ${probe}: every chunk was written`);
        // Chunk (row, col) is number row * 2 + col / 4 in key order.
        a.forEach((ref, i) =>
          assertEquals(
            ref.address,
            all[ref.offset[0] * 2 + ref.offset[1] / 4].address,
            `probe ${probe} chunk ${i}`,
          )
        );
      }
      // A node read for a dataset of another rank is parsed and checked for that rank, as a
      // fresh index would, not served as cached: hostile files may point two datasets at one
      // tree.
      const outcome = (index: ChunkIndex, other: typeof d) => {
        try {
          return JSON.stringify(index.list(other));
        } catch (e) {
          assert(e instanceof FormatError, `rank ${other.rank}: ${e}`);
          return e.message;
        }
      };
      for (const rank of [1, 3]) {
        const other = { btree, rank, chunkBytes: 16 };
        assertEquals(
          outcome(roomy, other),
          outcome(new ChunkIndex(reader, 32), other),
          `rank ${rank}`,
        );
      }
      assertEquals(roomy.list(d).map((r) => r.address), all.map((r) => r.address));
      // A chunk never written (outside the extent) is left out, not made up.
      assert(roomy.find(d, [[3500, 0], [4000, 4]]).length === 0);
    } finally {
      fh.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The root of `/d`'s chunk B-tree, found by the damage tests' own walk of the file. */
function readBtreeAddress(file: string): number {
  const bytes = Deno.readFileSync(file);
  const root = shardRegions(bytes).find((r) => r.kind === "chunk B-tree node" && r.owner === "/d");
  assert(root, "a chunk B-tree for /d");
  assertEquals(bytes[root.offset + 5], 2, "a three-level tree");
  return root.offset;
}
