/**
 * Chunk geometry shared by the writer (which splits tensors into chunks) and the reader (which
 * maps a frame range onto chunks): which axis is time, how big a chunk is, how a tensor is cut
 * into full-size chunks, and HDF5's byte shuffle.
 *
 * @module
 */
import { elementCount } from "./dtype.ts";

/** Default uncompressed chunk size: small chunks keep zlib's match search short (DESIGN.md). */
export const DEFAULT_CHUNK_BYTES = 16 * 1024;

/**
 * The time (frame) axis of a feature array: the first axis of extent other than 1, looking at
 * every axis but the last (the feature axis); axis 0 when there is none. `(T, 1024)` -> 0,
 * `(1, T, 80)` -> 1, `(T,)` -> 0. Returns -1 for a scalar.
 */
export function timeAxis(shape: readonly number[]): number {
  if (shape.length === 0) return -1;
  if (shape.length === 1) return 0;
  for (let axis = 0; axis < shape.length - 1; axis++) {
    if (shape[axis] !== 1) return axis;
  }
  return 0;
}

/**
 * The chunk shape for an array: whole along every axis except the time axis, which gets as
 * many frames as fit in `targetBytes` (at least 1, at most the extent unless the extent is 0).
 * Axes before the time axis have extent 1. Undefined for a scalar (stored contiguous).
 */
export function chooseChunkShape(
  shape: readonly number[],
  elementSize: number,
  targetBytes = DEFAULT_CHUNK_BYTES,
): number[] | undefined {
  const axis = timeAxis(shape);
  if (axis < 0) return undefined;
  const chunk = shape.map((d) => Math.max(d, 1));
  let frameBytes = elementSize;
  for (let i = axis + 1; i < shape.length; i++) frameBytes *= chunk[i];
  const frames = Math.max(1, Math.floor(targetBytes / frameBytes));
  chunk[axis] = shape[axis] === 0 ? frames : Math.min(frames, shape[axis]);
  return chunk;
}

/** Number of chunks along each axis. */
export function chunkGrid(shape: readonly number[], chunkShape: readonly number[]): number[] {
  return shape.map((d, i) => Math.ceil(d / chunkShape[i]));
}

/**
 * Cuts C-order element bytes of an array into its chunks, in row-major order of chunk index
 * (the order HDF5's chunk B-tree needs). Every chunk is full-size: the part outside the array
 * is zero, as HDF5 requires of edge chunks.
 */
export function* splitChunks(
  bytes: Uint8Array,
  shape: readonly number[],
  chunkShape: readonly number[],
  elementSize: number,
): Generator<Uint8Array> {
  const rank = shape.length;
  if (rank === 0 || elementCount(shape) === 0) return;
  const grid = chunkGrid(shape, chunkShape);
  const chunkBytes = elementCount(chunkShape) * elementSize;
  const stride = byteStrides(shape, elementSize);
  const cstride = byteStrides(chunkShape, elementSize);
  // Trailing axes that a chunk covers whole form one contiguous run in both layouts.
  let inner = rank - 1;
  while (inner > 0 && chunkShape[inner] === shape[inner]) inner--;
  const idx = new Array<number>(rank).fill(0);
  const total = elementCount(grid);
  for (let c = 0; c < total; c++) {
    const out = new Uint8Array(chunkBytes);
    const start = idx.map((k, i) => k * chunkShape[i]);
    const extent = start.map((s, i) => Math.min(chunkShape[i], shape[i] - s));
    const runBytes = extent[inner] * stride[inner];
    // Walk every position of the axes before `inner` inside this chunk.
    const pos = new Array<number>(inner).fill(0);
    for (;;) {
      let src = start[inner] * stride[inner];
      let dst = 0;
      for (let i = 0; i < inner; i++) {
        src += (start[i] + pos[i]) * stride[i];
        dst += pos[i] * cstride[i];
      }
      out.set(bytes.subarray(src, src + runBytes), dst);
      let i = inner - 1;
      while (i >= 0 && ++pos[i] === extent[i]) pos[i--] = 0;
      if (i < 0) break;
    }
    yield out;
    let j = rank - 1;
    while (j >= 0 && ++idx[j] === grid[j]) idx[j--] = 0;
  }
}

/** Byte strides of a C-order array of `shape`, per axis (the last is `elementSize`). */
export function byteStrides(shape: readonly number[], elementSize: number): number[] {
  const stride = new Array<number>(shape.length);
  let s = elementSize;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

/** HDF5's shuffle filter: byte j of element i goes to `j * n + i`. */
export function shuffleBytes(input: Uint8Array, elementSize: number): Uint8Array {
  if (elementSize === 1) return input;
  const n = Math.floor(input.length / elementSize);
  const out = new Uint8Array(input.length);
  for (let j = 0; j < elementSize; j++) {
    const base = j * n;
    for (let i = 0; i < n; i++) out[base + i] = input[i * elementSize + j];
  }
  out.set(input.subarray(n * elementSize), n * elementSize);
  return out;
}

/** Inverse of {@linkcode shuffleBytes}. */
export function unshuffleBytes(input: Uint8Array, elementSize: number): Uint8Array {
  if (elementSize === 1) return input;
  const n = Math.floor(input.length / elementSize);
  const out = new Uint8Array(input.length);
  for (let j = 0; j < elementSize; j++) {
    const base = j * n;
    for (let i = 0; i < n; i++) out[i * elementSize + j] = input[base + i];
  }
  out.set(input.subarray(n * elementSize), n * elementSize);
  return out;
}
