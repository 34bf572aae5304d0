import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";
import { ByteWriter } from "../formats/hdf5/byte_writer.ts";
import {
  chunkBtreeNodeSize,
  GROUP_BTREE_NODE_SIZE,
  SNOD_SIZE,
  UNDEF,
} from "../formats/hdf5/constants.ts";
import { encodeSuperblock } from "../formats/hdf5/superblock.ts";
import { encodeDatatype } from "../formats/hdf5/messages/datatype.ts";
import { encodeLocalHeap } from "../formats/hdf5/local_heap.ts";
import { encodeSymbolNodes } from "../formats/hdf5/symbol_table_node.ts";
import { encodeObjectHeader } from "../formats/hdf5/object_header.ts";
import { dataspaceMessage } from "../formats/hdf5/messages/dataspace.ts";
import { datatypeMessage } from "../formats/hdf5/messages/datatype.ts";
import { fillValueMessage } from "../formats/hdf5/messages/fill_value.ts";
import { filterPipelineMessage } from "../formats/hdf5/messages/filter_pipeline.ts";
import { chunkedLayoutMessage } from "../formats/hdf5/messages/data_layout.ts";
import { attributeMessage } from "../formats/hdf5/messages/attribute.ts";
import { encodeChunkedMetadata, validateDatasetSpec } from "../formats/hdf5/dataset_encoder.ts";
import { compareNames, encodeGroup } from "../formats/hdf5/group_encoder.ts";
import { encodeChunkBtree } from "../formats/hdf5/chunk_btree.ts";
import type { DatasetSpec } from "../formats/hdf5/dataset_spec.ts";

function hex(s: string): Uint8Array {
  return new Uint8Array(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
}

const u64 = (n: number) => {
  const w = new ByteWriter(8);
  return [...w.u64(n).bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
};

Deno.test("ByteWriter writes little-endian integers, UNDEF as all ones, and 2^53-1 exactly", () => {
  const w = new ByteWriter(23);
  w.u8(0xab).u16(0x1234).u32(0xdeadbeef).u64(UNDEF).u64(2 ** 53 - 1);
  assertEquals(w.bytes, hex("ab 3412 efbeadde ffffffffffffffff ffffffffffff1f00"));
});

Deno.test("superblock v0 matches HDF5_PROFILE.md §6 byte for byte", () => {
  const sb = encodeSuperblock({
    eof: 0x0b8258,
    rootHeader: 0x0b8200,
    rootBtree: 0x0b7fe0,
    rootHeap: 0x0b7c70,
  });
  assertEquals(
    sb,
    hex(`89 48 44 46 0d 0a 1a 0a  00 00 00 00 00 08 08 00
         04 00 10 00 00 00 00 00  00 00 00 00 00 00 00 00
         ff ff ff ff ff ff ff ff  58 82 0b 00 00 00 00 00
         ff ff ff ff ff ff ff ff  00 00 00 00 00 00 00 00
         00 82 0b 00 00 00 00 00  01 00 00 00 00 00 00 00
         e0 7f 0b 00 00 00 00 00  70 7c 0b 00 00 00 00 00`),
  );
});

Deno.test("float16 datatype message is byte-identical to h5py's '<f2'", () => {
  assertEquals(
    encodeDatatype("float16"),
    hex("11 20 0F 00 02 00 00 00 00 00 10 00 0A 05 00 0A 0F 00 00 00"),
  );
  assertEquals(encodeDatatype("float32").subarray(0, 4), hex("11 20 1f 00"));
  assertEquals(encodeDatatype("float64").subarray(12, 20), hex("34 0b 00 34 ff 03 00 00"));
  assertEquals(encodeDatatype("int32"), hex("10 08 00 00 04 00 00 00 00 00 20 00"));
  assertEquals(encodeDatatype("uint64"), hex("10 00 00 00 08 00 00 00 00 00 40 00"));
});

Deno.test("bool datatype is h5py's enum over int8 with FALSE=0, TRUE=1", () => {
  // Copied from a file h5py 3.7 wrote for np.array([True, False, True]).
  assertEquals(
    encodeDatatype("bool"),
    hex(
      "18 02 00 00 01 00 00 00 10 08 00 00 01 00 00 00 00 00 08 00 46 41 4c 53 45 00 00 00 54 52 55 45 00 00 00 00 00 01",
    ),
  );
});

Deno.test('local heap holds "" at offset 0, names padded to 8, free list 1', () => {
  const enc = new TextEncoder();
  const heap = encodeLocalHeap(["big", "big2", "cube"].map((n) => enc.encode(n)), 0x0b7c70);
  assertEquals(heap.offsets, [8, 16, 24]);
  assertEquals(
    heap.bytes,
    hex(
      `48 45 41 50 00 00 00 00  20 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00  90 7c 0b 00 00 00 00 00
         00 00 00 00 00 00 00 00  62 69 67 00 00 00 00 00  62 69 67 32 00 00 00 00  63 75 62 65 00 00 00 00`,
    ),
  );
});

Deno.test("SNODs are full-size with a SNOD v1 header and the used count", () => {
  const entries = Array.from(
    { length: 9 },
    (_, i) => ({ nameOffset: 8 * (i + 1), header: 1000 + i }),
  );
  const bytes = encodeSymbolNodes(entries);
  assertEquals(bytes.length, 2 * SNOD_SIZE);
  assertEquals(bytes.subarray(0, 8), hex("53 4e 4f 44 01 00 08 00"));
  assertEquals(bytes.subarray(SNOD_SIZE, SNOD_SIZE + 8), hex("53 4e 4f 44 01 00 01 00"));
  assertEquals(
    bytes.subarray(SNOD_SIZE + 8, SNOD_SIZE + 48),
    hex(`${u64(72)} ${u64(1008)} 00000000 00000000 ${"00".repeat(16)}`),
  );
  assert(bytes.subarray(SNOD_SIZE + 48).every((b) => b === 0));
});

const DATASET_HEADER = `01 00 05 00 01 00 00 00 a8 00 00 00 00 00 00 00
  01 00 28 00 00 00 00 00  01 02 01 00 00 00 00 00  ${u64(37)} ${u64(64)} MAX0 ${u64(64)}
  03 00 18 00 01 00 00 00  11 20 0f 00 02 00 00 00 00 00 10 00 0a 05 00 0a 0f 00 00 00 00 00 00 00
  05 00 08 00 01 00 00 00  02 03 02 01 00 00 00 00
  0b 00 20 00 01 00 00 00  01 01 00 00 00 00 00 00  01 00 08 00 01 00 01 00 64 65 66 6c 61 74 65 00 04 00 00 00 00 00 00 00
  08 00 18 00 00 00 00 00  03 02 03 BTREE 10 00 00 00 40 00 00 00 02 00 00 00 00`;

Deno.test("dataset header matches HDF5_PROFILE.md §6 ((37,64) f16, chunk (16,64), deflate 4)", () => {
  const header = encodeObjectHeader([
    dataspaceMessage([37, 64]),
    datatypeMessage("float16"),
    fillValueMessage(true),
    filterPipelineMessage([{ id: "deflate", level: 4 }], 2),
    chunkedLayoutMessage(0x1234, [16, 64], 2),
  ]);
  assertEquals(header, hex(DATASET_HEADER.replace("MAX0", u64(37)).replace("BTREE", u64(0x1234))));
  assertEquals(header.length, 184);
});

Deno.test("the writer's chunked dataset header differs from §6 only by the unlimited axis 0", () => {
  const spec: DatasetSpec = {
    dtype: "float16",
    shape: [37, 64],
    layout: {
      kind: "chunked",
      chunkShape: [16, 64],
      filters: [{ id: "deflate", level: 4 }],
      chunks: [new Uint8Array(5), new Uint8Array(6), new Uint8Array(7)],
    },
  };
  const meta = encodeChunkedMetadata(spec, [100, 105, 111], 4096);
  assertEquals(meta.header, 4096 + chunkBtreeNodeSize(2));
  assertEquals(
    meta.bytes.subarray(meta.header - 4096),
    hex(DATASET_HEADER.replace("MAX0", u64(UNDEF)).replace("BTREE", u64(4096))),
  );
});

Deno.test("chunk B-tree leaf keys hold each chunk's size and element offset; the closing key lies past the last chunk", () => {
  // (37, 64) in chunks (16, 32): grid 3 x 2.
  const sizes = [11, 12, 13, 14, 15, 16];
  const tree = encodeChunkBtree({
    shape: [37, 64],
    chunkShape: [16, 32],
    addresses: [1, 2, 3, 4, 5, 6],
    sizes,
  }, 8000);
  const v = new DataView(tree.bytes.buffer);
  assertEquals(tree.bytes.length, 2616);
  assertEquals(tree.root, 8000);
  assertEquals(tree.bytes.subarray(0, 8), hex("54 52 45 45 01 00 06 00"));
  const key = (j: number) => {
    const at = 24 + j * 40;
    return [
      v.getUint32(at, true),
      v.getUint32(at + 4, true),
      Number(v.getBigUint64(at + 8, true)),
      Number(v.getBigUint64(at + 16, true)),
      Number(v.getBigUint64(at + 24, true)),
    ];
  };
  assertEquals(key(0), [11, 0, 0, 0, 0]);
  assertEquals(key(1), [12, 0, 0, 32, 0]);
  assertEquals(key(5), [16, 0, 32, 32, 0]);
  assertEquals(key(6), [0, 0, 48, 64, 0]);
  assertEquals(Number(v.getBigUint64(24 + 5 * 40 + 32, true)), 6);
});

Deno.test("chunk B-tree with 7000 chunks has 110 full-size leaves, 2 internal nodes and a root, siblings linked", () => {
  const n = 7000;
  const tree = encodeChunkBtree({
    shape: [n],
    chunkShape: [1],
    addresses: Array.from({ length: n }, (_, i) => i * 10),
    sizes: new Array(n).fill(10),
  }, 0);
  const size = chunkBtreeNodeSize(1);
  assertEquals(tree.bytes.length, (110 + 2 + 1) * size);
  assertEquals(tree.root, 112 * size);
  const v = new DataView(tree.bytes.buffer);
  assertEquals([v.getUint8(tree.root + 5), v.getUint16(tree.root + 6, true)], [2, 2]);
  // Leaf 1: left sibling leaf 0, right sibling leaf 2.
  assertEquals([Number(v.getBigInt64(size + 8, true)), Number(v.getBigInt64(size + 16, true))], [
    0,
    2 * size,
  ]);
  assertEquals(v.getBigInt64(8, true), -1n);
  // Last leaf holds 7000 - 109*64 = 24 chunks and closes at offset 7000.
  const last = 109 * size;
  assertEquals(v.getUint16(last + 6, true), 24);
  assertEquals(Number(v.getBigUint64(last + 24 + 24 * 32 + 8, true)), 7000);
});

Deno.test("group B-tree: empty group has one empty level-0 root; keys are last names of each SNOD", () => {
  const empty = encodeGroup([], [], 800);
  // heap 32 + 8, then the 544-byte node, then a 40-byte header.
  assertEquals(empty.bytes.length, 40 + GROUP_BTREE_NODE_SIZE + 40);
  assertEquals(empty.btree, 840);
  assertEquals(empty.header, 840 + GROUP_BTREE_NODE_SIZE);
  assertEquals(empty.bytes.subarray(40, 48), hex("54 52 45 45 00 00 00 00"));
  const enc = new TextEncoder();
  const names = Array.from({ length: 20 }, (_, i) => enc.encode(`n${String(i).padStart(2, "0")}`));
  const g = encodeGroup(names.map((name, i) => ({ name, header: i })), [], 0);
  const v = new DataView(g.bytes.buffer);
  const at = g.btree;
  assertEquals(v.getUint16(at + 6, true), 3);
  // Keys: "" then the last name of SNOD 0 (n07 at heap offset 8 + 7*8), SNOD 1 (n15), SNOD 2 (n19).
  assertEquals([0, 1, 2, 3].map((j) => Number(v.getBigUint64(at + 24 + 16 * j, true))), [
    0,
    64,
    128,
    160,
  ]);
});

Deno.test("compareNames sorts by UTF-8 bytes: U+FF5E before an emoji, unlike JS's UTF-16 sort", () => {
  const enc = new TextEncoder();
  const names = ["😀", "\uFF5E", "11", "1034", "103", "b", "a"];
  const sorted = names.map((n) => enc.encode(n)).sort(compareNames).map((b) =>
    new TextDecoder().decode(b)
  );
  assertEquals(sorted, ["103", "1034", "11", "a", "b", "\uFF5E", "😀"]);
  assertEquals([...names].sort().slice(-2), ["😀", "\uFF5E"]);
});

Deno.test("attribute message v1 for a scalar int matches h5py's layout", () => {
  const m = attributeMessage("x", 7);
  assertEquals(m.data.subarray(0, 16), hex("01 00 02 00 0c 00 08 00 78 00 00 00 00 00 00 00"));
  assertEquals(m.data.subarray(16, 28), hex("10 08 00 00 08 00 00 00 00 00 40 00"));
  assertEquals(m.data.length, 8 + 8 + 16 + 8 + 8);
  assertThrows(() => attributeMessage("ñ", 1), RangeError);
});

Deno.test("validateDatasetSpec refuses wrong chunk counts, zero chunk dims, oversize chunks and bad levels", () => {
  const base = (over: Partial<DatasetSpec["layout"]>): DatasetSpec => ({
    dtype: "int16",
    shape: [10, 4],
    layout: {
      kind: "chunked",
      chunkShape: [4, 4],
      filters: [],
      chunks: [1, 2, 3].map(() => new Uint8Array(32)),
      ...over,
    } as DatasetSpec["layout"],
  });
  validateDatasetSpec("ok", base({}));
  assertThrows(() => validateDatasetSpec("d", base({ chunks: [new Uint8Array(32)] })), /needs 3/);
  assertThrows(() => validateDatasetSpec("d", base({ chunkShape: [0, 4] })), /chunkShape/);
  assertThrows(() => validateDatasetSpec("d", base({ chunkShape: [4, 8] })), /exceeds shape/);
  assertThrows(
    () => validateDatasetSpec("d", base({ filters: [{ id: "deflate", level: 12 }] })),
    /level 12/,
  );
  assertThrows(
    () =>
      validateDatasetSpec("d", base({ filters: [{ id: "deflate", level: 4 }, { id: "shuffle" }] })),
    /shuffle then deflate/,
  );
  assertThrows(
    () => validateDatasetSpec("d", base({ chunks: [32, 32, 16].map((n) => new Uint8Array(n)) })),
    /chunk 2 is 16 bytes; a full chunk is 32/,
  );
  assertThrows(
    () =>
      validateDatasetSpec("s", {
        dtype: "float32",
        shape: [3],
        layout: { kind: "contiguous", bytes: new Uint8Array(8) },
      }),
    /needs 12/,
  );
});
