/**
 * A small pool of module Web Workers that run one kind of task, plus the worker-side helper
 * {@linkcode serveTasks}. Tasks queue in FIFO order; each worker holds at most a couple at a
 * time so it never idles between tasks, and the earliest tasks finish first. Used for deflate
 * (DeflateStream) and for reading (openCache's workers). An error a task throws comes back as
 * the same class with its fields and cause (errors.ts' error wire). Every worker's entry module
 * lives in `workers/` (listed in `workers/entries.ts`) and serves through {@linkcode serveTasks};
 * the pool itself sits low, so the stages and ops that start workers can import it.
 *
 * @module
 */
import { errorFromWire, errorToWire, type WireError } from "../errors.ts";

interface Request<T> {
  id: number;
  payload: T;
}

type Reply<R> =
  | { id: number; value: R }
  | { id: number; error: WireError }
  | { id: number; progress: unknown };

interface Job<T, R> {
  id: number;
  payload: T;
  transfer: Transferable[];
  onProgress?: (note: unknown) => void;
  resolve(value: R): void;
  reject(error: Error): void;
}

interface Slot<T, R> {
  worker: Worker;
  jobs: Map<number, Job<T, R>>;
}

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of workers, at least 1. */
  size: number;
  /** Tasks sent ahead to one worker before it answers. Default 2. */
  perWorker?: number;
  /** Names the workers in error messages. Default "worker". */
  name?: string;
}

/**
 * Runs tasks on up to `size` workers of the module at `url` (which calls
 * {@linkcode serveTasks}). Workers start on the first task; a worker that dies fails only its
 * own tasks and is replaced on demand; {@linkcode WorkerPool.terminate} stops them all.
 *
 * @example
 * ```ts
 * const options: WorkerPoolOptions = { size: 1 };
 * const source = `self.onmessage = (e) => self.postMessage({ id: e.data.id, value: e.data.payload * 2 });`;
 * const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
 * const pool = new WorkerPool<number, number>(new URL(url), options);
 * try {
 *   const expected: TaskResult<number> = { value: 42 };
 *   if ((await pool.run(21)) !== expected.value) throw new Error("wrong answer");
 * } finally {
 *   pool.terminate();
 *   URL.revokeObjectURL(url);
 * }
 * // A worker module written in TypeScript calls serveTasks(import.meta, (n: number) => ({ value: n * 2 })).
 * if (typeof serveTasks !== "function") throw new Error("serveTasks is the worker side");
 * ```
 */
export class WorkerPool<T, R> {
  readonly #url: URL;
  readonly #size: number;
  readonly #perWorker: number;
  readonly #name: string;
  #slots: Slot<T, R>[] = [];
  #queue: Job<T, R>[] = [];
  #nextId = 0;
  #terminated = false;

  constructor(url: URL, options: WorkerPoolOptions) {
    const { size, perWorker = 2, name = "worker" } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`WorkerPool: size must be an integer >= 1, got ${JSON.stringify(size)}`);
    }
    if (!Number.isInteger(perWorker) || perWorker < 1) {
      throw new RangeError(
        `WorkerPool: perWorker must be an integer >= 1, got ${JSON.stringify(perWorker)}`,
      );
    }
    this.#url = url;
    this.#size = size;
    this.#perWorker = perWorker;
    this.#name = name;
  }

  /** Starts every worker now, so their start-up overlaps whatever comes before the first task. */
  prestart(): void {
    while (!this.#terminated && this.#slots.length < this.#size) this.#spawn();
  }

  /**
   * Runs one task; `transfer` lists buffers moved (not copied) to the worker; `onProgress`
   * gets each note the handler sends through its `progress` callback before it answers.
   */
  run(
    payload: T,
    transfer: Transferable[] = [],
    onProgress?: (note: unknown) => void,
  ): Promise<R> {
    if (this.#terminated) return Promise.reject(new Error(`${this.#name} pool is terminated`));
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, payload, transfer, onProgress, resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Stops every worker; tasks not finished yet reject, with `reason` when given. Safe to call
   * more than once.
   */
  terminate(reason?: string): void {
    if (this.#terminated) return;
    this.#terminated = true;
    const error = new Error(reason ?? `${this.#name} pool terminated`);
    for (const slot of this.#slots) {
      slot.worker.terminate();
      for (const job of slot.jobs.values()) job.reject(error);
    }
    for (const job of this.#queue) job.reject(error);
    this.#slots = [];
    this.#queue = [];
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#freeSlot();
      if (!slot) return;
      const job = this.#queue.shift()!;
      slot.jobs.set(job.id, job);
      try {
        slot.worker.postMessage({ id: job.id, payload: job.payload } as Request<T>, job.transfer);
      } catch (error) {
        slot.jobs.delete(job.id);
        job.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  #freeSlot(): Slot<T, R> | undefined {
    let best: Slot<T, R> | undefined;
    for (const slot of this.#slots) {
      if (slot.jobs.size < this.#perWorker && (!best || slot.jobs.size < best.jobs.size)) {
        best = slot;
      }
    }
    // A fresh worker beats queueing behind a busy one.
    if ((!best || best.jobs.size > 0) && this.#slots.length < this.#size) return this.#spawn();
    return best;
  }

  #spawn(): Slot<T, R> {
    const worker = new Worker(this.#url, { type: "module", name: this.#name });
    const slot: Slot<T, R> = { worker, jobs: new Map() };
    worker.onmessage = (event: MessageEvent<Reply<R>>) => {
      const reply = event.data;
      const job = slot.jobs.get(reply.id);
      if (!job) return;
      if ("progress" in reply) {
        job.onProgress?.(reply.progress);
        return;
      }
      slot.jobs.delete(reply.id);
      if ("error" in reply) job.reject(errorFromWire(reply.error));
      else job.resolve(reply.value);
      this.#dispatch();
    };
    const fail = (message: string) => {
      worker.terminate();
      this.#slots = this.#slots.filter((s) => s !== slot);
      const error = new Error(`${this.#name} died: ${message}`);
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
      this.#dispatch();
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: left alone, a worker's uncaught error would take the whole process down.
      event.preventDefault();
      fail(event.message);
    };
    worker.onmessageerror = () => fail("a reply could not be deserialized");
    this.#slots.push(slot);
    return slot;
  }
}

/** What a task handler returns: the value and the buffers to move back to the caller. */
export interface TaskResult<R> {
  value: R;
  transfer?: Transferable[];
}

/**
 * True when the module whose `import.meta` is `meta` is the entry module of a Web Worker: only
 * then does it serve tasks. Imported anywhere else (the main thread, a test, a user's extractor
 * that imports mod.ts inside a feature worker), a worker module only exports its functions.
 */
export function isWorkerEntry(meta: ImportMeta): boolean {
  return meta.main === true && "WorkerGlobalScope" in globalThis;
}

/**
 * Worker side of {@linkcode WorkerPool}, the one way every worker module serves: when the
 * module of `meta` is this worker's entry module ({@linkcode isWorkerEntry}), answers each task
 * with `handler`'s result (or the promise of one), or with the error it threw, flattened so the
 * caller gets the same class, fields (`code`, `key`, `dataset`, ...) and cause. Elsewhere it
 * does nothing and returns false. The handler's `progress` sends a note to the task's
 * `onProgress` before the answer. Call it at the top level of the module: a task that arrives
 * while nobody listens is lost.
 *
 * @example
 * ```ts
 * // workers/double_worker.ts would read: serveTasks(import.meta, (n: number) => ({ value: 2 * n }));
 * // On the main thread (not a worker's entry module) it does not serve:
 * if (serveTasks(import.meta, (n: number) => ({ value: 2 * n }))) throw new Error("served");
 * ```
 */
export function serveTasks<T, R>(
  meta: ImportMeta,
  handler: (
    payload: T,
    progress: (note: unknown) => void,
  ) => TaskResult<R> | Promise<TaskResult<R>>,
): boolean {
  if (!isWorkerEntry(meta)) return false;
  serveTasksHere(handler);
  return true;
}

/**
 * {@linkcode serveTasks} without the entry-module check: takes over this worker's messages now.
 * For a worker whose entry module wraps a worker module (a test's stand-in, say).
 */
export function serveTasksHere<T, R>(
  handler: (
    payload: T,
    progress: (note: unknown) => void,
  ) => TaskResult<R> | Promise<TaskResult<R>>,
): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<Request<T>>) => void) | null;
    postMessage(message: Reply<R>, transfer?: Transferable[]): void;
  };
  const reply = (id: number, result: TaskResult<R>) => {
    scope.postMessage({ id, value: result.value }, result.transfer ?? []);
  };
  const fail = (id: number, error: unknown) => scope.postMessage({ id, error: errorToWire(error) });
  scope.onmessage = (event) => {
    const { id, payload } = event.data;
    let result: TaskResult<R> | Promise<TaskResult<R>>;
    try {
      result = handler(payload, (note) => scope.postMessage({ id, progress: note }));
    } catch (error) {
      fail(id, error);
      return;
    }
    if (result instanceof Promise) result.then((r) => reply(id, r), (e) => fail(id, e));
    else reply(id, result);
  };
}
