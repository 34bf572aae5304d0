/**
 * The records that flow through a pipeline.
 *
 * A source yields {@linkcode Sample}s (or {@linkcode SampleFailure}s for samples it could not
 * read); transforms pass failures through untouched; {@linkcode DeflateStream} turns samples into
 * {@linkcode EncodedSample}s that the {@linkcode ShardSink} writes.
 *
 * @module
 */
import type { Tensor } from "../formats/tensor.ts";
import type { DatasetSpec } from "../formats/hdf5/dataset_spec.ts";
import type { DType } from "../formats/dtype.ts";

/** A sample: its key and named tensors (`hidden_states`, `mel_spectrogram`, ...). */
export interface Sample {
  /** The cache key, e.g. `LJ001-0001` or `train-clean-100/123/456/123_456_789`. */
  key: string;
  /** Named tensors; each becomes one dataset in the sample's group. */
  tensors: Record<string, Tensor>;
  /** Where the sample came from (a file path), for messages. */
  origin?: string;
  /** Non-fatal notes about this sample (e.g. float16 overflow under policy "warn"). */
  warnings?: string[];
  /**
   * Bytes of the tensors as they entered the pipeline, set by a stage that changed their size
   * (Float16Stream); absent means the tensors' own byte lengths.
   */
  inputBytes?: number;
  /** Dtype of each tensor as it entered the pipeline, set by a stage that converted it. */
  inputDTypes?: Record<string, DType>;
}

/** A sample that could not be read or processed; it goes to the error log, never stops a run. */
export interface SampleFailure {
  key: string;
  origin?: string;
  error: Error;
  /** Attempts made after the first one failed (`retry_count` in `error_log.json`). */
  retries?: number;
}

/** A sample whose tensors are cut into chunks and compressed, ready for the HDF5 writer. */
export interface EncodedSample {
  key: string;
  datasets: Record<string, DatasetSpec>;
  /** Bytes of the tensors as they entered the pipeline (before float16), for throughput. */
  inputBytes: number;
  /** Dtype of each tensor as it entered the pipeline. */
  inputDTypes?: Record<string, DType>;
  origin?: string;
  /** Non-fatal notes about this sample (e.g. float16 overflow under policy "warn"). */
  warnings?: string[];
}

/** True when `r` is a failure entry. */
export function isFailure(r: Sample | EncodedSample | SampleFailure): r is SampleFailure {
  return "error" in r;
}
