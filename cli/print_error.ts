/**
 * The one error printer of the CLI: each fact once. A message already naming its subject is not
 * prefixed again, and a cause whose text the output already holds is not repeated.
 *
 * @module
 */
import { FormatError, H5ShardError } from "../errors.ts";
import { naming } from "../ops/cache_checks.ts";

function text(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (!(e instanceof H5ShardError)) {
    return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
  }
  const subject = (e as { file?: unknown }).file;
  const message = typeof subject === "string" ? once(e.message, subject) : e.message;
  // A damaged dataset found below the sample's reader: name the sample and dataset.
  return e instanceof FormatError ? naming(message, { key: e.key, dataset: e.dataset }) : message;
}

/**
 * `message` with `subject: ` kept only where it first appears: a wrapper that names its file
 * around a cause that names it too reads "x.npz: not a zip file", not "x.npz: x.npz: ...".
 *
 * @example
 * ```ts
 * const text = once('sample "a" (a.npz): a.npz: bad header', "a.npz");
 * if (text !== 'sample "a" (a.npz): bad header') throw new Error(text);
 * ```
 */
export function once(message: string, subject: string): string {
  const first = message.indexOf(subject);
  if (first < 0 || subject === "") return message;
  const head = message.slice(0, first + subject.length);
  return head + message.slice(head.length).replaceAll(`${subject}: `, "");
}

/**
 * `subject: message`, unless the message already names the subject (then once).
 *
 * @example
 * ```ts
 * if (withSubject("a.npz", "a.npz: bad header") !== "a.npz: bad header") throw new Error();
 * if (withSubject("a.npz", "bad header") !== "a.npz: bad header") throw new Error();
 * ```
 */
export function withSubject(subject: string, message: string): string {
  return message.includes(subject) ? once(message, subject) : `${subject}: ${message}`;
}

/**
 * The lines that describe an error: `error: <message>`, then `  caused by: <message>` for
 * each cause that adds something. With `debug`, an unexpected error's stack follows.
 *
 * @example
 * ```ts
 * const inner = new Error("disk full");
 * const outer = new Error("x.h5: write failed: disk full", { cause: inner });
 * if (errorLines(outer).length !== 1) throw new Error("the cause says nothing new");
 * ```
 */
export function errorLines(error: unknown, debug = false): string[] {
  const raw = (e: unknown) => e instanceof Error ? e.message : String(e);
  const lines = [`error: ${text(error)}`];
  const said = [raw(error)];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    if (!said.some((s) => s.includes(raw(cause)))) lines.push(`  caused by: ${text(cause)}`);
    said.push(raw(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (debug && error instanceof Error && !(error instanceof H5ShardError)) {
    lines.push(error.stack ?? "");
  }
  return lines;
}
