/**
 * `deno task bench merge [--reps N] [--mb M]`: the speed of `h5shard merge` against `cp` of the
 * same shard bytes, in two layouts of 4 partition caches:
 *
 * - `array job`: shard-aligned partitions as `--partition` writes them (full shards hard-linked,
 *   one partial tail copied chunk by chunk);
 * - `tails only`: every part one partial shard, so every byte goes through the raw chunk copy
 *   (read chunk index, copy compressed chunks, write new B-trees and groups): the worst case.
 *
 * Both sides are timed to durable: merge fsyncs what it writes; `cp` is followed by `sync`.
 * Then `reshard` to another `samples_per_hdf5` with the chunks copied as stored against the
 * same reshard decoding and compressing again (gzip 4, 2 workers). Runs alternate; medians are
 * printed and written to bench/out/merge.json.
 */
import { parseArgs } from "../deps.ts";
import { merge } from "../ops/merge.ts";
import { pack } from "../ops/pack.ts";
import { reshard } from "../ops/reshard.ts";
import type { Sample } from "../stages/record.ts";
import { dirBytes, removeDir, syncDisk } from "./proc.ts";

const OUT = new URL("./out", import.meta.url).pathname;

/** Samples of about 150 KB of float16, pseudo-random (they barely compress: bytes are bytes). */
function sample(i: number): Sample {
  const T = 50 + (i * 37) % 200;
  const width = 512;
  const hs = new Uint16Array(T * width);
  let x = (i + 1) * 2654435761 >>> 0;
  for (let j = 0; j < hs.length; j++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    hs[j] = 0x3000 + (x >>> 22); // finite halves in [0.125, 0.25)
  }
  return {
    key: `spk${i % 7}/utt_${String(i).padStart(6, "0")}`,
    tensors: {
      hidden_states: { dtype: "float16", shape: [T, width], data: new Float16Array(hs.buffer) },
    },
  };
}

async function writePart(
  dir: string,
  from: number,
  to: number,
  perShard: number,
  level = 1,
): Promise<void> {
  const samples: Sample[] = [];
  for (let i = from; i < to; i++) samples.push(sample(i));
  await pack(ReadableStream.from(samples), dir, {
    preprocessing: { samples_per_hdf5: perShard, compression_level: level, num_save_workers: 2 },
  });
}

/** Seconds of `reshard` from `src` to `samples_per_hdf5` = `perShard`, copying chunks or not. */
async function timeReshard(src: string, dst: string, perShard: number, copy: boolean) {
  await removeDir(dst);
  await syncDisk();
  const t0 = performance.now();
  const r = await reshard(src, dst, {
    preprocessing: { samples_per_hdf5: perShard, num_save_workers: 2 },
    copyChunks: copy,
  });
  await syncDisk();
  if (r.failed || r.copiedChunks !== (copy ? r.written : 0)) throw new Error("reshard went wrong");
  return { seconds: (performance.now() - t0) / 1000, inputBytes: r.inputBytes };
}

interface Layout {
  name: string;
  parts: string[];
  bytes: number;
}

async function makeLayouts(root: string, totalSamples: number): Promise<Layout[]> {
  const per = Math.floor(totalSamples / 4);
  const layouts: Layout[] = [];
  // Shard-aligned: 4 parts of whole shards of `shard` samples, the last part with a tail.
  const shard = Math.max(1, Math.floor(per / 4));
  const aligned: string[] = [];
  for (let p = 0; p < 4; p++) {
    const dir = `${root}/aligned/part_${p}`;
    const from = p * 4 * shard;
    const to = p === 3 ? totalSamples : from + 4 * shard;
    await writePart(dir, from, to, shard);
    aligned.push(dir);
  }
  // Tails only: 4 parts, each one partial shard.
  const tails: string[] = [];
  for (let p = 0; p < 4; p++) {
    const dir = `${root}/tails/part_${p}`;
    await writePart(dir, p * per, (p + 1) * per, per + 1);
    tails.push(dir);
  }
  for (const [name, parts] of [["array job", aligned], ["tails only", tails]] as const) {
    let bytes = 0;
    for (const d of parts) bytes += await shardBytes(d);
    layouts.push({ name, parts: [...parts], bytes });
  }
  return layouts;
}

async function shardBytes(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".h5")) n += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return n;
}

async function timeMerge(layout: Layout, target: string): Promise<number> {
  await removeDir(target);
  await syncDisk();
  const t0 = performance.now();
  await merge({ parts: layout.parts, processedDir: target });
  return (performance.now() - t0) / 1000;
}

async function timeCp(layout: Layout, target: string): Promise<number> {
  await removeDir(target);
  await Deno.mkdir(target, { recursive: true });
  const files: string[] = [];
  layout.parts.forEach((d, p) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.name.endsWith(".h5")) files.push(`${d}/${e.name}`);
    }
    Deno.mkdirSync(`${target}/${p}`);
  });
  await syncDisk();
  const t0 = performance.now();
  // One cp per part (same-named shards), then sync: durable, as merge's output is.
  for (let p = 0; p < layout.parts.length; p++) {
    const mine = files.filter((f) => f.startsWith(`${layout.parts[p]}/`));
    const r = await new Deno.Command("cp", { args: [...mine, `${target}/${p}`] }).output();
    if (!r.success) throw new Error(`cp failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  await syncDisk();
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs the merge benchmark; returns the exit status. */
export async function runMergeBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { reps: { type: "string", default: "3" }, mb: { type: "string", default: "200" } },
    strict: true,
  });
  const reps = Number(values.reps);
  const samples = Math.max(16, Math.round(Number(values.mb) * 1e6 / 150e3));
  const root = `${OUT}/merge`;
  await removeDir(root);
  console.error(`merge bench: generating 2 x 4 parts of ${samples} samples (~${values.mb} MB)`);
  const layouts = await makeLayouts(root, samples);
  const rows = [];
  for (const layout of layouts) {
    const m: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < reps; r++) {
      m.push(await timeMerge(layout, `${root}/out_merge`));
      c.push(await timeCp(layout, `${root}/out_cp`));
      console.error(
        `  ${layout.name} rep ${r}: merge ${m.at(-1)!.toFixed(3)} s, cp ${c.at(-1)!.toFixed(3)} s`,
      );
    }
    const outBytes = await dirBytes(`${root}/out_merge`);
    const mergeS = median(m);
    const cpS = median(c);
    rows.push({
      layout: layout.name,
      bytes: layout.bytes,
      outBytes,
      mergeSeconds: mergeS,
      cpSeconds: cpS,
      mergeGBps: layout.bytes / 1e9 / mergeS,
      cpGBps: layout.bytes / 1e9 / cpS,
      ratio: cpS / mergeS,
      runs: { merge: m, cp: c },
    });
  }
  console.log(`merge vs cp of the same shard bytes (4 parts, medians of ${reps}, to durable):`);
  for (const r of rows) {
    console.log(
      `  ${r.layout.padEnd(11)} ${(r.bytes / 1e6).toFixed(0).padStart(5)} MB  merge ${
        r.mergeGBps.toFixed(2)
      } GB/s  cp ${r.cpGBps.toFixed(2)} GB/s  ratio ${r.ratio.toFixed(2)}x (target >= 0.5x: ${
        r.ratio >= 0.5 ? "PASS" : "MISS"
      })`,
    );
  }
  // Reshard: a gzip-4 cache of a quarter of the samples, 2 shards -> 3.
  const src = `${root}/reshard_src`;
  const quarter = Math.max(8, Math.floor(samples / 4));
  await writePart(src, 0, quarter, Math.ceil(quarter / 2), 4);
  const srcBytes = await shardBytes(src);
  const copy: number[] = [];
  const decode: number[] = [];
  let inputBytes = 0;
  for (let r = 0; r < reps; r++) {
    copy.push((await timeReshard(src, `${root}/rs_copy`, Math.ceil(quarter / 3), true)).seconds);
    const d = await timeReshard(src, `${root}/rs_decode`, Math.ceil(quarter / 3), false);
    decode.push(d.seconds);
    inputBytes = d.inputBytes;
    console.error(
      `  reshard rep ${r}: copy chunks ${copy.at(-1)!.toFixed(3)} s, decode+deflate ${
        d.seconds.toFixed(3)
      } s`,
    );
  }
  const reshardRow = {
    shardBytes: srcBytes,
    float16Bytes: inputBytes,
    copySeconds: median(copy),
    decodeSeconds: median(decode),
    speedup: median(decode) / median(copy),
    runs: { copy, decode },
  };
  console.log(
    `reshard ${(srcBytes / 1e6).toFixed(0)} MB of gzip-4 shards (${
      (inputBytes / 1e6).toFixed(0)
    } MB float16) to another samples_per_hdf5: copy chunks ${
      (srcBytes / 1e9 / reshardRow.copySeconds).toFixed(2)
    } GB/s, decode+deflate ${(srcBytes / 1e9 / reshardRow.decodeSeconds).toFixed(2)} GB/s, ${
      reshardRow.speedup.toFixed(1)
    }x`,
  );
  await Deno.writeTextFile(
    `${OUT}/merge.json`,
    JSON.stringify({ merge: rows, reshard: reshardRow }, null, 2) + "\n",
  );
  await removeDir(root);
  return 0;
}

if (import.meta.main) Deno.exitCode = await runMergeBench(Deno.args);
