import { seededRandom } from "./helpers/random.ts";
import { assertEquals } from "./helpers/assert.ts";
import { createDeflater, createInflater } from "../formats/zlib_codec.ts";
import { deflateSync, inflateSync } from "../deps.ts";

Deno.test("createDeflater writes exactly deflateSync's zlib streams, reusing one handle", () => {
  const random = seededRandom(7);
  const inputs = [
    new Uint8Array(0),
    new Uint8Array(16384).map((_, i) => (i * 31) % 7),
    new Uint8Array(16384).map(() => Math.floor(random() * 256)), // incompressible
    new Uint8Array(70000).map((_, i) => Math.floor(Math.sin(i / 50) * 100) & 255),
  ];
  for (const level of [1, 4, 9]) {
    const deflater = createDeflater(level);
    for (const input of [...inputs, ...inputs]) {
      const got = deflater.deflate(input);
      assertEquals(got, new Uint8Array(deflateSync(input, { level })));
      assertEquals(new Uint8Array(inflateSync(got)), input);
    }
  }
});

Deno.test("createInflater reads what createDeflater wrote, chunk after chunk", () => {
  const deflater = createDeflater(4);
  const inflater = createInflater();
  for (let n = 1; n < 40000; n = n * 3 + 1) {
    const input = new Uint8Array(n).map((_, i) => (i * i) % 251);
    assertEquals(inflater.inflate(deflater.deflate(input), n), input);
  }
});
