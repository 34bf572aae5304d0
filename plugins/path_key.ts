/**
 * Path-to-key helpers shared by the plugins: keys use `/` separators whatever the platform, and
 * drop the file extension.
 *
 * @module
 */

/**
 * The path with `/` separators, no empty or `.` segments, and `..` resolved lexically.
 *
 * @example
 * ```ts
 * if (normalizePath("C:\\data\\.\\LibriTTS\\\\x\\..\\a.wav") !== "C:/data/LibriTTS/a.wav") {
 *   throw new Error();
 * }
 * ```
 */
export function normalizePath(path: string): string {
  const absolute = /^[\\/]/.test(path);
  const out: string[] = [];
  for (const part of path.split(/[\\/]+/)) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (part !== ".." || !absolute) out.push(part);
  }
  return (absolute ? "/" : "") + out.join("/");
}

/** `dir` and `name` joined with one `/` (trailing separators of `dir` dropped). */
export function joinPath(dir: string, name: string): string {
  return `${dir.replace(/(?<=.)[\\/]+$/, "")}/${name}`;
}

/** The path without the extension of its last segment (`a/b.c.wav` -> `a/b.c`). */
export function stripExtension(path: string): string {
  return path.replace(/(?<=[^/])\.[^./]*$/, "");
}

/**
 * The key of `path` relative to `root`: normalized, extension dropped. When only one of the two
 * is absolute, the other is taken relative to the working directory. Throws a `RangeError`
 * quoting both when `path` is not below `root`.
 *
 * @example
 * ```ts
 * if (relativeKey("/d/LibriTTS/dev-clean/1/2/1_2_3.wav", "/d/LibriTTS/") !== "dev-clean/1/2/1_2_3") {
 *   throw new Error();
 * }
 * ```
 */
export function relativeKey(path: string, root: string): string {
  let file = normalizePath(path);
  let base = normalizePath(root);
  if (file.startsWith("/") !== base.startsWith("/")) {
    const cwd = Deno.cwd();
    if (!file.startsWith("/")) file = normalizePath(`${cwd}/${file}`);
    if (!base.startsWith("/")) base = normalizePath(`${cwd}/${base}`);
  }
  const prefix = base === "/" || base === "" ? base : `${base}/`;
  if (!file.startsWith(prefix) || file.length === prefix.length) {
    throw new RangeError(
      `path ${JSON.stringify(path)} is not below data root ${JSON.stringify(root)}`,
    );
  }
  return stripExtension(file.slice(prefix.length));
}
