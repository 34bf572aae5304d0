/**
 * Worker entry module of the cache reader's read workers: serves {@linkcode readTask}
 * (formats/read_task.ts).
 *
 * @module
 */
import { readTask } from "../formats/read_task.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, readTask);
