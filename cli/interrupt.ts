/**
 * SIGINT and SIGTERM during a write run (`preprocess`, `migrate`): instead of dying mid-write,
 * the run is aborted through an AbortSignal, the sink checkpoints and lets go of the lock, and
 * the command exits 130 (SIGINT) or 143 (SIGTERM, a scheduler's preemption) saying how to resume.
 *
 * @module
 */

const STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
type Stop = keyof typeof STATUS;

/** An interrupt watch, live until `dispose()`. */
export interface InterruptWatch {
  /** Aborted on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** 130 or 143 once a signal came, else undefined. */
  status(): number | undefined;
  /** Stops listening (the signals' default actions come back). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM (where the platform has them) and aborts `signal` on the first.
 *
 * @example
 * ```ts
 * import { watchInterrupts } from "./interrupt.ts";
 * const watch = watchInterrupts();
 * try {
 *   if (watch.signal.aborted || watch.status() !== undefined) throw new Error("no signal yet");
 * } finally {
 *   watch.dispose();
 * }
 * ```
 */
export function watchInterrupts(): InterruptWatch {
  const controller = new AbortController();
  let got: Stop | undefined;
  const listeners: [Stop, () => void][] = [];
  for (const name of Object.keys(STATUS) as Stop[]) {
    const listener = () => {
      if (got !== undefined) return; // already stopping: let the checkpoint finish
      got = name;
      controller.abort(new DOMException(`interrupted by ${name}`, "AbortError"));
    };
    try {
      Deno.addSignalListener(name, listener);
      listeners.push([name, listener]);
    } catch {
      // Not on this platform (SIGTERM on Windows).
    }
  }
  return {
    signal: controller.signal,
    status: () => got === undefined ? undefined : STATUS[got],
    dispose() {
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}
