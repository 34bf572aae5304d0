/**
 * Worker entry module of NpzSource: serves {@linkcode decodeNpzTask} (stages/npz_decode.ts).
 *
 * @module
 */
import { decodeNpzTask } from "../stages/npz_decode.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, decodeNpzTask);
