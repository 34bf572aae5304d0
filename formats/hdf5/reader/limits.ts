/**
 * Sane limits on sizes read from a file, checked before anything of that size is allocated.
 *
 * @module
 */

/** Deflate expands at most 1032:1; the slack covers a file of tiny datasets. */
const MAX_INFLATE_RATIO = 1100;
const SLACK_BYTES = 1 << 20;

/**
 * The most bytes a dataset stored in a file of `fileBytes` can hold, every chunk written
 * (a missing chunk is damage in a cache). A dataspace claiming more is damaged: without this
 * bound a flipped byte in a dimension asks for terabytes.
 */
export function maxDatasetBytes(fileBytes: number): number {
  return fileBytes * MAX_INFLATE_RATIO + SLACK_BYTES;
}
