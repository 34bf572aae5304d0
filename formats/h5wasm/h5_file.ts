/**
 * A read-only HDF5 file opened through h5wasm's low-level module: list groups, describe
 * datasets, read whole datasets or hyperslabs into typed arrays. Every dtype (float16 included,
 * which h5wasm's high-level API refuses) is read the same way: raw little-endian bytes into
 * wasm memory, then one copy out into the tensor's own buffer.
 *
 * @module
 */
import { FormatError } from "../../errors.ts";
import { allocate, type DType, DTYPES, elementCount, viewAs } from "../dtype.ts";
import type { Tensor } from "../tensor.ts";
import {
  clearDiagnostics,
  type H5Filter,
  type H5Metadata,
  type H5Module,
  lastDiagnostic,
  loadH5wasm,
} from "./module.ts";
import { checkSlab } from "../hdf5/reader/hyperslab.ts";
import { maxDatasetBytes } from "../hdf5/reader/limits.ts";

export type { H5Filter } from "./module.ts";

/** What a link in a group points at. */
export type H5ObjectKind = "group" | "dataset" | "other";

/** One member of a group. */
export interface H5Child {
  name: string;
  kind: H5ObjectKind;
}

/** What a dataset holds and how it is stored. */
export interface H5DatasetInfo {
  dtype: DType;
  /** Extent of each axis, slowest first; `[]` for a scalar. */
  shape: number[];
  /** Chunk extent per axis; absent for contiguous and compact layouts. */
  chunkShape?: number[];
  /** The filter pipeline (e.g. `{id: 1, name: "deflate", cd_values: [4]}`). */
  filters: H5Filter[];
}

/** A hyperslab: `start` and `count` per axis (defaults: from 0, to the end). */
export interface H5ReadOptions {
  start?: number[];
  count?: number[];
}

// H5T classes (H5Tpublic.h).
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_ENUM = 8;

const FLOATS: Record<number, DType> = { 2: "float16", 4: "float32", 8: "float64" };
const INTS: Record<number, DType> = { 1: "int8", 2: "int16", 4: "int32", 8: "int64" };
const UINTS: Record<number, DType> = { 1: "uint8", 2: "uint16", 4: "uint32", 8: "uint64" };

/** Scratch memory bigger than this is freed after the read rather than kept for the next. */
const KEEP_SCRATCH_BYTES = 64 << 20;

/** The HDF5 path of a group or dataset, always absolute. */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

/** Maps HDF5 datatype metadata to our dtype; undefined when we have no such type. */
export function dtypeFromMetadata(meta: H5Metadata): DType | undefined {
  if (meta.type === H5T_FLOAT) return FLOATS[meta.size];
  if (meta.type === H5T_INTEGER) return (meta.signed ? INTS : UINTS)[meta.size];
  // h5py stores numpy bool as an int8 enum {FALSE: 0, TRUE: 1}.
  const e = meta.enum_type;
  if (
    meta.type === H5T_ENUM && meta.size === 1 && e?.type === H5T_INTEGER && e.nmembers === 2 &&
    e.members.FALSE === 0 && e.members.TRUE === 1
  ) {
    return "bool";
  }
  return undefined;
}

/** An HDF5 file open for reading. Close it when done: each open file holds HDF5 caches. */
export class H5File {
  /** The file's path on disk. */
  readonly path: string;
  #m: H5Module;
  #id: bigint | undefined;
  #maxBytes: number;

  private constructor(module: H5Module, path: string, id: bigint, fileBytes: number) {
    this.#m = module;
    this.path = path;
    this.#id = id;
    this.#maxBytes = maxDatasetBytes(fileBytes);
  }

  /**
   * Opens `path` read-only. Throws {@linkcode FormatError} naming the file when it is missing or
   * not HDF5.
   *
   * @example
   * ```ts
   * import { pack } from "../../mod.ts";
   * import { H5File } from "./h5_file.ts";
   * const data = Float32Array.from({ length: 40 }, (_, i) => i);
   * const sample = { key: "a", tensors: { x: { dtype: "float32" as const, shape: [20, 2], data } } };
   * const dir = await Deno.makeTempDir();
   * await pack(ReadableStream.from([sample]), dir);
   * const file = await H5File.open(`${dir}/features_00001.h5`);
   * const t = file.read("a/x", { start: [5, 0], count: [2, 2] });
   * file.close();
   * if (t.shape.join() !== "2,2" || t.data[0] !== 10) throw new Error("frames 5 and 6");
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async open(path: string): Promise<H5File> {
    const module = await loadH5wasm();
    return H5File.openWith(module, path);
  }

  /** Opens `path` with an already loaded module (no await, for hot paths). */
  static openWith(module: H5Module, path: string): H5File {
    let fileBytes: number;
    try {
      fileBytes = Deno.statSync(path).size;
    } catch (e) {
      throw new FormatError(path, `cannot open (${(e as Error).message})`, { cause: e });
    }
    clearDiagnostics();
    let id: bigint;
    try {
      id = module.open(path, module.H5F_ACC_RDONLY, false, -1, -1);
    } catch (e) {
      throw new FormatError(path, `cannot open as HDF5 (${lastDiagnostic() || String(e)})`, {
        cause: e,
      });
    }
    if (id < 0n) {
      throw new FormatError(path, `cannot open as HDF5 (${lastDiagnostic() || "H5Fopen failed"})`);
    }
    return new H5File(module, path, id, fileBytes);
  }

  /** True until {@linkcode close}. */
  get isOpen(): boolean {
    return this.#id !== undefined;
  }

  #fid(): bigint {
    if (this.#id === undefined) throw new FormatError(this.path, "file is closed");
    return this.#id;
  }

  #fail(what: string, path: string, e?: unknown): FormatError {
    const detail = lastDiagnostic() || (e instanceof Error ? e.message : "");
    return new FormatError(this.path, `${what} ${path}${detail ? `: ${detail}` : ""}`, {
      cause: e,
    });
  }

  /** What `path` is, or undefined when nothing is linked there. */
  kind(path: string): H5ObjectKind | undefined {
    const fid = this.#fid();
    clearDiagnostics();
    let t: number;
    try {
      t = this.#m.get_type(fid, absolute(path));
    } catch {
      return undefined;
    }
    if (t < 0) return undefined;
    // get_type reports H5G_obj_t: 0 group, 1 dataset. It says 0 for an object whose header
    // HDF5 cannot parse too: a group is one whose members can be listed.
    if (t === 0) {
      try {
        this.#m.get_names(fid, absolute(path), false);
      } catch {
        return "other";
      }
      return "group";
    }
    return t === 1 ? "dataset" : "other";
  }

  /** The members of a group, in HDF5's (UTF-8 byte) order. */
  children(groupPath = "/"): H5Child[] {
    const fid = this.#fid();
    const path = absolute(groupPath);
    clearDiagnostics();
    let names: string[];
    let types: Record<string, number>;
    try {
      names = this.#m.get_names(fid, path, false);
      types = this.#m.get_types(fid, path);
    } catch (e) {
      throw this.#fail("cannot list group", path, e);
    }
    return names.map((name) => ({
      name,
      kind: types[name] === this.#m.H5O_TYPE_GROUP
        ? "group"
        : types[name] === this.#m.H5O_TYPE_DATASET
        ? "dataset"
        : "other",
    }));
  }

  /** The names of a group's members, in HDF5's order (cheaper than {@linkcode children}). */
  names(groupPath = "/"): string[] {
    const fid = this.#fid();
    const path = absolute(groupPath);
    clearDiagnostics();
    try {
      return this.#m.get_names(fid, path, false);
    } catch (e) {
      throw this.#fail("cannot list group", path, e);
    }
  }

  #metadata(path: string): H5Metadata {
    clearDiagnostics();
    try {
      return this.#m.get_dataset_metadata(this.#fid(), path);
    } catch (e) {
      throw this.#fail("no readable dataset at", path, e);
    }
  }

  #describe(path: string, meta: H5Metadata): { dtype: DType; shape: number[] } {
    const dtype = dtypeFromMetadata(meta);
    const shape = meta.shape ?? [];
    // Checked before HDF5 is asked for the data: an allocation it cannot make aborts wasm.
    const bytes = elementCount(shape) * meta.size;
    if (bytes > this.#maxBytes) {
      throw new FormatError(
        this.path,
        `dataset ${path} of shape ${JSON.stringify(shape)} declares ${bytes} bytes, ` +
          `more than this file can hold`,
        { dataset: path },
      );
    }
    if (!dtype) {
      throw new FormatError(
        this.path,
        `dataset ${path}: unsupported HDF5 datatype (class ${meta.type}, ${meta.size} bytes); ` +
          `expected float16/32/64, a signed or unsigned 1-8 byte integer, or h5py's bool enum`,
      );
    }
    return { dtype, shape };
  }

  /** Dtype, shape and chunk shape of the dataset at `path` (one HDF5 call, no filters). */
  describe(path: string): Omit<H5DatasetInfo, "filters"> {
    const p = absolute(path);
    const meta = this.#metadata(p);
    const out: Omit<H5DatasetInfo, "filters"> = this.#describe(p, meta);
    if (meta.chunks) out.chunkShape = meta.chunks;
    return out;
  }

  /** The filter pipeline of the dataset at `path`, in write order. */
  filters(path: string): H5Filter[] {
    const p = absolute(path);
    clearDiagnostics();
    try {
      return this.#m.get_dataset_filters(this.#fid(), p);
    } catch (e) {
      throw this.#fail("cannot read the filter pipeline of", p, e);
    }
  }

  /** Dtype, shape, chunk shape and filters of the dataset at `path`. */
  datasetInfo(path: string): H5DatasetInfo {
    const p = absolute(path);
    const { dtype, shape, chunkShape } = this.describe(p);
    const filters = this.filters(p);
    const info: H5DatasetInfo = { dtype, shape, filters };
    if (chunkShape) info.chunkShape = chunkShape;
    return info;
  }

  /**
   * Reads the dataset at `path`, whole or the hyperslab `start`/`count`, into a tensor of its
   * own dtype (float16 stays float16). Only the chunks the hyperslab overlaps are decompressed.
   * Throws {@linkcode FormatError} naming the file and dataset when HDF5 cannot read it (a
   * corrupt chunk fails here), RangeError when the hyperslab is outside the dataset.
   */
  read(path: string, options: H5ReadOptions = {}): Tensor {
    const p = absolute(path);
    const { dtype, shape } = this.#describe(p, this.#metadata(p));
    return this.#readAs(p, dtype, shape, options);
  }

  #readAs(path: string, dtype: DType, shape: number[], options: H5ReadOptions): Tensor {
    const p = absolute(path);
    const fid = this.#fid();
    let outShape = shape;
    let count: bigint[] | null = null;
    let offset: bigint[] | null = null;
    let strides: bigint[] | null = null;
    if ((options.start || options.count) && shape.length > 0) {
      const start = options.start ?? shape.map(() => 0);
      outShape = options.count ?? shape.map((d, i) => d - start[i]);
      checkSlab(this.path, p, shape, start, outShape);
      count = outShape.map(BigInt);
      offset = start.map(BigInt);
      // h5wasm dereferences strides whenever count is given.
      strides = shape.map(() => 1n);
    }
    const bytes = elementCount(outShape) * DTYPES[dtype].size;
    if (bytes === 0) return { dtype, shape: outShape, data: allocate(dtype, 0) };
    const ptr = this.#scratchFor(bytes);
    clearDiagnostics();
    let status: number;
    try {
      status = this.#m.get_dataset_data(fid, p, count, offset, strides, BigInt(ptr));
    } catch (e) {
      throw this.#fail("cannot read dataset", p, e);
    }
    if (status < 0) throw this.#fail("cannot read dataset", p);
    const out = this.#m.HEAPU8.slice(ptr, ptr + bytes);
    if (bytes > KEEP_SCRATCH_BYTES) this.#releaseScratch();
    return { dtype, shape: outShape, data: viewAs(dtype, out) };
  }

  // One scratch block per module, reused across reads and files: malloc per read costs more
  // than the read of a small dataset.
  #scratchFor(bytes: number): number {
    const s = scratchOf(this.#m);
    if (s.size < bytes) {
      if (s.ptr) this.#m._free(s.ptr);
      s.size = Math.max(bytes, s.size * 2, 1 << 16);
      s.ptr = this.#m._malloc(s.size);
      if (!s.ptr) {
        s.size = 0;
        throw new FormatError(this.path, `out of wasm memory allocating ${bytes} bytes`);
      }
    }
    return s.ptr;
  }

  #releaseScratch(): void {
    const s = scratchOf(this.#m);
    if (s.ptr) this.#m._free(s.ptr);
    s.ptr = 0;
    s.size = 0;
  }

  /** Closes the file; later calls throw. Closing twice is harmless. */
  close(): void {
    if (this.#id === undefined) return;
    const id = this.#id;
    this.#id = undefined;
    this.#m.close_file(id);
  }
}

const SCRATCH = new WeakMap<H5Module, { ptr: number; size: number }>();

function scratchOf(module: H5Module): { ptr: number; size: number } {
  let s = SCRATCH.get(module);
  if (!s) SCRATCH.set(module, s = { ptr: 0, size: 0 });
  return s;
}
