/**
 * The read-side fuzz campaign, one process: damages copies of a clean cache's shard at
 * structural offsets (superblock, object headers, dataspace/layout/filter/datatype messages,
 * group and chunk B-tree nodes, SNODs, local heaps) and in chunk data, then reads every sample
 * and verifies each copy. Prints one JSON line per case. Run by `tests/read_fuzz_test.ts`, or
 * by hand for a longer campaign:
 *
 * ```sh
 * deno run -A tests/fuzz/read_fuzz.ts <clean_dir> <work_dir> <seed> <cases>
 * ```
 *
 * @module
 */
import { isH5ShardError } from "../../errors.ts";
import { bytesOf } from "../../formats/dtype.ts";
import { openCache } from "../../ops/cache_reader.ts";
import { verifyCache } from "../../ops/verify.ts";
import { sha256 } from "../helpers/hdf5_py.ts";
import { seededRandom } from "../helpers/random.ts";
import { applyDamage, type Damage, type Region, shardRegions } from "../helpers/shard_damage.ts";

/** What reading one sample of a damaged copy gave. */
export type Outcome = "same" | "wrong" | `named:${string}` | `other:${string}`;

/** One case's result line. */
export interface CaseResult {
  case: number;
  dir: string;
  region: string;
  damage: Damage;
  /** Per key. */
  outcomes: Record<string, Outcome>;
  /** For a "wrong" outcome: what our reader returned (dataset -> SHA-256). */
  wrong: Record<string, Record<string, string>>;
  /** Keys verify names in a problem; "*" for problems naming no key. */
  verifyFlagged: string[];
  /** Whether verify itself threw (it must not, given a readable index). */
  verifyError?: string;
  ms: number;
  rss: number;
}

const SHARD = "features_00001.h5";
/** Structures get most of the damage; chunk data the rest. */
const STRUCTURAL_SHARE = 0.85;

/** The damage of case `i`: deterministic in `seed` and `i`. */
export function pickDamage(regions: Region[], size: number, seed: number, i: number) {
  const r = seededRandom(seed * 100003 + i);
  const structural = regions.filter((x) => x.kind !== "chunk");
  const chunks = regions.filter((x) => x.kind === "chunk");
  const pool = r() < STRUCTURAL_SHARE || !chunks.length ? structural : chunks;
  const region = pool[Math.floor(r() * pool.length)];
  // Headers and message fields sit at the front of a structure: weight the start.
  const span = Math.max(1, Math.min(region.length, r() < 0.6 ? 48 : region.length));
  const at = Math.min(size - 1, region.offset + Math.floor(r() * span));
  const kind = r();
  let damage: Damage;
  if (kind < 0.6) {
    damage = {
      op: "flip",
      at,
      mask: r() < 0.5 ? 1 << Math.floor(r() * 8) : 1 + Math.floor(r() * 255),
    };
  } else if (kind < 0.9) damage = { op: "zero", at, length: 1 + Math.floor(r() * 8) };
  else damage = { op: "truncate", at };
  return { region: region.kind, damage };
}

async function digests(
  dir: string,
  keys: string[],
): Promise<Record<string, Outcome | Record<string, string>>> {
  const out: Record<string, Outcome | Record<string, string>> = {};
  let cache;
  try {
    cache = await openCache(dir);
  } catch (e) {
    for (const k of keys) out[k] = describe(e);
    return out;
  }
  try {
    for (const key of keys) {
      try {
        const got: Record<string, string> = {};
        for (const [name, t] of Object.entries(await cache.get(key))) {
          got[name] = await sha256(bytesOf(t.data));
        }
        out[key] = got;
      } catch (e) {
        out[key] = describe(e);
      }
    }
  } finally {
    cache.close();
  }
  return out;
}

function describe(e: unknown): Outcome {
  if (isH5ShardError(e)) return `named:${e.code}`;
  return `other:${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

async function main(): Promise<void> {
  const [clean, work, seedText, countText] = Deno.args;
  const seed = Number(seedText);
  const count = Number(countText);
  const bytes = await Deno.readFile(`${clean}/${SHARD}`);
  const regions = shardRegions(bytes);
  const keys = Object.keys(
    JSON.parse(await Deno.readTextFile(`${clean}/hdf5_index.json`)).sample_index,
  );
  const want = await digests(clean, keys);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const { region, damage } = pickDamage(regions, bytes.length, seed, i);
    const dir = `${work}/case${i}`;
    await Deno.mkdir(dir, { recursive: true });
    for (const f of ["hdf5_index.json", "metadata.json"]) {
      await Deno.copyFile(`${clean}/${f}`, `${dir}/${f}`);
    }
    await Deno.writeFile(`${dir}/${SHARD}`, applyDamage(bytes, damage));
    const got = await digests(dir, keys);
    const outcomes: Record<string, Outcome> = {};
    const wrong: Record<string, Record<string, string>> = {};
    for (const key of keys) {
      const g = got[key];
      if (typeof g !== "string" && JSON.stringify(g) !== JSON.stringify(want[key])) wrong[key] = g;
      outcomes[key] = typeof g === "string"
        ? g
        : JSON.stringify(g) === JSON.stringify(want[key])
        ? "same"
        : "wrong";
    }
    const result: CaseResult = {
      case: i,
      dir,
      region,
      damage,
      outcomes,
      wrong,
      verifyFlagged: [],
      ms: 0,
      rss: 0,
    };
    try {
      const report = await verifyCache(dir);
      result.verifyFlagged = [...new Set(report.problems.map((p) => p.key ?? "*"))].sort();
    } catch (e) {
      result.verifyError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    result.ms = Math.round(performance.now() - started);
    result.rss = Deno.memoryUsage().rss;
    console.log(JSON.stringify(result));
  }
}

if (import.meta.main) await main();
