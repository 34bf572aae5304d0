/**
 * Damaged shards (issue "hostile input", cases 1-4): every reader path names the damage
 * (FormatError with file, key, dataset, offset) within bounded memory, reshard and verify
 * name the samples lost, and verify never calls sound what h5py cannot read.
 */
import { FormatError, isH5ShardError } from "../errors.ts";
import { openCache } from "../ops/cache_reader.ts";
import { inspectCache } from "../ops/inspect.ts";
import { reshard } from "../ops/reshard.ts";
import { verifyCache } from "../ops/verify.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, requireTool } from "./helpers/interop.ts";
import { hostileCache, KEYS, ourDigests } from "./helpers/hostile_cache.ts";
import { runCli } from "./helpers/run_cli.ts";
import { h5pyVerdicts, type Region, shardRegions } from "./helpers/shard_damage.ts";

const PYTHON = await findH5pyPython();
const ignore = ignoreWithout(PYTHON, "python3 with h5py");
const python = () => requireTool(PYTHON, "python3 with h5py");

const scratch = Deno.makeTempDirSync({ prefix: "hostile_read_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));

const SHARD = "features_00001.h5";

let copies = 0;
/** A copy of `src` whose shard is edited by `edit` (given the bytes and their regions). */
async function damaged(
  src: string,
  edit: (bytes: Uint8Array, view: DataView, regions: Region[]) => void,
): Promise<string> {
  const dir = `${scratch}/case${++copies}`;
  await Deno.mkdir(dir);
  for (const f of ["hdf5_index.json", "metadata.json"]) {
    await Deno.copyFile(`${src}/${f}`, `${dir}/${f}`);
  }
  const bytes = await Deno.readFile(`${src}/${SHARD}`);
  edit(bytes, new DataView(bytes.buffer), shardRegions(bytes));
  await Deno.writeFile(`${dir}/${SHARD}`, bytes);
  return dir;
}

function region(regions: Region[], kind: string, owner: string): Region {
  const r = regions.find((x) => x.kind === kind && x.owner === owner);
  if (!r) throw new Error(`no ${kind} of ${owner}`);
  return r;
}

let clean: Promise<{ dir: string; digests: Record<string, Record<string, string>> }> | undefined;
function cleanCache() {
  return clean ??= (async () => {
    const dir = `${scratch}/clean`;
    await hostileCache(dir);
    return { dir, digests: await ourDigests(dir) };
  })();
}

/** The keys h5py cannot read (or reads differently from the clean cache) in `dir`. */
async function h5pyLost(dir: string): Promise<string[]> {
  const { digests } = await cleanCache();
  const [verdict] = await h5pyVerdicts(python(), [dir]);
  return KEYS.filter((k) =>
    !verdict[k] ||
    Object.entries(digests[k]).some(([name, _]) => verdict[k]![name] === undefined) ||
    JSON.stringify(Object.keys(verdict[k]!).sort()) !==
      JSON.stringify(Object.keys(digests[k]).sort())
  );
}

Deno.test({
  name: "case 1: a flipped byte in a group's local heap signature is a named failure everywhere",
  ignore,
  async fn() {
    const { dir: src } = await cleanCache();
    let heapAt = 0;
    const dir = await damaged(src, (bytes, _v, regions) => {
      heapAt = region(regions, "local heap", "/LJ001-0002").offset;
      bytes[heapAt] ^= 0x20;
    });
    assertEquals(await h5pyLost(dir), ["LJ001-0002"]);
    const cache = await openCache(dir);
    try {
      await assertRejects(
        cache.get("LJ001-0002"),
        (e: Error) =>
          isH5ShardError(e, "format") && e.file.endsWith(SHARD) && e.offset === heapAt &&
          e.key === "LJ001-0002",
      );
      assertEquals(Object.keys(await cache.get("LJ001-0003")).sort(), [
        "hidden_states",
        "mel_spectrogram",
        "phone_ids",
      ]);
    } finally {
      cache.close();
    }
    // Read on a worker, the error comes back the same: class, code, key, offset.
    const onWorkers = await openCache(dir, { workers: 1 });
    try {
      await assertRejects(
        onWorkers.get("LJ001-0002"),
        (e: Error) =>
          isH5ShardError(e, "format") && e.offset === heapAt && e.key === "LJ001-0002" &&
          e.file.endsWith(SHARD),
      );
    } finally {
      onWorkers.close();
    }
    const report = await reshard(dir, `${dir}_resharded`);
    assertEquals([report.written, report.failed], [3, 1]);
    assertEquals(report.failures.map((f) => f.key), ["LJ001-0002"]);
    const verify = await verifyCache(dir);
    assert(verify.problems.some((p) => p.key === "LJ001-0002" && p.offset === heapAt));
    // The CLI exits 1 and names the sample.
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "reshard",
        dir,
        `${dir}_cli`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(cli.code, 1);
    assertMatch(new TextDecoder().decode(cli.stderr), /LJ001-0002/);
  },
});

Deno.test({
  name: "case 2: a chunk dimension of 0 is refused at once, by get, frames, reshard and verify",
  ignore,
  async fn() {
    const { dir: src } = await cleanCache();
    const dir = await damaged(src, (_b, v, regions) => {
      const layout = region(regions, "layout message", "/LJ001-0003/hidden_states");
      v.setUint32(layout.offset + 11, 0, true);
    });
    assertEquals(await h5pyLost(dir), ["LJ001-0003"]);
    const cache = await openCache(dir);
    try {
      for (const frames of [undefined, [10, 20] as [number, number]]) {
        await assertRejects(
          cache.get("LJ001-0003", { frames }),
          (e: Error) =>
            e instanceof FormatError && /chunk dims \[0,16\]/.test(e.message) &&
            e.dataset === "/LJ001-0003/hidden_states" && e.key === "LJ001-0003",
        );
      }
    } finally {
      cache.close();
    }
    const report = await reshard(dir, `${dir}_resharded`);
    assertEquals([report.written, report.failed], [3, 1]);
    const verify = await verifyCache(dir);
    assertEquals(
      verify.problems.map((p) => [p.kind, p.key, p.dataset]),
      [["unreadable_dataset", "LJ001-0003", "hidden_states"]],
    );
    // What a person reads names the sample to re-make and its dataset, in every command.
    const named = /sample "LJ001-0003" dataset "[^"]*hidden_states": .*chunk dims \[0,16\]/;
    const cliVerify = await runCli(["verify", dir]);
    assertEquals(cliVerify.code, 1);
    assertMatch(cliVerify.stderr, named);
    const cliGet = await runCli(["get", dir, "LJ001-0003", "hidden_states"]);
    assertEquals(cliGet.code, 1);
    assertMatch(cliGet.stderr, named);
    const cliInspect = await runCli(["inspect", dir]);
    assertMatch(cliInspect.stdout + cliInspect.stderr, named);
  },
});

Deno.test({
  name:
    "case 3: verify reports every sample HDF5 cannot find or reads wrong (B-tree keys, chunk dims)",
  ignore,
  async fn() {
    const { dir: src } = await cleanCache();
    const heapName = (bytes: Uint8Array, regions: Region[], name: string) => {
      const data = region(regions, "local heap data", "/");
      const text = new TextDecoder().decode(bytes.subarray(data.offset, data.offset + data.length));
      return text.indexOf(`\0${name}\0`) + 1;
    };
    const rootKey = (i: number, name: string) =>
      damaged(src, (bytes, v, regions) => {
        const node = region(regions, "group B-tree node", "/");
        v.setBigUint64(node.offset + 24 + 16 * i, BigInt(heapName(bytes, regions, name)), true);
      });
    // (a) the right key lowered: names past it are not found by HDF5.
    // (b) the left key raised: names at or before it are not found by HDF5 (our old lookup
    //     still found them).
    // (c) a chunk dim 8 -> 1: HDF5 reads zeros where chunks seem missing, without an error.
    const cases = {
      a: await rootKey(1, "LJ001-0002"),
      b: await rootKey(0, "LJ001-0002"),
      c: await damaged(src, (_b, v, regions) => {
        const layout = region(regions, "layout message", "/LJ001-0004/hidden_states");
        v.setUint32(layout.offset + 11, 1, true);
      }),
    };
    const lost = {
      a: ["LJ001-0003", "LJ001-0004"],
      b: ["LJ001-0001", "LJ001-0002"],
      c: ["LJ001-0004"],
    };
    const { digests } = await cleanCache();
    for (const [name, dir] of Object.entries(cases) as [keyof typeof cases, string][]) {
      const [verdict] = await h5pyVerdicts(python(), [dir]);
      const h5pyBad = KEYS.filter((k) =>
        !verdict[k] || Object.entries(digests[k]).some(([d, h]) => verdict[k]![d] !== h)
      );
      assertEquals(h5pyBad, lost[name], `h5py on case ${name}`);
      if (name === "c") assert(verdict["LJ001-0004"], "h5py reads case c without an error");
      const report = await verifyCache(dir);
      // Problems with no key are the shard's (its root group listing).
      const flagged = [...new Set(report.problems.flatMap((p) => p.key ? [p.key] : []))].sort();
      assert(report.problems.length > 0);
      assertEquals(
        flagged,
        lost[name],
        `verify on case ${name}: ${JSON.stringify(report.problems)}`,
      );
      const cache = await openCache(dir);
      try {
        for (const key of KEYS) {
          const got = await cache.get(key).then(() => "ok", (e) => isH5ShardError(e) ? "named" : e);
          assertEquals(got, lost[name].includes(key) ? "named" : "ok", `get ${key} case ${name}`);
        }
      } finally {
        cache.close();
      }
    }
  },
});

Deno.test({
  name: "case 4: a dimension of 2^40 is named by get, verify and inspect, without allocating it",
  ignore,
  async fn() {
    const { dir: src } = await cleanCache();
    const dir = await damaged(src, (_b, v, regions) => {
      const space = region(regions, "dataspace message", "/LJ001-0001/mel_spectrogram");
      v.setBigUint64(space.offset + 8 + 8, 2n ** 40n, true);
    });
    assertEquals(await h5pyLost(dir), ["LJ001-0001"]);
    const cache = await openCache(dir);
    try {
      await assertRejects(
        cache.get("LJ001-0001"),
        (e: Error) =>
          e instanceof FormatError && /declares \d+ bytes/.test(e.message) &&
          e.dataset === "/LJ001-0001/mel_spectrogram",
      );
    } finally {
      cache.close();
    }
    const verify = await verifyCache(dir);
    assertEquals(verify.problems.map((p) => [p.kind, p.key, p.dataset]), [
      ["unreadable_dataset", "LJ001-0001", "mel_spectrogram"],
    ]);
    const inspect = await inspectCache(dir);
    assert(
      inspect.oddities.some((o) => /mel_spectrogram.*declares/.test(o)),
      inspect.oddities.join("\n"),
    );
    assert(inspect.rawBytes < 1e6, `inspect counted ${inspect.rawBytes} raw bytes`);
    const dst = `${dir}_resharded`;
    const report = await reshard(dir, dst);
    assertEquals(report.failures.map((f) => f.key), ["LJ001-0001"]);
  },
});
