/**
 * Local heap (spec §III.D): a group's link names. The data segment is read whole once and
 * names are compared in place as UTF-8 bytes (HDF5 orders them with strcmp).
 *
 * @module
 */
import { HEAP_FREE_NULL, LOCAL_HEAP_HEADER_SIZE } from "../constants.ts";
import { type PositionedReader, signature, u64, viewOf } from "../positioned_reader.ts";

const decoder = new TextDecoder();

/** The data segment of the local heap whose header is at `address`. */
export function readLocalHeap(reader: PositionedReader, address: number): Uint8Array {
  const head = viewOf(reader.read(address, LOCAL_HEAP_HEADER_SIZE, "local heap"));
  if (signature(head, 0) !== "HEAP" || head.getUint8(4) !== 0) {
    throw reader.damaged("local heap", address, "no HEAP signature of version 0");
  }
  const data = reader.read(u64(head, 24), u64(head, 8), "local heap data segment");
  if (data.length === 0) throw reader.damaged("local heap", address, "empty data segment");
  checkFreeList(reader, address, data, u64(head, 16));
  return data;
}

/**
 * Walks the heap's free list as HDF5 does when it loads a heap (each block inside the data
 * segment, none linking to offset 0), so a heap HDF5 refuses is refused here too.
 */
function checkFreeList(
  reader: PositionedReader,
  address: number,
  data: Uint8Array,
  first: number,
): void {
  const v = viewOf(data);
  let block = first;
  for (let n = 0; block !== HEAP_FREE_NULL; n++) {
    if (block >= data.length || block + 16 > data.length || n > data.length / 16) {
      throw reader.damaged(
        "local heap",
        address,
        `free list block at ${block} is outside the heap`,
      );
    }
    const next = u64(v, block);
    const size = u64(v, block + 8);
    if (next === 0) throw reader.damaged("local heap", address, "free list links to offset 0");
    if (block + size > data.length) {
      throw reader.damaged("local heap", address, `free block at ${block} overruns the heap`);
    }
    block = next;
  }
}

/**
 * Throws FormatError unless `offset` is inside the heap and a NUL ends the name there, as
 * HDF5 requires before it compares a name.
 */
export function checkName(
  reader: PositionedReader,
  heap: Uint8Array,
  heapAddress: number,
  offset: number,
  what: string,
): void {
  if (offset >= heap.length || heap.indexOf(0, offset) < 0) {
    throw reader.damaged(
      "local heap",
      heapAddress,
      `${what} names offset ${offset}, outside its ${heap.length}-byte data segment`,
    );
  }
}

/** strcmp of `name` against the NUL-terminated string at `offset` of `heap`. */
export function compareName(name: Uint8Array, heap: Uint8Array, offset: number): number {
  for (let i = 0;; i++) {
    const a = i < name.length ? name[i] : 0;
    const b = offset + i < heap.length ? heap[offset + i] : 0;
    if (a !== b) return a - b;
    if (a === 0) return 0;
  }
}

/** The name at `offset` of `heap`. */
export function nameAt(heap: Uint8Array, offset: number): string {
  let end = offset;
  while (end < heap.length && heap[end] !== 0) end++;
  return decoder.decode(heap.subarray(offset, end));
}
