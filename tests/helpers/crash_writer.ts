/**
 * A writer process for the kill-and-resume test: packs `count` deterministic samples into a
 * processed_dir with small shards and frequent checkpoints. Run it, kill -9 it, run it again.
 *
 * Usage: deno run -A tests/helpers/crash_writer.ts <processed_dir> <count>
 *
 * @module
 */
import { pack } from "../../ops/pack.ts";
import type { Sample } from "../../stages/record.ts";

/** Samples per shard and checkpoint interval used by the crash test. */
export const CRASH_SETTINGS = { samples_per_hdf5: 40, checkpoint_interval: 9 } as const;

/** The deterministic sample of index `i`: float16 (T, 384) and an int32 vector. */
export function crashSample(i: number): Sample {
  const T = 120 + (i * 37) % 200;
  const hs = new Float16Array(T * 384);
  let x = (i + 1) * 2654435761 >>> 0;
  for (let j = 0; j < hs.length; j++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    hs[j] = (x / 2 ** 32 - 0.5) * 8;
  }
  return {
    key: `spk${i % 5}/utt_${String(i).padStart(5, "0")}`,
    tensors: {
      hidden_states: { dtype: "float16", shape: [T, 384], data: hs },
      lengths: { dtype: "int32", shape: [2], data: Int32Array.of(T, i) },
    },
  };
}

if (import.meta.main) {
  const [dir, count] = Deno.args;
  const n = Number(count);
  let i = 0;
  const source = new ReadableStream<Sample>({
    pull(controller) {
      if (i < n) controller.enqueue(crashSample(i++));
      else controller.close();
    },
  });
  const report = await pack(source, dir, {
    preprocessing: { ...CRASH_SETTINGS, num_save_workers: 2 },
  });
  console.log(JSON.stringify({ written: report.written, skipped: report.skipped }));
}
