/**
 * A small clean cache to damage: four samples, one shard, chunks of 8 frames, so every kind
 * of structure (several chunks per dataset, nested messages) is there.
 *
 * @module
 */
import { bytesOf } from "../../formats/dtype.ts";
import type { Tensor } from "../../formats/tensor.ts";
import { openCache } from "../../ops/cache_reader.ts";
import { pack } from "../../ops/pack.ts";
import { sha256 } from "./hdf5_py.ts";
import { seededRandom } from "./random.ts";

export const KEYS = ["LJ001-0001", "LJ001-0002", "LJ001-0003", "LJ001-0004"];

/** Four samples: (40, 16) float features in chunks of 8 frames, (1, 40, 8) mels, int ids. */
export function hostileSamples(seed = 1) {
  const r = seededRandom(seed);
  return KEYS.map((key, k) => {
    const t = 40 - 4 * k;
    const tensor = (shape: number[]): Tensor => ({
      dtype: "float32",
      shape,
      data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() * 8 - 4),
    });
    return {
      key,
      tensors: {
        hidden_states: tensor([t, 16]),
        mel_spectrogram: tensor([1, t, 8]),
        phone_ids: {
          dtype: "int64",
          shape: [12],
          data: BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i * k)),
        } as Tensor,
      },
    };
  });
}

/** A clean cache in `dir`: one shard, chunks of 8 frames x 16 float16 (256 bytes). */
export async function hostileCache(dir: string, seed = 1): Promise<void> {
  await pack(ReadableStream.from(hostileSamples(seed)), dir, {
    preprocessing: { chunk_bytes: 256, num_save_workers: 1 },
  });
}

/** Per key and dataset, SHA-256 of the bytes our reader returns. */
export async function ourDigests(dir: string): Promise<Record<string, Record<string, string>>> {
  const cache = await openCache(dir);
  const out: Record<string, Record<string, string>> = {};
  try {
    for (const key of cache.keys()) {
      out[key] = {};
      for (const [name, t] of Object.entries(await cache.get(key))) {
        out[key][name] = await sha256(bytesOf(t.data));
      }
    }
  } finally {
    cache.close();
  }
  return out;
}
