/**
 * h5shard: pack ML features into sharded HDF5 caches and read them back.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./formats/dtype.ts";
export type { Tensor } from "./formats/tensor.ts";
export * from "./formats/chunks.ts";
export type * from "./formats/hdf5/dataset_spec.ts";
export * from "./stages/record.ts";
export type * from "./plugins/plugin.ts";
