/**
 * A read-only HDF5 file of the "earliest" profile (ours, and h5py's default files) read in
 * TypeScript: superblock 0/1, v1 object headers, old-style groups, contiguous or chunked
 * datasets with deflate and shuffle. Lookups descend one path (never the whole tree); parsed
 * metadata is cached in bounded LRUs. Anything outside the profile throws
 * {@linkcode UnsupportedHdf5Error}, on which callers fall back to h5wasm; damage (a size or
 * address past the file's end, a broken signature, keys out of order, a chunk dim of 0, a
 * missing chunk) throws {@linkcode FormatError} naming the file, the dataset and the offset,
 * before anything of a size read from the file is allocated.
 *
 * @module
 */
import type { ParallelInflate } from "../../parallel_inflate.ts";
import { FormatError, withWhere } from "../../../errors.ts";
import { allocate, type DType, DTYPES, elementCount, viewAs } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { SUPERBLOCK_SIZE, UNDEF } from "../constants.ts";
import { type NamedFilter, namedFilter } from "../messages/filter_pipeline.ts";
import { type DatasetHeader, type ObjectInfo, parseObject } from "./dataset_header.ts";
import { maxDatasetBytes } from "./limits.ts";
import type { SymbolTable } from "../messages/symbol_table_message.ts";
import { GroupLookup } from "./group_lookup.ts";
import { DatasetReader } from "./dataset_reader.ts";
import type { ChunkRef } from "./chunk_index.ts";
import { checkSlab } from "./hyperslab.ts";
import { Lru } from "./lru.ts";
import { readObjectHeader } from "./object_header.ts";
import { PositionedReader } from "../positioned_reader.ts";
import { parseSuperblock, type Superblock } from "./superblock.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";

/** What a link points at. */
export type NativeObjectKind = "group" | "dataset" | "other";

/** A hyperslab: `start` and `count` per axis (defaults: from 0, to the end). */
export interface NativeReadOptions {
  start?: number[];
  count?: number[];
  /** Inflate a large read's chunks on two threads (the cache reader's helper). */
  parallel?: ParallelInflate;
}

/** Resolved objects kept per file. */
const MAX_OBJECTS = 1024;

const encoder = new TextEncoder();

/** An HDF5 file open for native reads. Close it when done (it holds a file handle). */
export class NativeH5File {
  /** The file's path on disk. */
  readonly path: string;
  #reader: PositionedReader;
  #groups: GroupLookup;
  #data: DatasetReader;
  #root: SymbolTable;
  #objects = new Lru<string, ObjectInfo | null>(MAX_OBJECTS);
  /** Member names by group symbol table (`btree:heap`). */
  #members = new Lru<string, string[]>(MAX_OBJECTS);
  #open = true;

  private constructor(path: string, reader: PositionedReader, root: SymbolTable, sb: Superblock) {
    this.path = path;
    this.#reader = reader;
    this.#root = root;
    this.#groups = new GroupLookup(reader, sb);
    this.#data = new DatasetReader(reader, sb.chunkK);
  }

  /**
   * Opens `path`. Throws {@linkcode UnsupportedHdf5Error} for a file outside the native profile
   * (superblock 2+, a new-style root group), FormatError for one that is missing, not HDF5,
   * truncated or damaged.
   *
   * @example
   * ```ts
   * import { pack } from "../../../mod.ts";
   * import { NativeH5File } from "./native_h5_file.ts";
   * const data = Float32Array.from({ length: 40 }, (_, i) => i);
   * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [20, 2], data } } };
   * const dir = await Deno.makeTempDir();
   * await pack(ReadableStream.from([sample]), dir);
   * const file = NativeH5File.open(`${dir}/features_00001.h5`);
   * const t = file.read("a/x", { start: [5, 0], count: [2, 2] });
   * file.close();
   * if (t.shape.join() !== "2,2" || t.data[0] !== 10) throw new Error("frames 5 and 6");
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static open(path: string): NativeH5File {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch (e) {
      throw new FormatError(path, `cannot open (${(e as Error).message})`, { cause: e });
    }
    try {
      const size = file.statSync().size;
      const reader = new PositionedReader(file, path, size);
      const head = reader.read(0, Math.min(size, SUPERBLOCK_SIZE + 4), "superblock");
      const sb = parseSuperblock(head, path);
      if (sb.eof > size) {
        throw new FormatError(path, `truncated: ${size} bytes, the superblock says ${sb.eof}`, {
          offset: size,
        });
      }
      reader.limit = sb.eof;
      // The root entry's cached B-tree and heap go stale when HDF5 converts the root to a
      // new-style group (h5py adding a UTF-8 name): only the header is authoritative.
      const info = parseHeader(reader, sb.rootHeader);
      if (info.kind !== "group" || !info.stab) {
        throw new UnsupportedHdf5Error(path, "root group is not an old-style group");
      }
      return new NativeH5File(path, reader, info.stab, sb);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** True until {@linkcode close}. */
  get isOpen(): boolean {
    return this.#open;
  }

  #check(): void {
    if (!this.#open) throw new FormatError(this.path, "file is closed");
  }

  /** The object at `path`, or null when nothing is linked there. */
  #resolve(path: string): ObjectInfo | null {
    this.#check();
    const parts = path.split("/").filter((p) => p.length > 0);
    const key = parts.join("/");
    const hit = this.#objects.get(key);
    if (hit !== undefined) return hit;
    let info: ObjectInfo | null;
    try {
      info = this.#lookup(parts);
    } catch (e) {
      throw withWhere(e, { dataset: `/${key}` });
    }
    this.#objects.set(key, info);
    return info;
  }

  #lookup(parts: string[]): ObjectInfo | null {
    if (parts.length === 0) return { kind: "group", stab: this.#root };
    const parentKey = parts.slice(0, -1).join("/");
    const parent = this.#objects.get(parentKey) ?? this.#resolve(parentKey);
    if (!parent || parent.kind !== "group") return null;
    if (!parent.stab) {
      throw new UnsupportedHdf5Error(this.path, `/${parentKey} is a new-style group`);
    }
    const entry = this.#groups.find(parent.stab, encoder.encode(parts[parts.length - 1]));
    if (!entry) return null;
    // Not the entry's cached symbol table: it goes stale when a group turns new-style.
    return parseHeader(this.#reader, entry.header);
  }

  /** What `path` is, or undefined when nothing is linked there. */
  kind(path: string): NativeObjectKind | undefined {
    return this.#resolve(path)?.kind;
  }

  /** The names of a group's members, in HDF5's (UTF-8 byte) order. */
  names(groupPath = "/"): string[] {
    const info = this.#resolve(groupPath);
    if (!info || info.kind !== "group") {
      throw new FormatError(this.path, `cannot list group ${abs(groupPath)}: no such group`);
    }
    if (!info.stab) throw new UnsupportedHdf5Error(this.path, `${abs(groupPath)} is new-style`);
    // Listed once and kept (as many groups as headers are): a sample read lists its group each time.
    const key = `${info.stab.btree}:${info.stab.heap}`;
    let names = this.#members.get(key);
    if (!names) {
      names = this.#groups.list(info.stab).map((e) => e.name);
      this.#members.set(key, names);
    }
    return names.slice();
  }

  #dataset(path: string): DatasetHeader {
    const info = this.#resolve(path);
    if (!info || info.kind !== "dataset") {
      throw new FormatError(this.path, `no readable dataset at ${abs(path)}`);
    }
    if ("unsupported" in info) {
      throw new UnsupportedHdf5Error(this.path, `dataset ${abs(path)}: ${info.unsupported}`);
    }
    const d = info.dataset;
    const bytes = elementCount(d.shape) * DTYPES[d.dtype].size;
    if (d.layout.kind === "contiguous" && d.layout.address !== UNDEF && d.layout.size !== bytes) {
      // HDF5 refuses this too: the dataspace and the stored data disagree.
      throw new FormatError(
        this.path,
        `dataset ${abs(path)} of shape ${JSON.stringify(d.shape)} needs ${bytes} bytes but ` +
          `its contiguous storage holds ${d.layout.size}`,
        { dataset: abs(path), offset: d.layout.address },
      );
    }
    if (bytes > maxDatasetBytes(this.#reader.limit)) {
      throw new FormatError(
        this.path,
        `dataset ${abs(path)} of shape ${JSON.stringify(d.shape)} declares ${bytes} bytes, ` +
          `more than this ${this.#reader.limit}-byte file can hold`,
        { dataset: abs(path) },
      );
    }
    return d;
  }

  /** Dtype, shape and chunk shape of the dataset at `path`. */
  describe(path: string): { dtype: DType; shape: number[]; chunkShape?: number[] } {
    const d = this.#dataset(path);
    const out: { dtype: DType; shape: number[]; chunkShape?: number[] } = {
      dtype: d.dtype,
      shape: d.shape.slice(),
    };
    if (d.layout.kind === "chunked") out.chunkShape = d.layout.chunkShape.slice();
    return out;
  }

  /** The filter pipeline of the dataset at `path`, in write order, named as HDF5 names them. */
  filters(path: string): NamedFilter[] {
    return this.#dataset(path).filters.map(namedFilter);
  }

  /**
   * Every stored chunk of the chunked dataset at `path` (offset, filter mask, address and
   * stored size), in B-tree key order; empty for a contiguous dataset. For copying chunks as
   * they are, without inflating them.
   */
  chunks(path: string): ChunkRef[] {
    return this.#data.chunks(this.#dataset(path));
  }

  /**
   * Fills `into` with the bytes at `address` as they are stored (a chunk that
   * {@linkcode chunks} listed, say), and returns it. Bytes past the file's end throw
   * FormatError naming the file, `what` and the offset.
   */
  readStored(address: number, into: Uint8Array, what: string): Uint8Array {
    this.#check();
    return this.#reader.readInto(address, into, what);
  }

  /**
   * Reads the dataset at `path`, whole or the hyperslab `start`/`count`. Only the chunks the
   * hyperslab overlaps are read and inflated. Damage (a chunk that does not inflate, is missing
   * or decodes to the wrong size) throws FormatError naming file, dataset and offset; a
   * hyperslab outside the dataset throws RangeError.
   */
  read(path: string, options: NativeReadOptions = {}): Tensor {
    const d = this.#dataset(path);
    const { dtype, shape } = d;
    const p = abs(path);
    let start = shape.map(() => 0);
    let count = shape;
    if ((options.start || options.count) && shape.length > 0) {
      start = options.start ?? start;
      count = options.count ?? shape.map((n, i) => n - start[i]);
      checkSlab(this.path, p, shape, start, count);
    }
    const es = DTYPES[dtype].size;
    const bytes = elementCount(count) * es;
    if (bytes === 0) {
      // An empty dataset stores nothing: chunks there mean its extent was damaged.
      if (count === shape) this.#data.checkNoChunks(p, d);
      return { dtype, shape: count.slice(), data: allocate(dtype, 0) };
    }
    const out = new Uint8Array(bytes);
    this.#data.read(p, d, start, count, out, options.parallel);
    return { dtype, shape: count.slice(), data: viewAs(dtype, out) };
  }

  /** Closes the file; later calls throw. Closing twice is harmless. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#objects.clear();
    this.#members.clear();
    this.#reader.close();
  }
}

/** The object whose header is at `address`; a message cut short is damage at that header. */
function parseHeader(reader: PositionedReader, address: number): ObjectInfo {
  const damaged = (why: string) => reader.damaged("object header", address, why);
  try {
    return parseObject(readObjectHeader(reader, address), damaged);
  } catch (e) {
    if (e instanceof RangeError) throw damaged(`a message is cut short (${e.message})`);
    throw e;
  }
}

function abs(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}
