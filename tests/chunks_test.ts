import { assertEquals } from "./helpers/assert.ts";
import {
  chooseChunkShape,
  shuffleBytes,
  splitChunks,
  timeAxis,
  unshuffleBytes,
} from "../formats/chunks.ts";

Deno.test("timeAxis picks the frame axis of hidden_states and mel_spectrogram", () => {
  assertEquals(timeAxis([500, 1024]), 0);
  assertEquals(timeAxis([1, 500, 80]), 1);
  assertEquals(timeAxis([7]), 0);
  assertEquals(timeAxis([]), -1);
  assertEquals(timeAxis([1, 1, 80]), 0);
});

Deno.test("chooseChunkShape keeps full rows and about 16 KB per chunk", () => {
  assertEquals(chooseChunkShape([500, 1024], 2), [8, 1024]);
  assertEquals(chooseChunkShape([1, 500, 80], 2), [1, 102, 80]);
  assertEquals(chooseChunkShape([3, 1024], 2), [3, 1024]);
  assertEquals(chooseChunkShape([0, 1024], 2), [8, 1024]);
  assertEquals(chooseChunkShape([], 4), undefined);
});

function reference(
  data: Uint8Array,
  shape: number[],
  chunk: number[],
): Uint8Array[] {
  // Element-by-element reference for 3-D (lower ranks padded with 1s at the front).
  const s = [...Array(3 - shape.length).fill(1), ...shape];
  const c = [...Array(3 - chunk.length).fill(1), ...chunk];
  const out: Uint8Array[] = [];
  for (let a = 0; a < s[0]; a += c[0]) {
    for (let b = 0; b < s[1]; b += c[1]) {
      for (let d = 0; d < s[2]; d += c[2]) {
        const buf = new Uint8Array(c[0] * c[1] * c[2]);
        for (let i = 0; i < c[0]; i++) {
          for (let j = 0; j < c[1]; j++) {
            for (let k = 0; k < c[2]; k++) {
              if (a + i < s[0] && b + j < s[1] && d + k < s[2]) {
                buf[(i * c[1] + j) * c[2] + k] = data[((a + i) * s[1] + b + j) * s[2] + d + k];
              }
            }
          }
        }
        out.push(buf);
      }
    }
  }
  return out;
}

Deno.test("splitChunks matches an element-wise reference, edge chunks zero-padded", () => {
  const cases: [number[], number[]][] = [
    [[10], [3]],
    [[7, 5], [3, 5]],
    [[7, 5], [3, 2]],
    [[1, 9, 4], [1, 4, 4]],
    [[4, 5, 6], [3, 2, 4]],
  ];
  for (const [shape, chunk] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Uint8Array.from({ length: n }, (_, i) => (i % 251) + 1);
    assertEquals([...splitChunks(data, shape, chunk, 1)], reference(data, shape, chunk));
  }
});

Deno.test("shuffleBytes and unshuffleBytes are inverse and match HDF5's layout", () => {
  const input = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  assertEquals(shuffleBytes(input, 2), Uint8Array.from([1, 3, 5, 2, 4, 6]));
  assertEquals(unshuffleBytes(shuffleBytes(input, 2), 2), input);
  assertEquals(unshuffleBytes(shuffleBytes(input, 4), 4), input);
});
