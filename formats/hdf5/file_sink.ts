/**
 * The thin I/O layer under the encoder: appends bytes to a file through a write buffer
 * (small metadata pieces are gathered; big chunk buffers go straight to disk), tracks the
 * next write position and rewrites the superblock at offset 0.
 *
 * @module
 */

/** Small writes are gathered up to this many bytes. */
const BUFFER_SIZE = 2 * 1024 * 1024;
/** Writes at least this big bypass the buffer. */
const DIRECT_SIZE = 256 * 1024;
/** Write-back of what the OS holds starts early every this many bytes (see {@linkcode FileSink}). */
const WRITE_BACK_BYTES = 64 << 20;

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/**
 * Append-only, buffered writes to an open file positioned at its end.
 *
 * Given the file's path, every {@linkcode WRITE_BACK_BYTES} handed to the OS start an async
 * fdatasync on a second handle of the file (on Deno's blocking pool), so the checkpoint's
 * {@linkcode sync} finds little left to flush. Only that blocking sync on the writing handle
 * vouches for durability: a write-back error reaches it too (Linux reports it to every open
 * handle), so the early one's outcome can be ignored.
 */
export class FileSink {
  #file: Deno.FsFile;
  #path?: string;
  #writeBack?: Deno.FsFile;
  #busy = false;
  #handed = 0;
  #buffer = new Uint8Array(BUFFER_SIZE);
  #used = 0;
  #position: number;

  /** A sink over `file`, whose OS position must be `position` (its length), found at `path`. */
  constructor(file: Deno.FsFile, position: number, path?: string) {
    this.#file = file;
    this.#position = position;
    this.#path = path;
  }

  /** Next write position (buffered bytes included). */
  get position(): number {
    return this.#position;
  }

  /** Appends `bytes`. */
  write(bytes: Uint8Array): void {
    if (bytes.length >= DIRECT_SIZE) {
      this.flush();
      writeAll(this.#file, bytes);
      this.#handedOver(bytes.length);
    } else {
      if (this.#used + bytes.length > BUFFER_SIZE) this.flush();
      this.#buffer.set(bytes, this.#used);
      this.#used += bytes.length;
    }
    this.#position += bytes.length;
  }

  /** Appends zeros up to the next multiple of 8 (metadata starts 8-aligned, as HDF5's does). */
  align8(): void {
    const pad = (8 - (this.#position % 8)) % 8;
    if (pad > 0) this.write(new Uint8Array(pad));
  }

  /** Hands buffered bytes to the OS. */
  flush(): void {
    if (this.#used === 0) return;
    writeAll(this.#file, this.#buffer.subarray(0, this.#used));
    this.#handedOver(this.#used);
    this.#used = 0;
  }

  #handedOver(bytes: number): void {
    this.#handed += bytes;
    if (this.#handed < WRITE_BACK_BYTES || this.#busy || this.#path === undefined) return;
    this.#handed = 0;
    try {
      this.#writeBack ??= Deno.openSync(this.#path, { read: true });
    } catch {
      this.#path = undefined; // cannot reopen: the checkpoint syncs it all, as without this
      return;
    }
    this.#busy = true;
    this.#writeBack.syncData().catch(() => {}).finally(() => this.#busy = false);
  }

  /** Flushes and waits until the data is on disk. */
  sync(): void {
    this.flush();
    this.#file.syncDataSync();
    this.#handed = 0;
  }

  /** Overwrites the file's first bytes (the superblock), then returns to the end. */
  writeAtStart(bytes: Uint8Array): void {
    this.flush();
    this.#file.seekSync(0, Deno.SeekMode.Start);
    writeAll(this.#file, bytes);
    this.#file.seekSync(this.#position, Deno.SeekMode.Start);
  }

  /** Closes the file; unflushed bytes are dropped. */
  close(): void {
    this.#file.close();
    // A write-back in flight keeps its own reference to the handle until it ends.
    this.#writeBack?.close();
    this.#writeBack = undefined;
  }
}
