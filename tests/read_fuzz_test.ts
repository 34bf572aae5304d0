/**
 * The read-side fuzz test: seeded damage to a cache's shard (structures and chunk data), then
 * every sample read and the cache verified, in a child process with a time limit and a heap
 * limit. Every outcome must be the right data or a named error; a changed value is allowed
 * only where HDF5 itself reads the same change (a renamed link: no checksum can show it); and
 * verify must never call sound a cache in which h5py cannot read every sample as it was.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { hostileCache, ourDigests } from "./helpers/hostile_cache.ts";
import { findH5pyPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { h5pyVerdicts } from "./helpers/shard_damage.ts";
import type { CaseResult } from "./fuzz/read_fuzz.ts";

const PYTHON = await findH5pyPython();
const ignore = ignoreWithout(PYTHON, "python3 with h5py");

/**
 * Fixed, so CI is deterministic. A longer campaign sets both, e.g.
 * `H5SHARD_FUZZ_SEED=7 H5SHARD_FUZZ_CASES=3000 deno test -A tests/read_fuzz_test.ts`.
 */
const SEED = Number(Deno.env.get("H5SHARD_FUZZ_SEED") ?? 1);
const CASES = Number(Deno.env.get("H5SHARD_FUZZ_CASES") ?? 200);
const TIME_LIMIT_MS = 120_000 * Math.max(1, CASES / 200);
const HEAP_LIMIT_MB = 512;
const RSS_LIMIT = 1 << 30;

Deno.test({
  name: "damaged shards read as the right data or a named error, and verify agrees with h5py",
  ignore,
  async fn() {
    const python = requireTool(PYTHON, "python3 with h5py");
    const scratch = await Deno.makeTempDir({ prefix: "read_fuzz_test_" });
    try {
      const clean = `${scratch}/clean`;
      await hostileCache(clean);
      const want = await ourDigests(clean);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `--v8-flags=--max-old-space-size=${HEAP_LIMIT_MB}`,
          new URL("./fuzz/read_fuzz.ts", import.meta.url).pathname,
          clean,
          `${scratch}/work`,
          String(SEED),
          String(CASES),
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
      const out = await child.output();
      clearTimeout(timer);
      const stderr = new TextDecoder().decode(out.stderr);
      assert(out.success, `the fuzz process failed or hung (code ${out.code}):\n${stderr}`);
      const results: CaseResult[] = new TextDecoder().decode(out.stdout).trim().split("\n")
        .map((line) => JSON.parse(line));
      assertEquals(results.length, CASES);
      const verdicts = await h5pyVerdicts(python, results.map((r) => r.dir));

      const counts: Record<string, number> = {};
      const bad: string[] = [];
      results.forEach((r, i) => {
        const h5py = verdicts[i];
        const what = `case ${r.case} (${r.region}, ${JSON.stringify(r.damage)})`;
        if (r.verifyError) bad.push(`${what}: verify threw ${r.verifyError}`);
        if (r.rss > RSS_LIMIT) bad.push(`${what}: ${r.rss} bytes resident`);
        for (const [key, outcome] of Object.entries(r.outcomes)) {
          const kind = outcome.startsWith("named:") || outcome === "same"
            ? outcome
            : outcome.split(":")[0];
          counts[kind] = (counts[kind] ?? 0) + 1;
          if (outcome.startsWith("other:")) bad.push(`${what} ${key}: unnamed error ${outcome}`);
          if (outcome === "wrong" && JSON.stringify(h5py[key]) !== JSON.stringify(r.wrong[key])) {
            bad.push(`${what} ${key}: silent wrong data (h5py reads ${JSON.stringify(h5py[key])})`);
          }
        }
        if (r.verifyFlagged.length === 0) {
          counts["verify OK"] = (counts["verify OK"] ?? 0) + 1;
          for (const key of Object.keys(want)) {
            const same = JSON.stringify(h5py[key]) === JSON.stringify(want[key]) ||
              (r.outcomes[key] === "wrong" &&
                JSON.stringify(h5py[key]) === JSON.stringify(r.wrong[key]));
            if (!same) {
              bad.push(
                `${what}: verify says OK but h5py reads ${key} as ${JSON.stringify(h5py[key])}`,
              );
            }
          }
        }
      });
      console.log(`read fuzz, seed ${SEED}, ${CASES} cases: ${JSON.stringify(counts)}`);
      for (const b of bad) console.log(b);
      assertEquals(bad, []);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
