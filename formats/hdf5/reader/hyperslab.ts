/**
 * Hyperslab geometry: which chunks a slab overlaps, and copying the overlap of a stored block
 * (a chunk, or a span of contiguous data) into the slab's output buffer.
 *
 * @module
 */
import { byteStrides } from "../../chunks.ts";

/** Throws RangeError unless `start`/`count` lie inside `shape`; the message names file and path. */
export function checkSlab(
  file: string,
  path: string,
  shape: readonly number[],
  start: readonly number[],
  count: readonly number[],
): void {
  const bad = start.length !== shape.length || count.length !== shape.length ||
    shape.some((d, i) =>
      !Number.isSafeInteger(start[i]) || !Number.isSafeInteger(count[i]) || start[i] < 0 ||
      count[i] < 0 || start[i] + count[i] > d
    );
  if (bad) {
    throw new RangeError(
      `${file}: dataset ${path} of shape ${JSON.stringify(shape)}: hyperslab start ${
        JSON.stringify(start)
      } count ${JSON.stringify(count)} is outside it`,
    );
  }
}

/** Offsets of the chunks the slab overlaps, in row-major (B-tree key) order. */
export function overlappingChunks(
  start: readonly number[],
  count: readonly number[],
  chunkShape: readonly number[],
): number[][] {
  const rank = start.length;
  if (count.some((c) => c === 0)) return [];
  const first = start.map((s, i) => Math.floor(s / chunkShape[i]));
  const last = start.map((s, i) => Math.floor((s + count[i] - 1) / chunkShape[i]));
  const out: number[][] = [];
  const idx = first.slice();
  for (;;) {
    out.push(idx.map((k, i) => k * chunkShape[i]));
    let j = rank - 1;
    while (j >= 0 && idx[j] === last[j]) idx[j] = first[j--];
    if (j < 0) return out;
    idx[j]++;
  }
}

/**
 * Copies the overlap of a block (elements `srcShape` at `srcOrigin`, C order, whose bytes in
 * `src` start `srcByteBase` bytes into the block) into `dst`, the slab `dstShape` at
 * `dstOrigin`.
 */
export function copyOverlap(
  src: Uint8Array,
  srcOrigin: readonly number[],
  srcShape: readonly number[],
  srcByteBase: number,
  dst: Uint8Array,
  dstOrigin: readonly number[],
  dstShape: readonly number[],
  elementSize: number,
): void {
  const rank = srcShape.length;
  if (rank === 0) {
    dst.set(src.subarray(-srcByteBase, -srcByteBase + elementSize));
    return;
  }
  const lo = new Array<number>(rank);
  const ext = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    lo[i] = Math.max(srcOrigin[i], dstOrigin[i]);
    ext[i] = Math.min(srcOrigin[i] + srcShape[i], dstOrigin[i] + dstShape[i]) - lo[i];
    if (ext[i] <= 0) return;
  }
  const sStride = byteStrides(srcShape, elementSize);
  const dStride = byteStrides(dstShape, elementSize);
  // Trailing axes covered whole by both sides merge into one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && ext[inner] === srcShape[inner] && ext[inner] === dstShape[inner]) inner--;
  const run = ext[inner] * sStride[inner];
  let s0 = -srcByteBase;
  let d0 = 0;
  for (let i = 0; i < rank; i++) {
    s0 += (lo[i] - srcOrigin[i]) * sStride[i];
    d0 += (lo[i] - dstOrigin[i]) * dStride[i];
  }
  if (inner === 0) {
    dst.set(src.subarray(s0, s0 + run), d0);
    return;
  }
  const pos = new Array<number>(inner).fill(0);
  for (;;) {
    let s = s0;
    let d = d0;
    for (let i = 0; i < inner; i++) {
      s += pos[i] * sStride[i];
      d += pos[i] * dStride[i];
    }
    dst.set(src.subarray(s, s + run), d);
    let i = inner - 1;
    while (i >= 0 && ++pos[i] === ext[i]) pos[i--] = 0;
    if (i < 0) return;
  }
}
