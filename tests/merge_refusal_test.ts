/**
 * Merge refuses, before placing any shard, parts that are incomplete, made with other feature
 * settings, or whose JSON files are damaged; and carries the parts' error logs.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { CacheError } from "../errors.ts";
import { merge, MERGE_PLAN_FILE } from "../ops/merge.ts";
import { pack } from "../ops/pack.ts";
import type { Sample } from "../stages/record.ts";

function sample(i: number): Sample {
  const data = new Float32Array(5 * 4).map((_, j) => Math.sin(i + j));
  return {
    key: `utt_${String(i).padStart(5, "0")}`,
    tensors: { x: { dtype: "float32", shape: [5, 4], data } },
  };
}

/** A part of a 2-way split of 20 keys holding keys `from`..`to`-1, with `metadata`. */
async function part(
  dir: string,
  index: number,
  from: number,
  to: number,
  metadata: Record<string, unknown> = {},
): Promise<string> {
  const samples = Array.from({ length: to - from }, (_, i) => sample(from + i));
  await pack(ReadableStream.from(samples), dir, {
    preprocessing: { samples_per_hdf5: 4, num_save_workers: 1 },
    metadata: {
      partition: { index, count: 2, total: 20, start: index * 12, end: index ? 20 : 12 },
      mel_config: { n_mels: 80, hop_length: 320 },
      extractors: ["mel"],
      semantic_model: "facebook/w2v-bert-2.0",
      ...metadata,
    },
  });
  return dir;
}

/** The CacheError merging `parts` throws; the target then holds no shard. */
async function refusal(parts: string[], target: string): Promise<CacheError> {
  let error: unknown;
  try {
    await merge({ parts, processedDir: target });
  } catch (e) {
    error = e;
  }
  assert(error instanceof CacheError, `expected a CacheError, got ${error}`);
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(target)].map((e) => e.name);
  } catch {
    // never made
  }
  assertEquals(names.filter((n) => n.endsWith(".h5")), [], "a shard was placed");
  return error;
}

function editJson(path: string, edit: (v: Record<string, unknown>) => unknown): void {
  Deno.writeTextFileSync(path, JSON.stringify(edit(JSON.parse(Deno.readTextFileSync(path)))));
}

Deno.test("merge refuses a part whose task stopped early, naming the re-run; failures logged count", async () => {
  const root = await Deno.makeTempDir();
  const a = await part(`${root}/a`, 0, 0, 12);
  // Partition 1 has keys 12..19; its task was killed after 5 of them.
  const b = await part(`${root}/b`, 1, 12, 17);
  const e = await refusal([a, b], `${root}/m1`);
  assert(e.message.includes(b) && e.message.includes("is incomplete"), e.message);
  assert(e.message.includes("3 keys were never processed"), e.message);
  assert(e.message.includes("--partition 1/2"), e.message);
  // The 3 others failed and are logged: the part is complete, and the merge carries the log.
  const failed = [17, 18, 19].map((i) => ({
    file_path: `/corpus/utt_000${i}.wav`,
    sample_key: `utt_000${i}`,
    error_message: "bad header",
    retry_count: 2,
  }));
  Deno.writeTextFileSync(
    `${b}/error_log.json`,
    JSON.stringify({ total_errors: 3, max_retries: 2, errors: failed }),
  );
  const report = await merge({ parts: [a, b], processedDir: `${root}/m2` });
  assertEquals(report.totalSamples, 17);
  const log = JSON.parse(Deno.readTextFileSync(`${root}/m2/error_log.json`));
  assertEquals(log.errors, failed);
  assertEquals(log.total_errors, 3);
  assertEquals(
    Deno.readTextFileSync(`${root}/m2/error_files.txt`),
    failed.map((f) => f.file_path).join("\n") + "\n",
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("merge refuses parts whose features were made with other settings", async () => {
  const root = await Deno.makeTempDir();
  const a = await part(`${root}/a`, 0, 0, 12);
  const cases: [string, Record<string, unknown>, string][] = [
    ["n_mels", { mel_config: { n_mels: 40, hop_length: 320 } }, "mel_config"],
    ["hop", { mel_config: { hop_length: 160, n_mels: 80 } }, "mel_config"],
    ["extractors", { extractors: ["mel", "w2v-bert"] }, "extractors"],
    ["model", { semantic_model: "other/model" }, "semantic_model"],
  ];
  // Key order alone is no difference.
  const same = await part(`${root}/same`, 1, 12, 20, {
    mel_config: { hop_length: 320, n_mels: 80 },
  });
  assertEquals((await merge({ parts: [a, same], processedDir: `${root}/ok` })).totalSamples, 20);
  for (const [name, metadata, field] of cases) {
    const b = await part(`${root}/${name}`, 1, 12, 20, metadata);
    const e = await refusal([a, b], `${root}/m_${name}`);
    assert(e.message.includes(b) && e.message.includes(`${field} is`), e.message);
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("merge refuses damaged part and target JSON by name, before placing any shard", async () => {
  const root = await Deno.makeTempDir();
  const a = await part(`${root}/a`, 0, 0, 12);
  const b = await part(`${root}/b`, 1, 12, 20);
  const meta = Deno.readTextFileSync(`${b}/metadata.json`);
  let n = 0;
  const expect = async (words: string[]) => {
    const e = await refusal([a, b], `${root}/m${n++}`);
    for (const w of words) assert(e.message.includes(w), `${w} not in: ${e.message}`);
  };
  for (const count of [1e9, -3, 2.5, "2"]) {
    editJson(
      `${b}/metadata.json`,
      (m) => ({ ...m, partition: { ...m.partition as object, count } }),
    );
    await expect([`${b}/metadata.json`, "partition"]);
    Deno.writeTextFileSync(`${b}/metadata.json`, meta);
  }
  Deno.writeTextFileSync(`${b}/metadata.json`, "[1, 2]");
  await expect([`${b}/metadata.json`]);
  Deno.writeTextFileSync(`${b}/metadata.json`, meta);
  for (const log of ["{not json", "5", '{"errors": 5}', '{"errors": [{"sample_key": 7}]}']) {
    Deno.writeTextFileSync(`${b}/error_log.json`, log);
    await expect([`${b}/error_log.json`]);
  }
  Deno.removeSync(`${b}/error_log.json`);
  // A damaged merge plan in the target.
  for (const plan of ["{oops", '{"parts": 3, "shards": 1, "samples": 1}']) {
    const target = `${root}/m${n}`;
    Deno.mkdirSync(target);
    Deno.writeTextFileSync(`${target}/${MERGE_PLAN_FILE}`, plan);
    await expect([MERGE_PLAN_FILE]);
  }
  assertEquals((await merge({ parts: [a, b], processedDir: `${root}/fine` })).totalSamples, 20);
  await Deno.remove(root, { recursive: true });
});
