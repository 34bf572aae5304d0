/**
 * One writer per processed_dir: a lock file created exclusively, holding the owner's pid and
 * host. A lock left by a process that is gone (same host, no such pid) is taken over.
 *
 * @module
 */
import { LockError } from "../errors.ts";
import { join } from "./path.ts";

/** Lock file name inside a processed_dir. */
export const LOCK_FILE = ".h5shard.lock";

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/**
 * Whether a process exists: signal 0 (delivers nothing, checks existence; needs --allow-run),
 * else `/proc/<pid>` (needs --allow-all). When neither can tell, assume it is alive: refusing
 * is safer than two writers.
 */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    if (!(e instanceof Deno.errors.NotCapable)) return true;
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

/** A held lock; {@linkcode DirLock.release} removes it. */
export class DirLock {
  #path: string;
  #released = false;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Takes the lock of `dir` or throws {@linkcode LockError} naming the live owner. */
  static acquire(dir: string): DirLock {
    const path = join(dir, LOCK_FILE);
    const me: LockInfo = { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const f = Deno.openSync(path, { write: true, createNew: true });
        f.writeSync(new TextEncoder().encode(JSON.stringify(me)));
        f.close();
        return new DirLock(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      let owner: LockInfo | undefined;
      try {
        owner = JSON.parse(Deno.readTextFileSync(path));
      } catch {
        // Unreadable or half-written: its writer died between create and write.
      }
      if (owner && (owner.host !== me.host || alive(owner.pid))) {
        throw new LockError(
          dir,
          `another h5shard writer holds this processed_dir (pid ${owner.pid} on ${owner.host} since ${owner.since}); ` +
            `wait for it to finish, or delete ${path} if no such process is running`,
        );
      }
      try {
        Deno.removeSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    throw new LockError(dir, `could not take the lock ${path}`);
  }

  /** Removes the lock file (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      Deno.removeSync(this.#path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
