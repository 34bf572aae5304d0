/**
 * Worker entry module of FeatureStream: serves {@linkcode featureTask} (stages/feature_runner.ts).
 *
 * @module
 */
import { featureTask } from "../stages/feature_runner.ts";
import { serveTasks } from "../util/worker_pool.ts";

serveTasks(import.meta, featureTask);
