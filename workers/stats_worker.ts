/**
 * Worker entry module of computeStats: serves {@linkcode statsTask} (ops/stats_unit.ts).
 *
 * @module
 */
import { statsTask } from "../ops/stats_unit.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, statsTask);
