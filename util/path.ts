/**
 * The few POSIX path helpers the stages need (the one place to swap for `@std/path`).
 *
 * @module
 */

/** Joins path segments with `/`, collapsing duplicate separators. */
export function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/{2,}/g, "/");
}

/** The directory part of a path (`.` when there is none). */
export function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}
