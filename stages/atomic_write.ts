/**
 * Durable, atomic replacement of a small file: write a temporary sibling, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old content or the new, never a mix.
 *
 * @module
 */
import { dirname, join } from "./path.ts";

/** Atomically replaces `path` with `text` (UTF-8) and makes the change durable. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${path.split("/").pop()}.tmp-${Deno.pid}`);
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < data.length) off += file.writeSync(data.subarray(off));
    file.syncSync();
  } finally {
    file.close();
  }
  Deno.renameSync(tmp, path);
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
