import { assertEquals } from "./helpers/assert.ts";
import {
  findH5dump,
  findH5pyPython,
  ignoreWithout,
  requireTool,
  runPython,
} from "./helpers/interop.ts";
import { sha256 } from "./helpers/hdf5_py.ts";
import { Hdf5FileWriter } from "../formats/hdf5/file_writer.ts";
import type { DatasetSpec } from "../formats/hdf5/dataset_spec.ts";
import { shuffleBytes, splitChunks } from "../formats/chunks.ts";
import { deflateSync } from "../deps.ts";
import { h5wasm } from "../deps.ts";

const PYTHON = await findH5pyPython();
const H5DUMP = await findH5dump();
const NO_TOOLS = ignoreWithout(PYTHON, "python3 with h5py") || ignoreWithout(H5DUMP, "h5dump");

const SAMPLES = 25_000;
const MAX_T = 23;
const D = 16;

/** Key of sample i: 20k LibriTTS-like nested keys sharing speaker/chapter groups, 5k flat. */
function key(i: number): string {
  if (i >= 20_000) return `LJ${String(i).padStart(6, "0")}`;
  const spk = 100 + (i % 40);
  const chap = spk * 10 + (i % 7);
  return `train-clean-100/${spk}/${chap}/${spk}_${chap}_${i}`;
}

/** hidden_states (T, 16) f16, T = 1 + i % 23: one pre-compressed variant per T (shuffle + deflate 4). */
async function variants(): Promise<{ specs: DatasetSpec[]; hashes: string[] }> {
  const specs: DatasetSpec[] = [];
  const hashes: string[] = [];
  for (let t = 1; t <= MAX_T; t++) {
    const data = new Float16Array(t * D).map((_, j) => (j * 0.37 + t) % 11);
    const raw = new Uint8Array(data.buffer);
    const chunkShape = [Math.min(8, t), D];
    const chunks = [...splitChunks(raw, [t, D], chunkShape, 2)].map((c) =>
      new Uint8Array(deflateSync(shuffleBytes(c, 2), { level: 4 }))
    );
    specs.push({
      dtype: "float16",
      shape: [t, D],
      layout: {
        kind: "chunked",
        chunkShape,
        filters: [{ id: "shuffle" }, { id: "deflate", level: 4 }],
        chunks,
      },
    });
    hashes.push(await sha256(raw));
  }
  return { specs, hashes };
}

function idSpec(i: number): DatasetSpec {
  return {
    dtype: "int32",
    shape: [],
    layout: { kind: "contiguous", bytes: new Uint8Array(new Int32Array([i]).buffer) },
  };
}

const CHECK = String.raw`
import h5py, hashlib, json, sys, time
import numpy as np
path, sample = sys.argv[1], json.load(open(sys.argv[2]))
bad = []
t0 = time.perf_counter()
with h5py.File(path, "r") as f:
    for k, i, t in sample["keys"]:
        g = f[k]
        if int(g["id"][()]) != i:
            bad.append(f"{k}: id {g['id'][()]} != {i}")
        h = g["hidden_states"]
        if h.shape != (t, 16) or hashlib.sha256(h[()].tobytes()).hexdigest() != sample["hashes"][t - 1]:
            bad.append(f"{k}: hidden_states differ")
    n = len(f["train-clean-100"]) + sum(1 for k in f if k.startswith("LJ"))
dt = time.perf_counter() - t0
print(json.dumps({"bad": bad, "ms_per_lookup": dt * 1000 / len(sample["keys"]), "top": n}))
`;

Deno.test({
  name:
    "Hdf5FileWriter writes 25,000 sample groups with checkpoints; h5py finds a random sample of them by name",
  ignore: NO_TOOLS,
  fn: async () => {
    const python = requireTool(PYTHON, "h5py");
    const dir = await Deno.makeTempDir({ prefix: "hdf5_scale_test_" });
    try {
      const file = `${dir}/features_00001.h5`;
      const { specs, hashes } = await variants();
      const w = Hdf5FileWriter.create(file);
      const t0 = performance.now();
      const checkpoints: number[] = [];
      // Insert in a shuffled order: the writer sorts names itself.
      const order = Array.from({ length: SAMPLES }, (_, i) => (i * 7919) % SAMPLES);
      for (let n = 0; n < SAMPLES; n++) {
        const i = order[n];
        w.writeDataset(`${key(i)}/hidden_states`, specs[i % MAX_T]);
        w.writeDataset(`${key(i)}/id`, idSpec(i));
        if ((n + 1) % 10_000 === 0) {
          const c = performance.now();
          w.checkpoint();
          checkpoints.push(Math.round(performance.now() - c));
        }
      }
      const c = performance.now();
      w.close();
      const closeMs = Math.round(performance.now() - c);
      const totalMs = Math.round(performance.now() - t0);
      const size = (await Deno.stat(file)).size;
      assertEquals(size, w.size);

      const r0 = performance.now();
      const resumed = Hdf5FileWriter.resume(file);
      const resumeMs = Math.round(performance.now() - r0);
      assertEquals(resumed.sampleGroups().length, SAMPLES);
      resumed.abort();

      const pick = Array.from({ length: 2000 }, (_, j) => (j * 104729) % SAMPLES);
      const json = `${dir}/sample.json`;
      await Deno.writeTextFile(
        json,
        JSON.stringify({ keys: pick.map((i) => [key(i), i, 1 + (i % MAX_T)]), hashes }),
      );
      const res = JSON.parse(await runPython(python, CHECK, [file, json]));
      assertEquals(res.bad, []);
      assertEquals(res.top, 40 + 5000);

      // h5wasm (HDF5 2.0): list every object, then raw float16 reads of the sampled keys.
      // deno-lint-ignore no-explicit-any
      const m: any = await h5wasm.ready;
      const fid = m.open(file, m.H5F_ACC_RDONLY, false, -1, -1);
      try {
        const names: string[] = m.get_names(fid, "/", true);
        assertEquals(names.filter((n) => n.endsWith("/hidden_states")).length, SAMPLES);
        const ptr = m._malloc(MAX_T * D * 2);
        try {
          for (const i of pick.slice(0, 500)) {
            const t = 1 + (i % MAX_T);
            m.get_dataset_data(fid, `/${key(i)}/hidden_states`, null, null, null, BigInt(ptr));
            assertEquals(await sha256(m.HEAPU8.slice(ptr, ptr + t * D * 2)), hashes[t - 1], key(i));
          }
        } finally {
          m._free(ptr);
        }
      } finally {
        m.close_file(fid);
      }

      const dump = await new Deno.Command(requireTool(H5DUMP, "h5dump"), {
        args: ["-H", file],
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals({ code: dump.code, stderr: new TextDecoder().decode(dump.stderr) }, {
        code: 0,
        stderr: "",
      });
      console.log(
        `25k samples: write+close ${totalMs} ms, checkpoints ${
          checkpoints.join("/")
        } ms, close ${closeMs} ms, ` +
          `resume ${resumeMs} ms, ${(size / 1e6).toFixed(1)} MB, h5py ${
            res.ms_per_lookup.toFixed(3)
          } ms/lookup`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
