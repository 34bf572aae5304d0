/**
 * Worker entry module of DeflateStream: serves {@linkcode deflateTask} (stages/deflate_chunks.ts).
 *
 * @module
 */
import { deflateTask } from "../stages/deflate_chunks.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, deflateTask);
