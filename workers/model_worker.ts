/**
 * Worker entry module of ModelWorker: serves {@linkcode modelTask} (extractors/model_thread.ts).
 *
 * @module
 */
import { modelTask } from "../extractors/model_thread.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, modelTask);
