// migrate's fused NPZ task reuses one thread's memory from file to file (the file, inflated
// members, aligned copies, float16 copies): whatever came before, a file's packed chunks are
// the bytes a task with memory of its own makes, and nothing it answers with shares that memory.
import { encodeNpz } from "../formats/npz.ts";
import { decodeNpzTask, type NpzTask } from "../stages/npz_decode.ts";
import { utterance } from "./helpers/npz_fixtures.ts";
import { assert, assertEquals } from "./helpers/assert.ts";

Deno.test("a fused NPZ task in reused memory packs what a task with its own memory packs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "npz_task_scratch_" });
  try {
    // Long, short, long again, stored and deflated: each file lands on the leftovers of the last.
    const files: string[] = [];
    const shapes = [900, 40, 300, 1300, 1, 150];
    for (const [i, frames] of shapes.entries()) {
      const path = `${dir}/f${i}.npz`;
      await Deno.writeFile(path, encodeNpz(utterance(frames, i + 1), { compress: i % 2 === 1 }));
      files.push(path);
    }
    const encode = { level: 4, shuffle: false, chunkBytes: 64 * 1024 };
    const packed = (task: NpzTask) => {
      const { value, transfer } = decodeNpzTask(task);
      assert("encoded" in value, `${task.path}: ${JSON.stringify(value)}`);
      return { value: value.encoded, transfer: transfer ?? [] };
    };
    for (const round of [0, 1]) {
      for (const path of files) {
        const key = path.split("/").pop()!;
        const reused = packed({ key, path, float16: "warn", encode });
        // The same file handed in as bytes: that task decodes into memory of its own.
        const fresh = packed({
          key,
          path,
          bytes: await Deno.readFile(path),
          float16: "warn",
          encode,
        });
        assertEquals(reused.value.chunkEnds, fresh.value.chunkEnds, `${key} round ${round}`);
        assert(
          reused.value.chunks.every((x, k) => x === fresh.value.chunks[k]),
          `${key} round ${round}: chunk bytes differ`,
        );
        assertEquals(reused.value.datasets, fresh.value.datasets);
        // What moves to the writer is the packed buffer alone, a buffer of its own.
        assertEquals(reused.transfer, [reused.value.chunks.buffer]);
        assertEquals(reused.value.chunks.byteLength, reused.value.chunks.buffer.byteLength);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
