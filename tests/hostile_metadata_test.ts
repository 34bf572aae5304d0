/**
 * Tampered `metadata.json` (seeded field values and whole-file damage) and symlinks where the
 * writer writes: resuming the cache, merging it and verifying it either work or raise a named
 * h5shard error (never a bare TypeError, RangeError or SyntaxError, never a crash), and no file
 * outside the cache changes.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { H5ShardError } from "../errors.ts";
import { merge } from "../ops/merge.ts";
import { pack } from "../ops/pack.ts";
import { verifyCache } from "../ops/verify.ts";
import type { Sample } from "../stages/record.ts";

const SEED = Number(Deno.env.get("H5SHARD_FUZZ_SEED") ?? 1);
const FIELD_CASES = Number(Deno.env.get("H5SHARD_FUZZ_CASES") ?? 30);

const sample = (i: number): Sample => ({
  key: `utt_${String(i).padStart(4, "0")}`,
  tensors: {
    x: { dtype: "float32", shape: [3, 4], data: new Float32Array(12).map((_, j) => i + j) },
  },
});

const settings = { samples_per_hdf5: 3, num_save_workers: 1 };

async function cache(dir: string, from: number, to: number, partition?: object): Promise<void> {
  const samples = Array.from({ length: to - from }, (_, i) => sample(from + i));
  await pack(ReadableStream.from(samples), dir, {
    preprocessing: settings,
    metadata: partition ? { partition } : {},
  });
}

function copyDir(from: string, to: string): void {
  Deno.mkdirSync(to);
  for (const e of Deno.readDirSync(from)) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
}

/** A small seeded generator (mulberry32), so CI runs the same cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  "partition",
  "samples_per_hdf5",
  "use_float16",
  "compression_level",
  "shuffle",
  "chunk_bytes",
  "mel_config",
  "extractors",
  "semantic_model",
  "processed_samples",
  "runs",
  "merged_from",
  "total_samples",
  "num_hdf5_files",
];

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const VALUES: unknown[] = [
  1e9,
  -3,
  2.5,
  "x",
  null,
  [],
  {},
  true,
  "/etc/passwd",
  { index: 1e9, count: 1e9, total: -1, start: 5, end: 2 },
  { index: 0, count: 2, total: 1e300, start: 0, end: 1e300 },
  [{ dir: 5, samples: "x" }],
  deep(3000),
  "y".repeat(100_000),
];

const WHOLE_FILES = ["", "null", "[]", "{", '"text"', "1e400", "[".repeat(5000)];

/** Runs `fn`; an error must be an H5ShardError. Returns "ok" or the error's code. */
async function outcome(what: string, fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (e) {
    assert(
      e instanceof H5ShardError,
      `${what}: a bare ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 300)}`,
    );
    return e.code;
  }
}

Deno.test("tampered metadata.json: resume, merge and verify work or name the fault", async () => {
  const root = await Deno.makeTempDir();
  const outside = `${root}/outside.txt`;
  Deno.writeTextFileSync(outside, "untouched\n");
  const split = (index: number) => ({
    index,
    count: 2,
    total: 12,
    start: index * 6,
    end: index * 6 + 6,
  });
  await cache(`${root}/clean`, 0, 6, split(0));
  await cache(`${root}/partner`, 6, 12, split(1));
  const rand = random(SEED);
  const variants: [string, string][] = WHOLE_FILES.map((t) => [`file ${t.slice(0, 12)}`, t]);
  const clean = JSON.parse(Deno.readTextFileSync(`${root}/clean/metadata.json`));
  for (let i = 0; i < FIELD_CASES; i++) {
    const field = FIELDS[Math.floor(rand() * FIELDS.length)];
    const value = VALUES[Math.floor(rand() * VALUES.length)];
    variants.push([
      `${field} = ${JSON.stringify(value).slice(0, 40)}`,
      JSON.stringify({ ...clean, [field]: value }),
    ]);
  }
  const tally: Record<string, number> = {};
  for (const [n, [name, text]] of variants.entries()) {
    const dir = `${root}/v${n}`;
    copyDir(`${root}/clean`, dir);
    Deno.writeTextFileSync(`${dir}/metadata.json`, text);
    const results = [
      await outcome(`${name}: verify`, () => verifyCache(dir)),
      await outcome(
        `${name}: merge`,
        () => merge({ parts: [dir, `${root}/partner`], processedDir: `${root}/m${n}` }),
      ),
      await outcome(
        `${name}: resume`,
        () => pack(ReadableStream.from([sample(100)]), dir, { preprocessing: settings }),
      ),
    ];
    for (const r of results) tally[r] = (tally[r] ?? 0) + 1;
  }
  assertEquals(Deno.readTextFileSync(outside), "untouched\n");
  assert(Object.keys(tally).length > 1, JSON.stringify(tally));
  await Deno.remove(root, { recursive: true });
});

Deno.test("symlinks where the writer writes: refused by name, the target unchanged", async () => {
  const root = await Deno.makeTempDir();
  await cache(`${root}/clean`, 0, 4);
  for (const name of ["hdf5_index.json", "metadata.json", "error_log.json", "features_00002.h5"]) {
    const dir = `${root}/${name}`;
    copyDir(`${root}/clean`, dir);
    const outside = `${root}/outside-${name}`;
    let original = new TextEncoder().encode("{}");
    try {
      original = Deno.readFileSync(`${dir}/${name}`);
    } catch {
      // error_log.json: a clean run has none
    }
    Deno.writeFileSync(outside, original);
    try {
      Deno.removeSync(`${dir}/${name}`);
    } catch {
      // not there
    }
    Deno.symlinkSync(outside, `${dir}/${name}`);
    const code = await outcome(
      `${name} as a symlink`,
      () =>
        pack(ReadableStream.from([sample(50), sample(51), sample(52)]), dir, {
          preprocessing: settings,
        }),
    );
    assertEquals(code, "cache", name);
    assertEquals(Deno.readFileSync(outside), original, `${name}: the link's target changed`);
  }
  await Deno.remove(root, { recursive: true });
});
