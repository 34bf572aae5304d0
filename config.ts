/**
 * `preprocess_config.json`: the schema and its defaults ({@link ./config/schema.ts}) and the
 * file reader ({@link ./config/load.ts}). Command-line flags for these keys live in `cli/`.
 *
 * @module
 */
export {
  type Config,
  type DatasetPaths,
  defaultConfig,
  type MelConfig,
  type Preprocessing,
  PREPROCESSING_DEFAULTS,
  PREPROCESSING_KEYS,
  type PreprocessingKey,
  type SemanticModel,
} from "./config/schema.ts";
export { loadConfig, parseConfig } from "./config/load.ts";
