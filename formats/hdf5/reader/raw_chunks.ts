/**
 * A sample's datasets as stored: dtype, shape, chunk shape, filters and the compressed chunk
 * bytes exactly as they are on disk, in the {@linkcode DatasetSpec} form the HDF5 writer takes.
 * Copying a sample from one shard to another through this is a copy of bytes, with no inflate
 * or deflate. Built on the native reader's structure parsers.
 *
 * @module
 */
import { FormatError } from "../../../errors.ts";
import { chunkGrid } from "../../chunks.ts";
import { DTYPES, elementCount } from "../../dtype.ts";
import { FilterId, MessageType, SUPERBLOCK_SIZE, UNDEF } from "../constants.ts";
import type { DatasetSpec, FilterSpec } from "../dataset_spec.ts";
import { ChunkIndex } from "./chunk_index.ts";
import { type DatasetHeader, parseObject } from "./dataset_header.ts";
import type { Filter } from "./filter_pipeline.ts";
import { GroupLookup, type SymbolTable } from "./group_lookup.ts";
import { readObjectHeader } from "./object_header.ts";
import { PositionedReader } from "./positioned_reader.ts";
import { parseSuperblock } from "./superblock.ts";

const encoder = new TextEncoder();

/** Chunks further apart than this are read one by one rather than as one span. */
const SPAN_SLACK_BYTES = 64 * 1024;

/** Options of {@linkcode RawChunkReader.open}. */
export interface RawChunkReaderOptions {
  /**
   * Read chunks into one buffer that the next {@linkcode RawChunkReader.read} reuses (no
   * allocation per dataset): for callers that write each sample before reading the next.
   */
  reuseBuffer?: boolean;
}

/** One sample group's datasets as stored, and the bytes read to get them. */
export interface RawSample {
  datasets: Record<string, DatasetSpec>;
  /** Compressed bytes of all chunks (what a copy moves). */
  storedBytes: number;
}

/**
 * Reads sample groups of one HDF5 file (the profile the native reader handles) as
 * {@linkcode DatasetSpec}s that keep the stored chunks, ready for `Hdf5FileWriter.writeDataset`.
 *
 * @example
 * ```ts
 * import { Hdf5FileWriter } from "../file_writer.ts";
 * import { RawChunkReader } from "./raw_chunks.ts";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".h5" });
 * const w = Hdf5FileWriter.create(path);
 * const chunk = new Uint8Array([1, 0, 2, 0]);
 * w.writeDataset("spk/utt/ids", {
 *   dtype: "int16",
 *   shape: [2],
 *   layout: { kind: "chunked", chunkShape: [2], filters: [], chunks: [chunk] },
 * });
 * w.close();
 * const r = RawChunkReader.open(path);
 * const { datasets } = r.read("spk/utt");
 * r.close();
 * const layout = datasets.ids.layout;
 * if (layout.kind !== "chunked" || layout.chunks[0][2] !== 2) throw new Error("not copied");
 * ```
 */
export class RawChunkReader {
  /** The file's path. */
  readonly path: string;
  #reader: PositionedReader;
  #groups: GroupLookup;
  #chunks: ChunkIndex;
  #root: SymbolTable;
  #reuse: boolean;
  #scratch = new Uint8Array(0);
  #used = 0;

  private constructor(
    path: string,
    reader: PositionedReader,
    root: SymbolTable,
    options: RawChunkReaderOptions,
  ) {
    this.path = path;
    this.#reader = reader;
    this.#root = root;
    this.#reuse = options.reuseBuffer ?? false;
    this.#groups = new GroupLookup(reader);
    this.#chunks = new ChunkIndex(reader);
  }

  /** Opens `path`; a file outside the native profile throws `UnsupportedHdf5Error`. */
  static open(path: string, options: RawChunkReaderOptions = {}): RawChunkReader {
    const file = Deno.openSync(path, { read: true });
    try {
      const size = file.statSync().size;
      const reader = new PositionedReader(file, path, size);
      const sb = parseSuperblock(
        reader.read(0, Math.min(size, SUPERBLOCK_SIZE + 4), "superblock"),
        path,
      );
      reader.limit = Math.min(sb.eof, size);
      const root = parseObject(readObjectHeader(reader, sb.rootHeader));
      if (root.kind !== "group" || !root.stab) {
        throw new FormatError(path, "the root group is not an old-style group");
      }
      return new RawChunkReader(path, reader, root.stab, options);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * The datasets of the group at `groupPath` (a sample key), chunks as stored. With
   * `reuseBuffer`, the chunk bytes are valid only until the next call.
   */
  read(groupPath: string): RawSample {
    this.#used = 0;
    let stab = this.#root;
    for (const name of groupPath.split("/").filter((p) => p.length > 0)) {
      const entry = this.#groups.find(stab, encoder.encode(name));
      const info = entry && parseObject(readObjectHeader(this.#reader, entry.header));
      if (!info || info.kind !== "group" || !info.stab) {
        throw this.#fail(groupPath, "no such old-style group");
      }
      stab = info.stab;
    }
    const datasets: Record<string, DatasetSpec> = {};
    let storedBytes = 0;
    for (const entry of this.#groups.list(stab)) {
      const where = `${groupPath}/${entry.name}`;
      const messages = readObjectHeader(this.#reader, entry.header);
      if (messages.some((m) => m.type === MessageType.ATTRIBUTE)) {
        throw this.#fail(where, "has attributes, which a raw chunk copy does not carry");
      }
      const info = parseObject(messages);
      if (info.kind !== "dataset") throw this.#fail(where, "is not a dataset");
      if ("unsupported" in info) throw this.#fail(where, info.unsupported);
      const spec = this.#dataset(where, info.dataset);
      for (const c of spec.layout.kind === "chunked" ? spec.layout.chunks : [spec.layout.bytes]) {
        storedBytes += c.byteLength;
      }
      datasets[entry.name] = spec;
    }
    return { datasets, storedBytes };
  }

  #dataset(where: string, d: DatasetHeader): DatasetSpec {
    const { dtype, shape, layout } = d;
    if (layout.kind === "contiguous") {
      const size = elementCount(shape) * DTYPES[dtype].size;
      if (layout.size !== size || (size > 0 && layout.address === UNDEF)) {
        throw this.#fail(where, `contiguous data of ${layout.size} bytes, expected ${size}`);
      }
      const bytes = size > 0 ? this.#bytes(layout.address, size, where) : new Uint8Array();
      return { dtype, shape, layout: { kind: "contiguous", bytes } };
    }
    const filters = d.filters.map((f) => this.#filter(where, f));
    const wanted = chunkOffsets(shape, layout.chunkShape);
    const refs = wanted.length && layout.btree !== UNDEF
      ? this.#chunks.find(layout.btree, shape.length, wanted)
      : [];
    if (refs.length !== wanted.length) {
      throw this.#fail(where, `${wanted.length - refs.length} chunk(s) never written`);
    }
    if (refs.some((r) => r.filterMask !== 0)) {
      throw this.#fail(where, "a chunk skipped one of its filters");
    }
    // Our writer (and h5py, mostly) lays a dataset's chunks out back to back: one read.
    let first = Infinity;
    let end = 0;
    let total = 0;
    for (const r of refs) {
      first = Math.min(first, r.address);
      end = Math.max(end, r.address + r.size);
      total += r.size;
    }
    const span = refs.length > 1 && end - first <= total + SPAN_SLACK_BYTES
      ? this.#bytes(first, end - first, `chunks of ${where}`)
      : undefined;
    const chunks = refs.map((r) =>
      span
        ? span.subarray(r.address - first, r.address - first + r.size)
        : this.#bytes(r.address, r.size, `chunks of ${where}`)
    );
    return {
      dtype,
      shape,
      layout: { kind: "chunked", chunkShape: layout.chunkShape, filters, chunks },
    };
  }

  /** `length` bytes at `address`: fresh, or the next free part of the reused buffer. */
  #bytes(address: number, length: number, what: string): Uint8Array {
    if (!this.#reuse) return this.#reader.read(address, length, what);
    if (this.#used + length > this.#scratch.length) {
      // Views already handed out for this sample keep the old buffer alive.
      this.#scratch = new Uint8Array(Math.max(2 * this.#scratch.length, length, 1 << 20));
      this.#used = 0;
    }
    const into = this.#scratch.subarray(this.#used, this.#used + length);
    this.#used += length;
    return this.#reader.readInto(address, into, what);
  }

  #filter(where: string, f: Filter): FilterSpec {
    if (f.id === FilterId.SHUFFLE) return { id: "shuffle" };
    if (f.id === FilterId.DEFLATE) return { id: "deflate", level: f.cd[0] ?? 0 };
    throw this.#fail(where, `filter ${f.id}`);
  }

  #fail(where: string, why: string): FormatError {
    return new FormatError(this.path, `cannot copy /${where} as stored: ${why}`);
  }

  /** Closes the file. */
  close(): void {
    this.#reader.close();
  }
}

/** Every chunk's offset (in elements), in row-major order of chunk index. */
function chunkOffsets(shape: readonly number[], chunkShape: readonly number[]): number[][] {
  const grid = chunkGrid(shape, chunkShape);
  const n = elementCount(grid);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const offset = new Array<number>(shape.length);
    let rest = i;
    for (let a = shape.length - 1; a >= 0; a--) {
      offset[a] = (rest % grid[a]) * chunkShape[a];
      rest = Math.floor(rest / grid[a]);
    }
    out.push(offset);
  }
  return out;
}
