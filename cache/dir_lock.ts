/**
 * One writer per processed_dir: a lock file holding the owner's pid, process start time, boot,
 * host and a random token. The content is complete before the lock is visible: it is written to
 * a private file, then hard-linked into place, which fails when a lock is already there.
 *
 * A lock is stale only when its holder is gone: no such process, a zombie, a process that is
 * not the one that took it (its start time differs: the pid was reused), or a lock from an
 * earlier boot of this host. A lock from another host is never taken over automatically.
 * Taking over a stale lock and releasing one move it aside to a private name first and remove
 * it only when its token is the one judged, so a lock that another writer just took is never
 * removed.
 *
 * @module
 */
import { LockError } from "../errors.ts";
import { join } from "../util/path.ts";

/** Lock file name inside a processed_dir. */
export const LOCK_FILE = ".h5shard.lock";

/** What a lock file records. */
interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** Random, unique to one acquisition. */
  token?: string;
  /** The holder's start time (field 22 of `/proc/<pid>/stat`), where the system has it. */
  start?: string;
  /** `/proc/sys/kernel/random/boot_id`, where the system has it. */
  boot?: string;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

function readSmall(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** State and start time of a process from `/proc/<pid>/stat`; null when there is no such process. */
function procStat(pid: number): { state: string; start: string } | null | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // No /proc at all: this system cannot tell.
      return readSmall("/proc/self/stat") === undefined ? undefined : null;
    }
    return undefined;
  }
  // "pid (comm) state ..." where comm may hold spaces and parentheses: fields after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (fields.length < 20) return undefined;
  return { state: fields[0], start: fields[19] };
}

function bootId(): string | undefined {
  return readSmall("/proc/sys/kernel/random/boot_id")?.trim() || undefined;
}

/**
 * Whether the process that wrote `owner` still runs. When the system cannot tell, it is taken
 * to run: refusing is safer than two writers.
 */
function holderAlive(owner: LockInfo): boolean {
  const boot = bootId();
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return false;
  const stat = procStat(owner.pid);
  if (stat === null) return false;
  if (stat) {
    if (stat.state === "Z" || stat.state === "X") return false;
    if (owner.start !== undefined && owner.start !== stat.start) return false;
    return true;
  }
  try {
    Deno.kill(owner.pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text);
    if (
      typeof v === "object" && v !== null && Number.isSafeInteger(v.pid) && v.pid > 0 &&
      typeof v.host === "string"
    ) {
      return v as LockInfo;
    }
  } catch {
    // not a lock we can read
  }
  return undefined;
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone
  }
}

/**
 * Moves the file at `path` aside and removes it when its content is still `expected`; puts it
 * back otherwise. Returns whether it was removed.
 */
function removeIfUnchanged(path: string, expected: string, aside: string): boolean {
  try {
    Deno.renameSync(path, aside);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (readSmall(aside) === expected) {
    removeQuietly(aside);
    return true;
  }
  // Someone else's lock, taken between our read and the rename: put it back (unless yet another
  // writer's lock is there by now, which then stands).
  try {
    Deno.linkSync(aside, path);
  } catch {
    // AlreadyExists: the place is taken again
  } finally {
    removeQuietly(aside);
  }
  return false;
}

/** A held lock; {@linkcode DirLock.release} removes it. */
export class DirLock {
  #path: string;
  #text: string;
  #token: string;
  #released = false;

  private constructor(path: string, text: string, token: string) {
    this.#path = path;
    this.#text = text;
    this.#token = token;
  }

  /** Takes the lock of `dir` or throws {@linkcode LockError} naming the live owner. */
  static acquire(dir: string): DirLock {
    const path = join(dir, LOCK_FILE);
    const token = crypto.randomUUID();
    const me: LockInfo = {
      pid: Deno.pid,
      host: hostname(),
      since: new Date().toISOString(),
      token,
    };
    const stat = procStat(Deno.pid);
    if (stat) me.start = stat.start;
    const boot = bootId();
    if (boot) me.boot = boot;
    const text = JSON.stringify(me);
    const mine = join(dir, `${LOCK_FILE}-${token}`);
    const file = Deno.openSync(mine, { write: true, createNew: true });
    try {
      file.writeSync(new TextEncoder().encode(text));
      file.syncSync();
    } finally {
      file.close();
    }
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          Deno.linkSync(mine, path);
          return new DirLock(path, text, token);
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
        const found = readSmall(path);
        if (found === undefined) continue; // released meanwhile
        const owner = parseLock(found);
        if (!owner) {
          throw new LockError(
            dir,
            `${path} is not a lock this version can read (${
              JSON.stringify(found.slice(0, 80))
            }); ` +
              "delete it if no h5shard writer is running",
          );
        }
        const held = `pid ${owner.pid} on ${owner.host} since ${owner.since}`;
        if (owner.host !== me.host) {
          throw new LockError(
            dir,
            `another h5shard writer holds this processed_dir (${held}), on another host, which ` +
              `this host cannot check; wait for it to finish, or delete ${path} if it is not running`,
          );
        }
        if (holderAlive(owner)) {
          throw new LockError(
            dir,
            `another h5shard writer holds this processed_dir (${held}); ` +
              `wait for it to finish, or delete ${path} if no such process is running`,
          );
        }
        removeIfUnchanged(path, found, join(dir, `${LOCK_FILE}-stale-${token}`));
      }
      throw new LockError(dir, `could not take the lock ${path}: other writers keep taking it`);
    } finally {
      removeQuietly(mine);
    }
  }

  /** This acquisition's random token (recorded in the lock file). */
  get token(): string {
    return this.#token;
  }

  /** Removes the lock file if it is still this one's (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const dir = this.#path.slice(0, this.#path.length - LOCK_FILE.length - 1) || ".";
    removeIfUnchanged(this.#path, this.#text, join(dir, `${LOCK_FILE}-release-${this.#token}`));
  }
}
