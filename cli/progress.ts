/**
 * A progress line on stderr: samples done, rate, ETA. Redrawn in place on a terminal; plain
 * lines every few seconds otherwise (logs, CI).
 *
 * @module
 */

/** Options of {@linkcode ProgressBar}. */
export interface ProgressOptions {
  /** What is being counted, e.g. "samples". */
  unit?: string;
  /** Where to write; defaults to stderr. */
  write?: (text: string) => void;
  /** Redraw in place (default: stderr is a terminal). */
  interactive?: boolean;
  /** Seconds between plain lines when not interactive (default 5). */
  plainEvery?: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** A progress bar for long work. Call {@linkcode update} often; it throttles itself. */
export class ProgressBar {
  #label: string;
  #total: number | undefined;
  #unit: string;
  #write: (text: string) => void;
  #interactive: boolean;
  #plainEvery: number;
  #start = performance.now();
  #lastDraw = 0;
  #done = 0;
  #extra = "";
  #drew = false;

  constructor(label: string, total: number | undefined, options: ProgressOptions = {}) {
    this.#label = label;
    this.#total = total;
    this.#unit = options.unit ?? "samples";
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((t) => Deno.stderr.writeSync(encoder.encode(t)));
    this.#interactive = options.interactive ?? Deno.stderr.isTerminal();
    this.#plainEvery = (options.plainEvery ?? 5) * 1000;
  }

  /** Sets the total once it is known. */
  set total(total: number | undefined) {
    this.#total = total;
  }

  /** Sets the count done (and an optional note such as "3 failed"). */
  update(done: number, extra = ""): void {
    this.#done = done;
    this.#extra = extra;
    const now = performance.now();
    const every = this.#interactive ? 100 : this.#plainEvery;
    if (now - this.#lastDraw >= every) this.#draw(now);
  }

  /** Draws the final state and ends the line. */
  finish(extra?: string): void {
    if (extra !== undefined) this.#extra = extra;
    this.#draw(performance.now());
    if (this.#interactive && this.#drew) this.#write("\n");
  }

  /** The current line's text (for tests and logs). */
  line(now = performance.now()): string {
    const secs = (now - this.#start) / 1000;
    const rate = secs > 0 ? this.#done / secs : 0;
    const parts = [this.#label];
    if (this.#total !== undefined && this.#total > 0) {
      const frac = Math.min(1, this.#done / this.#total);
      const width = 24;
      const fill = Math.round(frac * width);
      parts.push(
        `[${"#".repeat(fill)}${
          "-".repeat(width - fill)
        }] ${this.#done}/${this.#total} ${this.#unit}`,
        `${(frac * 100).toFixed(0)}%`,
      );
      const left = rate > 0 ? (this.#total - this.#done) / rate : Infinity;
      parts.push(`${rate.toFixed(1)}/s`, `ETA ${duration(left)}`);
    } else {
      parts.push(`${this.#done} ${this.#unit}`, `${rate.toFixed(1)}/s`, duration(secs));
    }
    if (this.#extra) parts.push(this.#extra);
    return parts.join("  ");
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    const text = this.line(now);
    this.#write(this.#interactive ? `\r\x1b[2K${text}` : `${text}\n`);
    this.#drew = true;
  }
}
