import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("h5shard demo runs with only the permissions of `deno task demo` and verifies both caches", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.demo as string;
    const flags = task.split(" ").filter((w) => w.startsWith("--allow-"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, `${ROOT}cli.ts`, "demo", `${dir}/demo`, "--samples", "2"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /RANDOM weights/);
    assert.match(stdout, /from_audio: 5 samples, 10 datasets in 3 shard\(s\): OK/);
    assert.match(stdout, /hidden_states \[\d+,32\] float16, mel_spectrogram \[1,\d+,80\]/);
    assert.match(
      stdout,
      /processed: 2 samples, 4 datasets in 1 shard\(s\), 2 compared with the source: OK/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
