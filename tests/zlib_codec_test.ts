import { seededRandom } from "./helpers/random.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";
import { IN_CI } from "./helpers/interop.ts";
import {
  CODEC_ENV,
  type CodecKind,
  codecName,
  createDeflater,
  createInflater,
  inflateRaw,
  zlibCodec,
} from "../formats/zlib_codec.ts";
import { openLibdeflate } from "../formats/libdeflate.ts";
import { deflateRawSync, deflateSync, inflateSync } from "../deps.ts";

// libdeflate0 is installed by .ci/run: in CI its absence fails these tests instead of hiding.
const hasLibdeflate = openLibdeflate().lib !== undefined;
const ignoreLibdeflate = !hasLibdeflate && !IN_CI;
if (ignoreLibdeflate) console.warn("note: libdeflate not found; its codec tests are ignored");
const CODECS: CodecKind[] = hasLibdeflate || IN_CI ? ["libdeflate", "node:zlib"] : ["node:zlib"];

function inputs(): Uint8Array[] {
  const random = seededRandom(7);
  // float16 features as they reach the deflate workers
  const features = new Float16Array(8192).map((_, i) => Math.sin(i / 40) + random() * 0.2);
  return [
    new Uint8Array(0),
    new Uint8Array(16384).map((_, i) => (i * 31) % 7),
    new Uint8Array(16384).map(() => Math.floor(random() * 256)), // incompressible
    new Uint8Array(70000).map((_, i) => Math.floor(Math.sin(i / 50) * 100) & 255),
    new Uint8Array(features.buffer),
  ];
}

Deno.test("the node:zlib codec writes exactly deflateSync's zlib streams, reusing one handle", () => {
  for (const level of [1, 4, 9]) {
    const deflater = createDeflater(level, { codec: "node:zlib" });
    for (const input of [...inputs(), ...inputs()]) {
      const got = deflater.deflate(input);
      assertEquals(got, new Uint8Array(deflateSync(input, { level })));
      assertEquals(new Uint8Array(inflateSync(got)), input);
    }
  }
});

Deno.test({
  name: "libdeflate and node:zlib inflate each other's zlib streams to the same bytes",
  ignore: ignoreLibdeflate,
  fn() {
    for (const level of [1, 4, 9]) {
      const fast = createDeflater(level, { codec: "libdeflate" });
      const slow = createDeflater(level, { codec: "node:zlib" });
      for (const input of inputs()) {
        const a = fast.deflate(input);
        const b = slow.deflate(input);
        for (const codec of CODECS) {
          const inflater = createInflater({ codec });
          assertEquals(inflater.inflate(a, input.length), input, `${codec} inflates libdeflate's`);
          assertEquals(inflater.inflate(b, input.length), input, `${codec} inflates zlib's`);
        }
        assertEquals(new Uint8Array(inflateSync(a)), input);
        // Same format, same effort: sizes within 2% (plus headers) of each other.
        assert(a.length <= b.length * 1.02 + 16, `level ${level}: ${a.length} vs ${b.length}`);
      }
    }
  },
});

Deno.test("each codec's inflater reports another size as another length, and throws on corruption", () => {
  const r = seededRandom(9);
  for (const codec of CODECS) {
    const inflater = createInflater({ codec });
    for (const size of [1, 1000, 12288, 200_000]) {
      const raw = new Uint8Array(size).map(() => Math.floor(r() * 40));
      const packed = new Uint8Array(deflateSync(raw, { level: 4 }));
      assertEquals(inflater.inflate(packed, size), raw, `${codec}, ${size} bytes`);
      const flipped = packed.slice();
      flipped[flipped.length >> 1] ^= 0xff;
      flipped[flipped.length - 1] ^= 0xff;
      assertThrows(() => inflater.inflate(flipped, size), Error);
      assertThrows(() => inflater.inflate(packed.subarray(0, packed.length - 5), size), Error);
      assertEquals(inflater.inflate(packed, size + 100).length, size, codec);
      assert(inflater.inflate(packed, Math.floor(size / 2)).length !== Math.floor(size / 2));
      // Still right after all that.
      assertEquals(inflater.inflate(packed, size), raw);
    }
  }
});

Deno.test("each codec's inflateInto fills the target in place and reports other sizes", () => {
  const r = seededRandom(11);
  for (const codec of CODECS) {
    const inflater = createInflater({ codec });
    for (const size of [1, 1000, 200_000]) {
      const raw = new Uint8Array(size).map(() => Math.floor(r() * 40));
      const packed = new Uint8Array(deflateSync(raw, { level: 4 }));
      // A view in the middle of a bigger buffer, as a reader's output rows are.
      const whole = new Uint8Array(size + 20).fill(0xee);
      assertEquals(inflater.inflateInto(packed, whole.subarray(10, 10 + size)), size, codec);
      assertEquals(whole.subarray(10, 10 + size), raw, `${codec}, ${size} bytes`);
      assertEquals([whole[9], whole[10 + size]], [0xee, 0xee], `${codec}: nothing outside`);
      assertEquals(inflater.inflateInto(packed, new Uint8Array(size + 7)), size, codec);
      if (size > 1) assertEquals(inflater.inflateInto(packed, new Uint8Array(size - 1)), -1, codec);
      const flipped = packed.slice();
      flipped[flipped.length >> 1] ^= 0xff;
      flipped[flipped.length - 1] ^= 0xff;
      // Corruption throws, or (when it decodes to more than fits) reports another size.
      let n = -2;
      try {
        n = inflater.inflateInto(flipped, new Uint8Array(size));
      } catch (e) {
        assert(e instanceof Error, codec);
      }
      assert(n !== size, `${codec}: corrupt ${size}-byte stream accepted`);
    }
  }
});

Deno.test("inflateRaw gives exactly the recorded size or throws, on each codec", () => {
  const input = inputs()[4];
  const raw = new Uint8Array(deflateRawSync(input));
  for (const codec of CODECS) {
    assertEquals(inflateRaw(raw, input.length, { codec }), input, codec);
    assertEquals(
      inflateRaw(new Uint8Array(deflateRawSync(new Uint8Array(0))), 0, { codec }).length,
      0,
    );
    assertThrows(() => inflateRaw(raw, input.length - 1, { codec }), Error, "expected");
    assertThrows(() => inflateRaw(raw, input.length + 1, { codec }), Error, "expected");
    assertThrows(() => inflateRaw(raw.subarray(0, raw.length >> 1), input.length, { codec }));
  }
});

Deno.test("createDeflater rejects a level outside 1..9, naming it", () => {
  assertThrows(() => createDeflater(0), RangeError, "got 0");
  assertThrows(() => createDeflater(4.5), RangeError, "got 4.5");
});

/** `codecName()` in a fresh `deno run` with `permissions` and `env`. */
async function nameIn(permissions: string[], env: Record<string, string>) {
  const url = new URL("../formats/zlib_codec.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { codecName } from ${JSON.stringify(url)};\nconsole.log(codecName());\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, script],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout).trim(), stderr: dec.decode(out.stderr) };
}

Deno.test(`${CODEC_ENV} forces the codec; refused FFI falls back to node:zlib and says so`, async () => {
  const forced = await nameIn(["--allow-ffi", "--allow-env", "--allow-read"], {
    [CODEC_ENV]: "node:zlib",
  });
  assertEquals([forced.stdout, forced.stderr], ["node:zlib", ""]);

  const refused = await nameIn(["--allow-env", "--allow-read"], {
    [CODEC_ENV]: "auto",
  });
  assertEquals(refused.stdout, "node:zlib");
  assertMatch(refused.stderr, /--allow-ffi is not granted.*node:zlib/);

  const bad = await nameIn(["--allow-env", "--allow-read"], { [CODEC_ENV]: "zstd" });
  assert(bad.code !== 0);
  assertMatch(
    bad.stderr,
    /H5SHARD_CODEC: expected "auto", "libdeflate" or "node:zlib", got "zstd"/,
  );

  if (!ignoreLibdeflate) {
    const fast = await nameIn(["--allow-ffi", "--allow-env", "--allow-read"], {
      [CODEC_ENV]: "libdeflate",
    });
    assertEquals([fast.stdout.startsWith("libdeflate 1.x"), fast.stderr], [true, ""]);
    const refusedForced = await nameIn(["--allow-env", "--allow-read"], {
      [CODEC_ENV]: "libdeflate",
    });
    assert(refusedForced.code !== 0);
    assertMatch(refusedForced.stderr, /H5SHARD_CODEC: .*--allow-ffi is not granted/);
  }
  // This process (`deno test -A`) uses libdeflate where it loads.
  if (hasLibdeflate && !Deno.env.get(CODEC_ENV)) assertEquals(zlibCodec().codec, "libdeflate");
  assertEquals(codecName(), zlibCodec().name);
});
