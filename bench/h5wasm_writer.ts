/**
 * Anchor: the JavaScript alternative to h5shard's encoder, h5wasm (HDF5 in WebAssembly) writing
 * the same samples from the NPZ cache as the h5py writer: one group per sample, h5py's default
 * chunking, gzip level 4, a shard per samples_per_hdf5 samples, the index every 100 samples and
 * at close. Floats stay float32 because h5wasm cannot write float16.
 *
 * usage: deno run -A bench/h5wasm_writer.ts NPZ_DIR PROCESSED_DIR [SAMPLES_PER_HDF5]
 * Prints one JSON line like bench/h5py_writer.py.
 */
import { importH5wasm } from "../deps.ts";
import type { File, Group } from "npm:h5wasm@0.10.3/node";
import { guessChunk } from "./h5py_chunks.ts";
import { readNpz } from "./npz.ts";
import { peakRssKiB } from "./peak_rss.ts";
import { npzKeys } from "./npz_keys.ts";

// numpy descr -> h5wasm dtype and typed array.
const TYPES: Record<string, [string, (b: ArrayBuffer, o: number, n: number) => ArrayBufferView]> = {
  "<f4": ["<f", (b, o, n) => new Float32Array(b, o, n / 4)],
  "<f8": ["<d", (b, o, n) => new Float64Array(b, o, n / 8)],
  "<i4": ["<i", (b, o, n) => new Int32Array(b, o, n / 4)],
  "<i8": ["<q", (b, o, n) => new BigInt64Array(b, o, n / 8)],
};

async function main(args: string[]): Promise<void> {
  const [npzDir, outDir, perFileArg] = args;
  if (!npzDir || !outDir) throw new TypeError("usage: h5wasm_writer.ts NPZ_DIR OUT_DIR [N]");
  const perFile = perFileArg ? Number(perFileArg) : 20000;
  const h5wasm = await importH5wasm();
  const start = performance.now();
  let loadMs = 0;
  let inputBytes = 0;
  const index = {
    sample_index: {} as Record<string, { file_idx: number; group_name: string }>,
    current_file_idx: 0,
    current_file_count: 0,
    samples_per_file: perFile,
    use_float16: false,
  };
  const saveIndex = () =>
    Deno.writeTextFileSync(`${outDir}/hdf5_index.json`, JSON.stringify(index, null, 2));
  Deno.mkdirSync(outDir, { recursive: true });
  let file: File | undefined;
  let groups = new Set<string>();
  const keys = await npzKeys(npzDir);
  for (const key of keys) {
    const t0 = performance.now();
    const path = `${npzDir}/${key}.npz`;
    const arrays = readNpz(path, Deno.readFileSync(path));
    loadMs += performance.now() - t0;
    if (!file || index.current_file_count >= perFile) {
      file?.close();
      index.current_file_idx++;
      index.current_file_count = 0;
      const name = `features_${String(index.current_file_idx).padStart(5, "0")}.h5`;
      file = new h5wasm.File(`${outDir}/${name}`, "w");
      groups = new Set();
    }
    // h5wasm does not create intermediate groups, so nested keys are built level by level.
    let group: Group = file;
    const parts = key.split("/");
    for (let i = 0; i < parts.length; i++) {
      const path = parts.slice(0, i + 1).join("/");
      if (groups.has(path)) {
        group = file.get(path) as Group;
      } else {
        group = group.create_group(parts[i]);
        groups.add(path);
      }
    }
    for (const [name, arr] of Object.entries(arrays)) {
      const type = TYPES[arr.descr];
      if (!type) throw new TypeError(`${path}: ${name}: unsupported dtype ${arr.descr}`);
      const [dtype, view] = type;
      const data = view(arr.bytes.buffer as ArrayBuffer, arr.bytes.byteOffset, arr.bytes.length);
      group.create_dataset({
        name,
        data: data as Float32Array,
        shape: arr.shape,
        dtype,
        chunks: guessChunk(arr.shape, Number(arr.descr.slice(2))),
        compression: "gzip",
        compression_opts: 4,
      });
      inputBytes += arr.bytes.length;
    }
    index.sample_index[key] = { file_idx: index.current_file_idx, group_name: key };
    index.current_file_count++;
    if (Object.keys(index.sample_index).length % 100 === 0) saveIndex();
  }
  file?.close();
  saveIndex();
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({
    samples: keys.length,
    input_bytes: inputBytes,
    seconds,
    load_seconds: loadMs / 1000,
    write_seconds: seconds - loadMs / 1000,
    peak_rss_kib: peakRssKiB(),
  }));
}

await main(Deno.args);
