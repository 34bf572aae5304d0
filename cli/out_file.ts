/**
 * The shared check of an `--out FILE` option, run before any work: the folder it goes in must
 * exist (named when it does not, rather than a raw `NotFound` after the work), and the name
 * must end as the format the command writes (`get` writes `.npy`, `plot` a `.png`).
 *
 * @module
 */
import { UsageError } from "./command.ts";

/**
 * Refuses `--out path` with a {@linkcode UsageError} (exit 2) when its folder is missing or
 * not a folder, when `path` is itself a folder, or, given `extension` (`.npy`), when the name
 * ends otherwise.
 *
 * @example
 * ```ts
 * import { checkOutFile } from "./out_file.ts";
 * let refused = "";
 * try {
 *   checkOutFile("mel.txt", ".npy", "get");
 * } catch (e) {
 *   refused = (e as Error).message;
 * }
 * if (!refused.includes(".npy")) throw new Error(refused);
 * ```
 */
export function checkOutFile(path: string, extension: string | undefined, command: string): void {
  if (extension !== undefined && !path.toLowerCase().endsWith(extension)) {
    const dot = path.lastIndexOf(".");
    const got = dot > path.lastIndexOf("/") ? `"${path.slice(dot)}"` : "no extension";
    throw new UsageError(
      `--out ${JSON.stringify(path)}: ${command} writes ${extension} (got ${got}); ` +
        `name the file ${suggest(path, extension)}`,
    );
  }
  const slash = path.lastIndexOf("/");
  const folder = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(folder);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `--out ${JSON.stringify(path)}: the folder ${folder} does not exist (create it first: ` +
          `mkdir -p ${folder})`,
      );
    }
    throw e;
  }
  if (!info.isDirectory) {
    throw new UsageError(`--out ${JSON.stringify(path)}: ${folder} is not a folder`);
  }
  try {
    if (Deno.statSync(path).isDirectory) {
      throw new UsageError(`--out ${JSON.stringify(path)} is a folder: give a file name in it`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** `path` with `extension` in place of its own (or added). */
function suggest(path: string, extension: string): string {
  const dot = path.lastIndexOf(".");
  return (dot > path.lastIndexOf("/") ? path.slice(0, dot) : path) + extension;
}
