import { assert, assertEquals } from "./helpers/assert.ts";
import { findH5pyPython, ignoreWithout, IN_CI, requireTool } from "./helpers/interop.ts";
import { compareWithNpz, makeLibriTtsNpz } from "./helpers/legacy_cache.ts";
import { h5pyCacheDigest } from "./helpers/cache_digest.ts";
import { openCache } from "../ops/cache_reader.ts";
import { CODEC_ENV } from "../formats/zlib_codec.ts";
import { openLibdeflate } from "../formats/libdeflate.ts";
import { runCli } from "./helpers/run_cli.ts";

const python = await findH5pyPython();
// libdeflate0 is installed by .ci/run: in CI its absence fails the test instead of hiding.
const noLibdeflate = openLibdeflate().lib === undefined && !IN_CI;
if (noLibdeflate) console.warn("note: libdeflate not found; its interop test is ignored");

/** `h5shard migrate` in a subprocess whose codec is forced through the environment. */
async function migrateWith(codec: string, npz: string, out: string) {
  const run = await runCli(["migrate", npz, out, "--dataset", "libritts"], {
    env: { [CODEC_ENV]: codec },
  });
  assertEquals(run.code, 0, run.stderr);
  return JSON.parse(await Deno.readTextFile(`${out}/metadata.json`)).compression_codec as string;
}

Deno.test({
  name:
    "caches written with libdeflate and with the node:zlib fallback read back the same in h5py and h5shard",
  ignore: ignoreWithout(python, "python3 with h5py") || noLibdeflate,
  async fn() {
    const py = requireTool(python, "python3 with h5py");
    const root = await Deno.makeTempDir();
    await makeLibriTtsNpz(py, `${root}/npz`);
    const fast = await migrateWith("libdeflate", `${root}/npz`, `${root}/fast`);
    const slow = await migrateWith("node:zlib", `${root}/npz`, `${root}/slow`);
    assert(fast.startsWith("libdeflate 1.x"), fast);
    assertEquals(slow, "node:zlib");
    const digest = await h5pyCacheDigest(py, `${root}/fast`);
    assertEquals(Object.keys(digest).length, 5);
    assertEquals(await h5pyCacheDigest(py, `${root}/slow`), digest);
    for (const dir of ["fast", "slow"]) {
      const bad = Object.entries(await compareWithNpz(py, `${root}/${dir}`, `${root}/npz`))
        .flatMap(([k, ds]) => Object.entries(ds).filter(([, v]) => v !== "ok").map(([n]) => k + n));
      assertEquals(bad, [], dir);
    }
    // Our reader (libdeflate in this process) reads both the same.
    const a = await openCache(`${root}/fast`);
    const b = await openCache(`${root}/slow`);
    try {
      for (const key of Object.keys(digest)) {
        const x = await a.get(key);
        const y = await b.get(key);
        assertEquals(x.hidden_states.data, y.hidden_states.data, key);
        assertEquals(x.mel_spectrogram.data, y.mel_spectrogram.data, key);
      }
    } finally {
      a.close();
      b.close();
    }
    await Deno.remove(root, { recursive: true });
  },
});
