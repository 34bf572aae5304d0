/**
 * A deterministic recursive file walk: every matching file below a root, sorted by key in UTF-8
 * byte order, which is the order h5py lists group members in.
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";

/** One file found by {@linkcode walkFiles}. */
export interface WalkEntry {
  /** The file's path: the root joined with `relative`. */
  path: string;
  /** Path relative to the root, with `/` separators. */
  relative: string;
  /** The sort key ({@linkcode WalkOptions.key} of `relative`). */
  key: string;
  /**
   * Set when the entry cannot be read: a broken symlink, a symlink loop, or not a regular file
   * (a FIFO, a device, a directory not walked into). It is listed, not
   * skipped, so that a caller records it (migrate puts it in `error_log.json`).
   */
  problem?: string;
}

/** Options of {@linkcode walkFiles}. */
export interface WalkOptions {
  /** Which files to keep, by relative path. Default: all. */
  include?: (relative: string) => boolean;
  /** The key a file sorts by. Default: its relative path. */
  key?: (relative: string) => string;
  /** Descend into subdirectories. Default: true. */
  recursive?: boolean;
  /**
   * Keep names starting with `.` (files and directories). Default: false, so that macOS
   * `._x.wav` resource forks and `.Trash` folders copied along with a corpus are not samples.
   */
  hidden?: boolean;
}

/**
 * Compares strings by Unicode code point, which is the byte order of their UTF-8 encodings
 * (plain `<` compares UTF-16 code units and puts U+E000..U+FFFF after astral characters).
 *
 * @example
 * ```ts
 * const sorted = ["\u{1F600}", "\uFF21", "b", "B"].sort(compareUtf8);
 * if (sorted.join() !== ["B", "b", "\uFF21", "\u{1F600}"].join()) throw new Error();
 * ```
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // move surrogates (astral characters) above the rest of the BMP
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Every file below `root` (symlinks followed, hidden names skipped), sorted by key in UTF-8 byte
 * order, ties broken by relative path. A broken symlink, and a directory symlink that leads back
 * to one of its ancestors (a loop), are listed with a `problem` instead of skipped silently (a
 * broken link is listed whatever its name, since its target's name is unknown); so is an entry
 * that `include` takes but that is no regular file (a FIFO, a socket, a link to a device, a
 * directory when not `recursive`). The list is
 * gathered before the first entry is yielded, since sorting by key needs it whole. A missing or
 * unreadable `root` throws a {@linkcode CacheError} naming it.
 */
export async function* walkFiles(
  root: string,
  options: WalkOptions = {},
): AsyncGenerator<WalkEntry> {
  const {
    include = () => true,
    key = (relative: string) => relative,
    recursive = true,
    hidden = false,
  } = options;
  const base = root.replace(/(?<=.)[\\/]+$/, "");
  const found: WalkEntry[] = [];

  const visit = async (dir: string, prefix: string, ancestors: Set<string>) => {
    let real: string;
    const entries: Deno.DirEntry[] = [];
    try {
      real = await Deno.realPath(dir);
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (error) {
      throw new CacheError(dir, `cannot read directory: ${errorMessage(error)}`, { cause: error });
    }
    const inside = new Set(ancestors).add(real);
    entries.sort((x, y) => compareUtf8(x.name, y.name));
    for (const entry of entries) {
      if (!hidden && entry.name.startsWith(".")) continue;
      const path = `${dir}/${entry.name}`;
      const relative = prefix + entry.name;
      const problem = (why: string) =>
        found.push({
          path,
          relative,
          key: include(relative) ? key(relative) : relative,
          problem: why,
        });
      let isDirectory = entry.isDirectory;
      let isFile = entry.isFile;
      if (entry.isSymlink) {
        let target: Deno.FileInfo;
        try {
          target = await Deno.stat(path);
        } catch (error) {
          problem(`broken symlink (${errorMessage(error)})`);
          continue;
        }
        isDirectory = target.isDirectory;
        isFile = target.isFile;
        if (isDirectory && recursive) {
          const to = await Deno.realPath(path);
          if (inside.has(to)) {
            problem(`symlink loop: leads back to ${to} (not followed)`);
            continue;
          }
        }
      }
      if (isDirectory && recursive) await visit(path, `${relative}/`, inside);
      else if (isFile && include(relative)) found.push({ path, relative, key: key(relative) });
      else if (include(relative)) {
        // A name that matches but is no regular file (a directory where files are not walked
        // into, a FIFO, a socket, a link to a device) is listed, never opened: opening a FIFO
        // blocks, reading a device never ends.
        const info = await Deno.stat(path).catch(() => undefined);
        const kind = isDirectory
          ? "a directory"
          : info?.isFifo
          ? "a FIFO"
          : info?.isCharDevice
          ? "a character device"
          : info?.isBlockDevice
          ? "a block device"
          : info?.isSocket
          ? "a socket"
          : "an entry of another kind";
        problem(`not a regular file (${kind}${entry.isSymlink ? ", through a symlink" : ""})`);
      }
    }
  };

  await visit(base, "", new Set());
  found.sort((x, y) => compareUtf8(x.key, y.key) || compareUtf8(x.relative, y.relative));
  yield* found;
}
