/**
 * What `ShardSink` does with each sample besides storing it: the check of its key and
 * dataset names before a byte is written, and freeing its chunk buffers once written.
 *
 * @module
 */
import { KeyError } from "../errors.ts";
import { datasetNameProblem, sampleKeyProblem } from "../formats/sample_key.ts";
import type { EncodedSample } from "./record.ts";
import { releaseBuffer } from "../util/release_buffer.ts";

/** Why a sample cannot be stored under its key and dataset names, checked before writing. */
export function refusal(sample: EncodedSample): KeyError | undefined {
  const keyProblem = sampleKeyProblem(sample.key);
  if (keyProblem) return new KeyError(sample.key, `cannot be a sample key: ${keyProblem}`);
  for (const name of Object.keys(sample.datasets)) {
    const problem = datasetNameProblem(name);
    if (problem) {
      return new KeyError(sample.key, `dataset name ${JSON.stringify(name)}: ${problem}`);
    }
  }
  return undefined;
}

/**
 * Frees a stored sample's chunk buffers now: they came from worker threads, so the collector
 * does not hurry to free them and a long migrate's RSS would grow with its length. The shard
 * writer keeps no reference (it copies small writes and writes big ones at once).
 */
export function releaseChunks(sample: EncodedSample): void {
  for (const spec of Object.values(sample.datasets)) {
    if (spec.layout.kind === "chunked") {
      for (const chunk of spec.layout.chunks) releaseBuffer(chunk.buffer);
    }
  }
}
