/**
 * Worker entry module of the reader's inflate helper: serves {@linkcode serveInflateArena}
 * (formats/parallel_inflate.ts).
 *
 * @module
 */
import { serveInflateArena } from "../formats/parallel_inflate.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, serveInflateArena);
