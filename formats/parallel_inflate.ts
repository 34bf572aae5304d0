/**
 * Inflating one dataset read's chunks on two threads, synchronously: {@linkcode InflateHelper}
 * keeps a helper worker waiting on a shared buffer. A read copies its compressed chunks into
 * that buffer, wakes the helper, and both threads take chunks off one atomic counter until none
 * is left (so neither waits on a plan that guessed wrong); the caller then copies the helper's
 * output into place. Waking the helper costs microseconds, not a message round trip, so reads
 * of a hundred KB or so already gain, and the read stays a plain synchronous call.
 *
 * The helper is served like every worker ({@linkcode serveInflateArena} through `serveTasks`,
 * `workers/inflate_worker.ts`): its one task is the loop that serves the buffer until
 * {@linkcode InflateHelper.close}.
 *
 * @module
 */
import { createInflater, type Inflater, zlibCodec } from "./zlib_codec.ts";
import { type TaskResult, WorkerPool } from "../util/worker_pool.ts";

// Control words, Int32 indices into the buffer's first bytes.
const GEN = 0; // bumped for each round (and to stop): the helper waits on it
const STOP = 1; // 1: the helper returns
const COUNT = 2; // jobs in this round
const NEXT = 3; // next job to take; IDLE between rounds
const DONE = 4; // jobs the helper finished this round
const READY = 5; // 1 once the helper serves
const CTRL_BYTES = 64;
/** NEXT between rounds: a late take finds no job. */
const IDLE = 1 << 30;
/** Per job: input offset, input length, output offset, output length, result. */
const JOB_WORDS = 5;
const MAX_JOBS = 2048;
const TABLE_BYTES = MAX_JOBS * JOB_WORDS * 4;
/** Room for one round's compressed chunks, and for their output. */
const IN_BYTES = 4 << 20;
const OUT_BYTES = 4 << 20;
const IN_AT = CTRL_BYTES + TABLE_BYTES;
const OUT_AT = IN_AT + IN_BYTES;
const ARENA_BYTES = OUT_AT + OUT_BYTES;
/** A job's result when the stream did not inflate (the caller inflates it again to say why). */
const FAILED = -2;
/** How long the helper sleeps between checks when no round comes. */
const HELPER_WAIT_MS = 500;
/** How long a read spins for the helper's last chunk before it sleeps. */
const SPIN_MS = 2;
/** How long a read waits for the helper's last chunk before it calls the helper lost. */
const LOST_MS = 30_000;

/** One chunk: inflate `src` into `dst` (all of `dst` is room). */
export interface InflateJob {
  src: Uint8Array;
  dst: Uint8Array;
}

/**
 * A job's outcome: the bytes written, -1 when the stream holds more than `dst`, or the error
 * that inflating it on the calling thread threw.
 */
export type InflateResult = number | Error;

/** What a reader needs to inflate on two threads: the size that pays, and the helper. */
export interface ParallelInflate {
  /** A dataset read whose chunks inflate to at least this many bytes may use the helper. */
  minBytes: number;
  /**
   * The helper for a read of `bytes` (inflated), or undefined to read on this thread alone:
   * starting a worker costs tens of ms, so a reader starts one only once its reads have shown
   * enough work to repay that.
   */
  helper(bytes: number): InflateHelper | undefined;
}

/** The payload of the helper's one task. */
export interface InflateArenaRequest {
  arena: SharedArrayBuffer;
}

/**
 * The helper's side: serves `arena` until told to stop, taking jobs off the shared counter.
 * Answers with the number of chunks it inflated.
 */
export function serveInflateArena(req: InflateArenaRequest): TaskResult<number> {
  const ctrl = new Int32Array(req.arena, 0, CTRL_BYTES / 4);
  const table = new Int32Array(req.arena, CTRL_BYTES, MAX_JOBS * JOB_WORDS);
  const bytes = new Uint8Array(req.arena);
  const inflater = createInflater();
  // node:zlib's handle wants memory of its own; libdeflate reads the shared buffer in place.
  const own = zlibCodec().codec !== "libdeflate";
  let seen = 0;
  let served = 0;
  Atomics.store(ctrl, READY, 1);
  for (;;) {
    if (Atomics.load(ctrl, STOP) === 1) return { value: served };
    const gen = Atomics.load(ctrl, GEN);
    if (gen === seen) {
      Atomics.wait(ctrl, GEN, gen, HELPER_WAIT_MS);
      continue;
    }
    seen = gen;
    for (;;) {
      const i = Atomics.add(ctrl, NEXT, 1);
      if (i >= Atomics.load(ctrl, COUNT)) break;
      const j = i * JOB_WORDS;
      const src = bytes.subarray(table[j], table[j] + table[j + 1]);
      const dst = bytes.subarray(table[j + 2], table[j + 2] + table[j + 3]);
      let r: number;
      try {
        r = inflater.inflateInto(own ? src.slice() : src, dst);
      } catch {
        r = FAILED;
      }
      Atomics.store(table, j + 4, r);
      served++;
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
}

/**
 * A helper thread for inflating chunks, with {@linkcode inflateAll} as a synchronous call.
 * Until the helper has started (tens of ms), the calling thread simply does every job itself.
 * Close it when done; an open helper keeps the process alive.
 *
 * @example
 * ```ts
 * import { createDeflater, createInflater } from "./zlib_codec.ts";
 * const helper = new InflateHelper();
 * const deflater = createDeflater(4);
 * const jobs = Array.from({ length: 32 }, (_, i) => ({
 *   src: deflater.deflate(new Uint8Array(4096).fill(i)),
 *   dst: new Uint8Array(4096),
 * }));
 * const results = helper.inflateAll(jobs, createInflater());
 * helper.close();
 * if (!results.every((n, i) => n === 4096 && jobs[i].dst[0] === i)) throw new Error("inflate");
 * ```
 */
export class InflateHelper {
  #arena = new SharedArrayBuffer(ARENA_BYTES);
  #ctrl = new Int32Array(this.#arena, 0, CTRL_BYTES / 4);
  #table = new Int32Array(this.#arena, CTRL_BYTES, MAX_JOBS * JOB_WORDS);
  #bytes = new Uint8Array(this.#arena);
  #pool: WorkerPool<InflateArenaRequest, number>;
  #closed = false;
  #helped = 0;

  constructor() {
    Atomics.store(this.#ctrl, NEXT, IDLE);
    this.#pool = new WorkerPool(new URL("../workers/inflate_worker.ts", import.meta.url), {
      size: 1,
      name: "h5shard inflate helper",
    });
    // Settles when the helper stops; a helper that could not start leaves every job here.
    this.#pool.run({ arena: this.#arena }).catch(() => {});
  }

  /**
   * Inflates every job, on this thread and the helper's. Never throws for a bad stream: that
   * job's result is the error, as inflating it here alone would have thrown it.
   */
  inflateAll(jobs: readonly InflateJob[], inflater: Inflater): InflateResult[] {
    if (this.#closed) throw new Error("inflate helper is closed");
    const results: InflateResult[] = new Array(jobs.length);
    let first = 0;
    while (first < jobs.length) {
      // A round: as many jobs as the shared buffer holds.
      let inAt = IN_AT;
      let outAt = OUT_AT;
      let end = first;
      while (end < jobs.length && end - first < MAX_JOBS) {
        const { src, dst } = jobs[end];
        if (inAt + src.length > OUT_AT || outAt + dst.length > ARENA_BYTES) break;
        const j = (end - first) * JOB_WORDS;
        this.#bytes.set(src, inAt);
        this.#table[j] = inAt;
        this.#table[j + 1] = src.length;
        this.#table[j + 2] = outAt;
        this.#table[j + 3] = dst.length;
        inAt += src.length;
        outAt += dst.length;
        end++;
      }
      if (end === first) {
        // One chunk larger than the buffer: inflate it here.
        results[first] = inflateHere(inflater, jobs[first]);
        first++;
        continue;
      }
      this.#round(jobs, first, end, results, inflater);
      first = end;
    }
    return results;
  }

  #round(
    jobs: readonly InflateJob[],
    first: number,
    end: number,
    results: InflateResult[],
    inflater: Inflater,
  ): void {
    const ctrl = this.#ctrl;
    const n = end - first;
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, COUNT, n);
    Atomics.store(ctrl, NEXT, 0);
    Atomics.add(ctrl, GEN, 1);
    Atomics.notify(ctrl, GEN);
    const mine = new Uint8Array(n);
    let taken = 0;
    for (;;) {
      const i = Atomics.add(ctrl, NEXT, 1);
      if (i >= n) break;
      mine[i] = 1;
      taken++;
      results[first + i] = inflateHere(inflater, jobs[first + i]);
    }
    // The helper has at most the chunk it holds left: spin for it rather than sleep, since
    // waking this thread again costs as much as a chunk (tens of µs); sleep only past SPIN_MS.
    const since = performance.now();
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (taken + done >= n) break;
      const waited = performance.now() - since;
      if (waited < SPIN_MS) continue;
      if (waited > LOST_MS) {
        // No late take may read this round's table once the caller has given up on it.
        Atomics.store(ctrl, NEXT, IDLE);
        throw new Error(`inflate helper lost: ${n - taken - done} chunk(s) unanswered`);
      }
      Atomics.wait(ctrl, DONE, done, 100);
    }
    Atomics.store(ctrl, NEXT, IDLE);
    this.#helped += n - taken;
    for (let i = 0; i < n; i++) {
      if (mine[i]) continue;
      const job = jobs[first + i];
      const j = i * JOB_WORDS;
      const r = this.#table[j + 4];
      if (r === FAILED) {
        // Inflated again here, so the error says what this thread's inflater says.
        results[first + i] = inflateHere(inflater, job);
        continue;
      }
      if (r > 0) job.dst.set(this.#bytes.subarray(this.#table[j + 2], this.#table[j + 2] + r));
      results[first + i] = r;
    }
  }

  /**
   * True once the helper thread serves. Until then a round would only cost copies into the
   * shared buffer, so a reader inflates on its own thread.
   */
  get ready(): boolean {
    return Atomics.load(this.#ctrl, READY) === 1;
  }

  /** Jobs the helper thread has inflated so far (0 until it has started). */
  get helped(): number {
    return this.#helped;
  }

  /** Stops the helper. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#ctrl, STOP, 1);
    Atomics.add(this.#ctrl, GEN, 1);
    Atomics.notify(this.#ctrl, GEN);
    this.#pool.terminate("inflate helper closed");
  }
}

function inflateHere(inflater: Inflater, job: InflateJob): InflateResult {
  try {
    return inflater.inflateInto(job.src, job.dst);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
