/**
 * Durable, atomic replacement of a small file: write a temporary sibling, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old content or the new, never a mix.
 *
 * @module
 */
import { CacheError, errorMessage } from "../errors.ts";
import { dirname, join } from "../util/path.ts";

/** The temporary sibling's name: `.hdf5_index.json.tmp-<pid>`. */
function temporaryName(name: string, pid: number): string {
  return `.${name}.tmp-${pid}`;
}

/**
 * Whether a file name is a temporary of {@linkcode writeFileAtomic} (left behind only when a
 * process dies between writing and renaming it).
 *
 * @example
 * ```ts
 * if (!isTemporaryName(".hdf5_index.json.tmp-4242") || isTemporaryName("hdf5_index.json")) {
 *   throw new Error();
 * }
 * ```
 */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.tmp-\d+$/.test(name);
}

/**
 * Whether an error comes from the operating system (no space, read-only file system, I/O
 * error, permission): such an error stops a run, where a bad sample only fails itself.
 */
export function isIoError(e: unknown): boolean {
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return true;
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return /^E[A-Z0-9]+$/.test(code);
  // Not every errno gets a code (EFBIG does not): the runtime still says "(os error N)".
  return e instanceof Error && /\(os error \d+\)/.test(e.message);
}

/**
 * Atomically replaces `path` with `text` (UTF-8) and makes the change durable. A failure (no
 * space left, ...) throws a {@linkcode CacheError} naming `path`; the target keeps its old
 * content and the temporary is removed.
 */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = join(dirname(path), temporaryName(path.split("/").pop()!, Deno.pid));
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  try {
    // A temporary left by a killed run is replaced by name (never opened: it may be a link).
    try {
      Deno.removeSync(tmp);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const file = Deno.openSync(tmp, { write: true, createNew: true });
    try {
      let off = 0;
      while (off < data.length) off += file.writeSync(data.subarray(off));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    const name = path.split("/").pop();
    throw new CacheError(dirname(path), `cannot write ${name}: ${errorMessage(e)}`, { cause: e });
  }
  syncDir(dirname(path));
}

/** fsync a directory so a rename in it survives a crash (best effort where unsupported). */
export function syncDir(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // Some platforms cannot open or fsync a directory; the rename is still atomic there.
  }
}
