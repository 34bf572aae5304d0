/**
 * A sample's datasets as stored: dtype, shape, chunk shape, filters and the compressed chunk
 * bytes exactly as they are on disk, in the {@linkcode DatasetSpec} form the HDF5 writer takes.
 * Copying a sample from one shard to another through this is a copy of bytes, with no inflate
 * or deflate. The structure and the chunk bytes come from the native reader
 * ({@linkcode NativeH5File}), through its one handle on the file.
 *
 * @module
 */
import { FormatError } from "../../../errors.ts";
import { chunkGrid } from "../../chunks.ts";
import { bytesOf, elementCount } from "../../dtype.ts";
import type { DatasetSpec, FilterSpec } from "../dataset_spec.ts";
import { filterSpecOf, type NamedFilter } from "../messages/filter_pipeline.ts";
import { type ChunkRef, compareOffsets } from "./chunk_index.ts";
import { NativeH5File } from "./native_h5_file.ts";

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
  #h5: NativeH5File;
  #reuse: boolean;
  #scratch = new Uint8Array(0);
  #used = 0;

  private constructor(path: string, h5: NativeH5File, reuse: boolean) {
    this.path = path;
    this.#h5 = h5;
    this.#reuse = reuse;
  }

  /** Opens `path`; errors as {@linkcode NativeH5File.open}. */
  static open(path: string, options: RawChunkReaderOptions = {}): RawChunkReader {
    return new RawChunkReader(path, NativeH5File.open(path), options.reuseBuffer ?? false);
  }

  /**
   * The datasets of the group at `groupPath` (a sample key), chunks as stored. With
   * `reuseBuffer`, the chunk bytes are valid only until the next call.
   */
  read(groupPath: string): RawSample {
    this.#used = 0;
    if (this.#h5.kind(groupPath) !== "group") throw this.#fail(groupPath, "no such group");
    const datasets: Record<string, DatasetSpec> = {};
    let storedBytes = 0;
    for (const name of this.#h5.names(groupPath)) {
      const where = `${groupPath}/${name}`;
      if (this.#h5.kind(where) !== "dataset") throw this.#fail(where, "is not a dataset");
      const spec = this.#dataset(where);
      for (const c of spec.layout.kind === "chunked" ? spec.layout.chunks : [spec.layout.bytes]) {
        storedBytes += c.byteLength;
      }
      datasets[name] = spec;
    }
    return { datasets, storedBytes };
  }

  #dataset(where: string): DatasetSpec {
    const { dtype, shape, chunkShape } = this.#h5.describe(where);
    if (!chunkShape) {
      // Contiguous (scalars): a few bytes, read as values.
      const t = this.#h5.read(where);
      return { dtype, shape, layout: { kind: "contiguous", bytes: bytesOf(t.data).slice() } };
    }
    const filters = this.#h5.filters(where).map((f) => this.#filter(where, f));
    const refs = this.#h5.chunks(where).slice().sort((a, b) => compareOffsets(a.offset, b.offset));
    const expected = elementCount(chunkGrid(shape, chunkShape));
    if (refs.length !== expected) {
      throw this.#fail(where, `${refs.length} chunk(s) stored, ${expected} expected`);
    }
    if (refs.some((r) => r.filterMask !== 0)) {
      throw this.#fail(where, "a chunk skipped one of its filters");
    }
    return {
      dtype,
      shape,
      layout: { kind: "chunked", chunkShape, filters, chunks: this.#chunks(where, refs) },
    };
  }

  /** The chunks' bytes; those laid out back to back (as our writer and h5py do) in one read. */
  #chunks(where: string, refs: ChunkRef[]): Uint8Array[] {
    let first = Infinity;
    let end = 0;
    let total = 0;
    for (const r of refs) {
      first = Math.min(first, r.address);
      end = Math.max(end, r.address + r.size);
      total += r.size;
    }
    if (refs.length > 1 && end - first <= total + SPAN_SLACK_BYTES) {
      const span = this.#bytes(where, first, end - first);
      return refs.map((r) => span.subarray(r.address - first, r.address - first + r.size));
    }
    return refs.map((r) => this.#bytes(where, r.address, r.size));
  }

  /** `length` bytes at `address`: fresh, or the next free part of the reused buffer. */
  #bytes(where: string, address: number, length: number): Uint8Array {
    let into: Uint8Array;
    if (!this.#reuse) {
      into = new Uint8Array(length);
    } else {
      if (this.#used + length > this.#scratch.length) {
        // Views already handed out for this sample keep the old buffer alive.
        this.#scratch = new Uint8Array(Math.max(2 * this.#scratch.length, length, 1 << 20));
        this.#used = 0;
      }
      into = this.#scratch.subarray(this.#used, this.#used + length);
      this.#used += length;
    }
    return this.#h5.readStored(address, into, `chunk data of /${where}`);
  }

  #filter(where: string, f: NamedFilter): FilterSpec {
    const spec = filterSpecOf(f);
    if (!spec) throw this.#fail(where, `filter ${f.id}`);
    return spec;
  }

  #fail(where: string, why: string): FormatError {
    return new FormatError(this.path, `cannot copy /${where} as stored: ${why}`);
  }

  /** Closes the file. */
  close(): void {
    this.#h5.close();
  }
}
