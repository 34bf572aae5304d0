/**
 * h5py's default chunk shape (`h5py._hl.filters.guess_chunk`, h5py 3.7), so the h5wasm anchor
 * chunks its datasets exactly as the h5py writer does.
 */
const CHUNK_BASE = 16 * 1024;
const CHUNK_MIN = 8 * 1024;
const CHUNK_MAX = 1024 * 1024;

export function guessChunk(shape: readonly number[], typeSize: number): number[] {
  if (shape.length === 0) throw new RangeError("guessChunk: scalar datasets have no chunks");
  const chunks = shape.map((d) => (d === 0 ? 1024 : d));
  const product = () => chunks.reduce((a, b) => a * b, 1);
  const datasetBytes = product() * typeSize;
  const target = Math.min(
    CHUNK_MAX,
    Math.max(CHUNK_MIN, CHUNK_BASE * 2 ** Math.log10(datasetBytes / (1024 * 1024))),
  );
  for (let i = 0;; i++) {
    const bytes = product() * typeSize;
    const closeEnough = bytes < target || Math.abs(bytes - target) / target < 0.5;
    if ((closeEnough && bytes < CHUNK_MAX) || product() === 1) return chunks;
    const axis = i % chunks.length;
    chunks[axis] = Math.ceil(chunks[axis] / 2);
  }
}
