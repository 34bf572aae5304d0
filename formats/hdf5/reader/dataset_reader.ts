/**
 * Reading a dataset's elements (whole or a hyperslab) into an output buffer: contiguous data
 * with one positioned read, chunked data by finding the overlapping chunks in the chunk index,
 * reading them (adjacent ones at once), undoing the filters and copying the overlap.
 *
 * @module
 */
import { FormatError } from "../../../errors.ts";
import { unshuffleBytes } from "../../chunks.ts";
import { DTYPES, elementCount } from "../../dtype.ts";
import { UNDEF } from "../constants.ts";
import { FilterId } from "../messages/filter_pipeline.ts";
import { type ChunkedDataset, ChunkIndex, type ChunkRef } from "./chunk_index.ts";
import type { DatasetHeader } from "./dataset_header.ts";
import { copyOverlap, overlappingChunks } from "./hyperslab.ts";
import type { PositionedReader } from "../positioned_reader.ts";
import { UnsupportedHdf5Error } from "./unsupported_error.ts";
import { createInflater, type Inflater } from "../../zlib_codec.ts";
import type { InflateHelper, InflateJob, ParallelInflate } from "../../parallel_inflate.ts";

/** Unused bytes between chunks that still let them come in one read. */
const SPAN_GAP_BYTES = 64 << 10;
/** The chunk read buffer is kept up to this size between reads. */
const KEEP_SCRATCH_BYTES = 4 << 20;

// One for all files: reads are synchronous, so calls never interleave.
let shared: Inflater | undefined;
function inflater(): Inflater {
  return shared ??= createInflater();
}

/** Reads dataset elements of one file. */
export class DatasetReader {
  #reader: PositionedReader;
  #chunks: ChunkIndex;
  #scratch = new Uint8Array(1 << 16);

  constructor(reader: PositionedReader, chunkK?: number) {
    this.#reader = reader;
    this.#chunks = new ChunkIndex(reader, chunkK);
  }

  /** Every stored chunk of the chunked dataset `d`, in key order (see {@linkcode ChunkIndex.list}). */
  chunks(d: DatasetHeader): ChunkRef[] {
    if (d.layout.kind !== "chunked" || d.layout.btree === UNDEF) return [];
    return this.#chunks.list(chunkedOf(d));
  }

  /**
   * Fills `out` (zeroed, C order) with the hyperslab `start`/`count` of dataset `p`. A chunk
   * that is missing, does not inflate or decodes to the wrong size throws FormatError naming
   * file, dataset and offset: a cache writes every chunk, so an unwritten one is damage that
   * HDF5 would silently read as fill values.
   */
  read(
    p: string,
    d: DatasetHeader,
    start: number[],
    count: number[],
    out: Uint8Array,
    parallel?: ParallelInflate,
  ): void {
    if (d.layout.kind === "contiguous") this.#readContiguous(p, d, start, count, out);
    else this.#readChunked(p, d, start, count, out, parallel);
  }

  /**
   * Unwritten data: with a non-zero fill value a legitimate HDF5 dataset that h5wasm reads
   * (unsupported here); with zeros, in a cache that writes every chunk, damage that HDF5 would
   * silently read as zeros.
   */
  #unwritten(p: string, d: DatasetHeader, what: string, offset?: number): FormatError {
    if (d.fillNonZero) {
      return new UnsupportedHdf5Error(
        this.#reader.name,
        `dataset ${p}: unwritten data with a fill value`,
      );
    }
    return new FormatError(
      this.#reader.name,
      `cannot read dataset ${p}: ${what} never written (HDF5 would read zeros)`,
      { dataset: p, offset },
    );
  }

  #readContiguous(
    p: string,
    d: DatasetHeader,
    start: number[],
    count: number[],
    out: Uint8Array,
  ): void {
    const layout = d.layout as { address: number; size: number };
    const es = DTYPES[d.dtype].size;
    if (layout.address === UNDEF || layout.size === 0) throw this.#unwritten(p, d, "its data was");
    const rank = d.shape.length;
    let first = 0;
    let last = 0;
    let stride = es;
    for (let i = rank - 1; i >= 0; i--) {
      first += start[i] * stride;
      last += (start[i] + count[i] - 1) * stride;
      stride *= d.shape[i];
    }
    const end = last + es;
    if (end > layout.size) {
      throw new FormatError(
        this.#reader.name,
        `cannot read dataset ${p}: its contiguous data of ${layout.size} bytes is cut short`,
        { dataset: p, offset: layout.address },
      );
    }
    const span = this.#reader.read(layout.address + first, end - first, `data of ${p}`);
    copyOverlap(span, d.shape.map(() => 0), d.shape, first, out, start, count, es);
  }

  #readChunked(
    p: string,
    d: DatasetHeader,
    start: number[],
    count: number[],
    out: Uint8Array,
    parallel?: ParallelInflate,
  ): void {
    const layout = d.layout as { btree: number; chunkShape: number[] };
    const es = DTYPES[d.dtype].size;
    const chunkBytes = elementCount(layout.chunkShape) * es;
    // Every chunk is a stored key of at least its own size: more than the file has bytes
    // cannot be, and would only exhaust memory listing them.
    const n = count.reduce((a, c, i) => {
      const first = Math.floor(start[i] / layout.chunkShape[i]);
      return a * (c === 0 ? 0 : Math.floor((start[i] + c - 1) / layout.chunkShape[i]) - first + 1);
    }, 1);
    if (n > this.#reader.limit) {
      throw new FormatError(
        this.#reader.name,
        `cannot read dataset ${p}: chunk dims ${JSON.stringify(layout.chunkShape)} make ` +
          `${n} chunks, more than the file has bytes`,
        { dataset: p },
      );
    }
    const wanted = overlappingChunks(start, count, layout.chunkShape);
    if (layout.btree === UNDEF) {
      if (wanted.length) throw this.#unwritten(p, d, "its chunks were");
      return;
    }
    // A whole read visits every node anyway: list them all, so a chunk stored outside the
    // extent (a dataspace that shrank by damage) is caught, not silently dropped.
    const whole = count.every((c, i) => start[i] === 0 && c === d.shape[i]);
    const refs = whole ? this.#wholeChunks(p, d, wanted) : this.#chunks.find(chunkedOf(d), wanted);
    if (refs.length < wanted.length) {
      const found = new Set(refs.map((r) => r.offset.join()));
      const missing = wanted.find((w) => !found.has(w.join()))!;
      throw this.#unwritten(
        p,
        d,
        `${wanted.length - refs.length} of ${wanted.length} chunks (first at ${
          JSON.stringify(missing)
        }) were`,
        layout.btree,
      );
    }
    const what = `chunks of ${p}`;
    // Chunks written one after another (by us, and mostly by h5py) come in one read.
    let first = Infinity;
    let end = 0;
    let total = 0;
    for (const ref of refs) {
      first = Math.min(first, ref.address);
      end = Math.max(end, ref.address + ref.size);
      total += ref.size;
    }
    const span = refs.length > 1 && end - first <= total + total / 4 + SPAN_GAP_BYTES
      ? this.#readScratch(first, end - first, what)
      : undefined;
    const rowBytes = directRowBytes(d, layout.chunkShape, start, count, es);
    const helper = parallel && refs.length > 1 && refs.length * chunkBytes >= parallel.minBytes &&
        inflateOnly(d) && refs.every((r) => r.filterMask === 0)
      ? parallel.helper(refs.length * chunkBytes)
      : undefined;
    if (
      helper && this.#readParallel(p, d, refs, span, first, start, count, out, rowBytes, helper)
    ) {
      if (this.#scratch.length > KEEP_SCRATCH_BYTES) this.#scratch = new Uint8Array(1 << 16);
      return;
    }
    for (const ref of refs) {
      const raw = span
        ? span.subarray(ref.address - first, ref.address - first + ref.size)
        : this.#readScratch(ref.address, ref.size, what);
      const target = directTarget(ref, layout.chunkShape, start, count, out, rowBytes);
      if (target) {
        // The chunk is whole rows of the output: inflate it in place.
        let n: number;
        try {
          n = inflater().inflateInto(raw, target);
        } catch (e) {
          throw this.#inflateError(p, ref.offset, ref.address, raw.length, e);
        }
        if (n !== chunkBytes) throw this.#sizeError(p, ref, n < 0 ? "more than" : n, chunkBytes);
        continue;
      }
      const chunk = this.#decode(p, d, ref.offset, ref.address, ref.filterMask, raw, chunkBytes);
      if (chunk.length !== chunkBytes) throw this.#sizeError(p, ref, chunk.length, chunkBytes);
      copyOverlap(chunk, ref.offset, layout.chunkShape, 0, out, start, count, es);
    }
    if (this.#scratch.length > KEEP_SCRATCH_BYTES) this.#scratch = new Uint8Array(1 << 16);
  }

  /**
   * The chunks of one read inflated on this thread and the helper's. False when any chunk did
   * not come out whole: the caller then reads them one by one, so the error is the one a plain
   * read gives.
   */
  #readParallel(
    p: string,
    d: DatasetHeader,
    refs: ChunkRef[],
    span: Uint8Array | undefined,
    first: number,
    start: number[],
    count: number[],
    out: Uint8Array,
    rowBytes: number,
    helper: InflateHelper,
  ): boolean {
    const layout = d.layout as { chunkShape: number[] };
    const es = DTYPES[d.dtype].size;
    const chunkBytes = elementCount(layout.chunkShape) * es;
    const what = `chunks of ${p}`;
    const jobs: InflateJob[] = [];
    const direct: boolean[] = [];
    for (const ref of refs) {
      const src = span
        ? span.subarray(ref.address - first, ref.address - first + ref.size)
        : this.#reader.readInto(ref.address, new Uint8Array(ref.size), what);
      const target = directTarget(ref, layout.chunkShape, start, count, out, rowBytes);
      direct.push(target !== undefined);
      jobs.push({ src, dst: target ?? new Uint8Array(chunkBytes) });
    }
    const results = helper.inflateAll(jobs, inflater());
    if (results.some((r) => r !== chunkBytes)) return false;
    const shuffle = d.filters.find((f) => f.id !== FilterId.DEFLATE);
    refs.forEach((ref, i) => {
      if (direct[i]) return;
      const chunk = shuffle ? unshuffleBytes(jobs[i].dst, shuffle.cd[0] ?? es) : jobs[i].dst;
      copyOverlap(chunk, ref.offset, layout.chunkShape, 0, out, start, count, es);
    });
    return true;
  }

  /** Every stored chunk, which must all be among `wanted` (the chunk grid of the extent). */
  #wholeChunks(p: string, d: DatasetHeader, wanted: readonly number[][]): ChunkRef[] {
    const refs = this.#chunks.list(chunkedOf(d));
    const grid = new Set(wanted.map((w) => w.join()));
    const stray = refs.find((r) => !grid.has(r.offset.join()));
    if (stray || refs.length > wanted.length) {
      throw new FormatError(
        this.#reader.name,
        `cannot read dataset ${p}: a chunk at ${JSON.stringify((stray ?? refs[0]).offset)} ` +
          `lies outside its shape ${JSON.stringify(d.shape)} or repeats`,
        { dataset: p, offset: (stray ?? refs[0]).address },
      );
    }
    return refs;
  }

  /** Throws FormatError when the (empty) chunked dataset `d` stores chunks. */
  checkNoChunks(p: string, d: DatasetHeader): void {
    const refs = this.chunks(d);
    if (refs.length) {
      throw new FormatError(
        this.#reader.name,
        `cannot read dataset ${p}: its shape ${JSON.stringify(d.shape)} is empty but it stores ` +
          `${refs.length} chunks`,
        { dataset: p, offset: refs[0].address },
      );
    }
  }

  #inflateError(
    p: string,
    offset: number[],
    address: number,
    size: number,
    e: unknown,
  ): FormatError {
    return new FormatError(
      this.#reader.name,
      `cannot read dataset ${p}: chunk at ${JSON.stringify(offset)} (address ${address}, ` +
        `${size} bytes) does not inflate (${(e as Error).message})`,
      { cause: e, dataset: p, offset: address },
    );
  }

  #sizeError(p: string, ref: ChunkRef, got: number | string, expected: number): FormatError {
    return new FormatError(
      this.#reader.name,
      `cannot read dataset ${p}: chunk at ${JSON.stringify(ref.offset)} (address ${ref.address}) ` +
        `decodes to ${got} bytes, expected ${expected}`,
      { dataset: p, offset: ref.address },
    );
  }

  /** `length` bytes at `address` in the reusable read buffer (valid until the next read). */
  #readScratch(address: number, length: number, what: string): Uint8Array {
    if (this.#scratch.length < length) this.#scratch = new Uint8Array(length * 2);
    return this.#reader.readInto(address, this.#scratch.subarray(0, length), what);
  }

  /** Undoes the pipeline, last filter first, skipping those the chunk's mask says were not applied. */
  #decode(
    p: string,
    d: DatasetHeader,
    offset: number[],
    address: number,
    mask: number,
    raw: Uint8Array,
    expected: number,
  ): Uint8Array {
    let bytes = raw;
    const skipped = d.filters.filter((f, i) => (mask & (1 << i)) && !f.optional);
    if (mask >>> d.filters.length || skipped.length) {
      throw new FormatError(
        this.#reader.name,
        `cannot read dataset ${p}: chunk at ${JSON.stringify(offset)} has filter mask ${mask}, ` +
          `skipping filters that are not optional`,
        { dataset: p, offset: address },
      );
    }
    for (let i = d.filters.length - 1; i >= 0; i--) {
      if (mask & (1 << i)) continue;
      const f = d.filters[i];
      if (f.id === FilterId.DEFLATE) {
        try {
          bytes = inflater().inflate(bytes, expected);
        } catch (e) {
          throw this.#inflateError(p, offset, address, raw.length, e);
        }
      } else {
        bytes = unshuffleBytes(bytes, f.cd[0] ?? DTYPES[d.dtype].size);
      }
    }
    return bytes;
  }
}

/**
 * Bytes of one output row when chunks can inflate straight into the output: deflate is the
 * only filter and chunks and the read both span every axis but the first (ours do, h5py's
 * usually not); 0 otherwise.
 */
function directRowBytes(
  d: DatasetHeader,
  chunkShape: number[],
  start: number[],
  count: number[],
  es: number,
): number {
  if (d.filters.length !== 1 || d.filters[0].id !== FilterId.DEFLATE || d.shape.length === 0) {
    return 0;
  }
  let row = es;
  for (let i = 1; i < d.shape.length; i++) {
    if (start[i] !== 0 || count[i] !== d.shape[i] || chunkShape[i] !== d.shape[i]) return 0;
    row *= d.shape[i];
  }
  return row;
}

/**
 * Where chunk `ref` goes in `out` when it is whole rows of the output (see
 * {@linkcode directRowBytes}) and unfiltered but for deflate, so it can inflate in place;
 * undefined otherwise.
 */
function directTarget(
  ref: ChunkRef,
  chunkShape: number[],
  start: number[],
  count: number[],
  out: Uint8Array,
  rowBytes: number,
): Uint8Array | undefined {
  const row = ref.offset[0] - start[0];
  if (rowBytes === 0 || ref.filterMask !== 0 || row < 0 || row + chunkShape[0] > count[0]) {
    return undefined;
  }
  return out.subarray(row * rowBytes, (row + chunkShape[0]) * rowBytes);
}

/** Deflate alone, or shuffle then deflate: what two threads can inflate before the rest. */
function inflateOnly(d: DatasetHeader): boolean {
  const ids = d.filters.map((f) => f.id);
  return (ids.length === 1 && ids[0] === FilterId.DEFLATE) ||
    (ids.length === 2 && ids[0] === FilterId.SHUFFLE && ids[1] === FilterId.DEFLATE);
}

function chunkedOf(d: DatasetHeader): ChunkedDataset {
  const layout = d.layout as { btree: number; chunkShape: number[] };
  return {
    btree: layout.btree,
    rank: d.shape.length,
    chunkBytes: elementCount(layout.chunkShape) * DTYPES[d.dtype].size,
  };
}
