/**
 * The library from a script outside the repo: no deno.json, `mod.ts` imported by path, and only
 * the permissions the README names: writing needs read and write access, reading needs read
 * access to the cache (no --allow-env, no --allow-run).
 */
import { assertEquals } from "./helpers/assert.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

const SCRIPT = `
import { openCache, pack } from ${JSON.stringify(MOD)};
const [dir, mode] = Deno.args;
if (mode === "write") {
  const samples = [1, 2, 3].map((n) => ({
    key: "LJ00" + n,
    tensors: {
      hidden_states: {
        dtype: "float32" as const,
        shape: [10 + n, 4],
        data: Float32Array.from({ length: (10 + n) * 4 }, (_, i) => i / 4 + n),
      },
    },
  }));
  const report = await pack(ReadableStream.from(samples), dir, {
    preprocessing: { samples_per_hdf5: 2 },
  });
  console.log(JSON.stringify({ written: report.written, shards: report.shards }));
} else {
  const cache = await openCache(dir);
  const { hidden_states } = await cache.get("LJ003", { frames: [2, 5] });
  console.log(JSON.stringify({
    dtype: hidden_states.dtype,
    shape: hidden_states.shape,
    first: Number(hidden_states.data[0]),
  }));
  cache.close();
}
`;

async function run(cwd: string, permissions: string[], ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", ...permissions, "script.ts", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("a script outside the repo builds and reads a cache with only read/write access", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/script.ts`, SCRIPT);
    const check = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", "script.ts"],
      cwd: dir,
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assertEquals(check.code, 0, new TextDecoder().decode(check.stderr));
    const cache = `${dir}/cache`;
    const written = await run(dir, ["--allow-read", `--allow-write=${cache}`], cache, "write");
    assertEquals(written, { written: 3, shards: 2 });
    const read = await run(dir, [`--allow-read=${cache}`], cache, "read");
    // frames 2..5 of LJ003 (13 x 4): row 2 starts at 8 / 4 + 3 = 5, exact in float16
    assertEquals(read, { dtype: "float16", shape: [3, 4], first: 5 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
