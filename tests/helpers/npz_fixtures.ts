/**
 * Fixtures for the NPY/NPZ tests: numpy writes files and, next to them, the expected element
 * bytes (C order, little-endian) so a decoder can be checked bit for bit; plus small tensor
 * builders and an inline dataset plugin that walks a legacy NPZ cache.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { runPython } from "./interop.ts";
import { allocate, bytesOf, type DType } from "../../formats/dtype.ts";
import type { Tensor } from "../../formats/tensor.ts";
import type { DatasetPlugin, SampleRef } from "../../plugins/plugin.ts";
import { FormatError } from "../../errors.ts";

/** What numpy says an array is: dtype, shape and its C-order little-endian bytes. */
export interface Expected {
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
}

// `expect(name, a)` records an array; `OUT` is the fixture directory.
const PRELUDE = `
import json, os, sys, zipfile
import numpy as np
OUT = sys.argv[1]
_manifest = {}
def expect(name, a):
    a = np.asarray(a)
    le = a.astype(a.dtype.newbyteorder('<')) if a.dtype.byteorder == '>' else a
    c = np.array(le, order='C', copy=True)  # ascontiguousarray makes 0-d arrays 1-d
    with open(os.path.join(OUT, name + '.raw'), 'wb') as f:
        f.write(c.tobytes())
    _manifest[name] = {'dtype': str(c.dtype.name), 'shape': list(c.shape)}
def path(name):
    p = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p
rng = np.random.default_rng(7)
`;

const EPILOGUE = `
with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
    json.dump(_manifest, f)
`;

/**
 * Runs `body` (Python, with `OUT`, `path(name)`, `expect(name, array)`, `rng`, `np` in scope)
 * and returns what it recorded with `expect`, by name.
 */
export async function numpyFixtures(
  python: string,
  dir: string,
  body: string,
): Promise<Record<string, Expected>> {
  await runPython(python, PRELUDE + body + EPILOGUE, [dir]);
  const manifest: Record<string, { dtype: DType; shape: number[] }> = JSON.parse(
    await Deno.readTextFile(`${dir}/manifest.json`),
  );
  const out: Record<string, Expected> = {};
  for (const [name, m] of Object.entries(manifest)) {
    out[name] = { ...m, bytes: await Deno.readFile(`${dir}/${name}.raw`) };
  }
  return out;
}

/** Asserts `t` has numpy's dtype and shape and exactly its bytes. */
export function assertMatchesNumpy(t: Tensor, expected: Expected, what: string): void {
  assertEquals(t.dtype, expected.dtype, `${what}: dtype`);
  assertEquals(t.shape, expected.shape, `${what}: shape`);
  assertSameBytes(bytesOf(t.data), expected.bytes, what);
}

/** Asserts two byte arrays are equal, naming the first difference (fast on megabytes). */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assertEquals(actual.length, expected.length, `${what}: byte length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert(false, `${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Runs `fn` and returns the {@linkcode FormatError} it throws; fails on anything else. */
export function catchFormatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof FormatError, `expected a FormatError, got ${e}`);
    return e;
  }
  throw new Error("expected a FormatError, got none");
}

/** A tensor of `dtype` and `shape` whose elements are 0, 1, 2, ... (wrapping as the type does). */
export function ramp(dtype: DType, shape: number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      data[i] = BigInt(i) * 0x100000001n;
    } else if (dtype === "bool") {
      data[i] = i % 3 === 0 ? 1 : 0;
    } else {
      data[i] = i * scale;
    }
  }
  return { dtype, shape, data };
}

/** The realistic features of one utterance of `frames` frames (random-ish float32). */
export function utterance(frames: number, seed = 1): Record<string, Tensor> {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000 - 0.5;
  };
  const hidden = new Float32Array(frames * 1024).map(() => next() * 4);
  const mel = new Float32Array(frames * 80).map(() => next() * 3 - 5);
  return {
    hidden_states: { dtype: "float32", shape: [frames, 1024], data: hidden },
    mel_spectrogram: { dtype: "float32", shape: [1, frames, 80], data: mel },
  };
}

/**
 * A stand-in dataset plugin until the real ones land: every `*.npz` under the directory,
 * key = relative path without `.npz` with `/` separators, sorted by key.
 */
export function npzTreePlugin(): DatasetPlugin {
  return {
    name: "npz-tree",
    description: "every *.npz below a directory (tests)",
    discover: () => {
      throw new Error("npz-tree plugin has no audio corpus");
    },
    async *discoverNpz(npzDir: string): AsyncIterable<SampleRef> {
      const refs: SampleRef[] = [];
      const walk = async (dir: string, prefix: string) => {
        for await (const e of Deno.readDir(dir)) {
          if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
          else if (e.name.endsWith(".npz")) {
            refs.push({ key: prefix + e.name.slice(0, -4), path: `${dir}/${e.name}` });
          }
        }
      };
      await walk(npzDir, "");
      refs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* refs;
    },
    keyForPath: (path: string) => path.replace(/\.npz$/, ""),
  };
}
