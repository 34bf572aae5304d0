import assert from "node:assert/strict";
import { FormatError } from "../errors.ts";
import { Resampler } from "../audio/resample.ts";
import { decodeWav } from "../audio/wav.ts";

/** A RIFF WAV: `fmt ` of the given fields (and extensible tail) + data. */
function wav(
  fields: { tag: number; channels: number; rate: number; bits: number; sub?: number },
  data: Uint8Array,
  rf64 = false,
): Uint8Array {
  const fmtSize = fields.sub === undefined ? 16 : 40;
  const ds64 = rf64 ? 8 + 28 : 0;
  const out = new Uint8Array(12 + ds64 + 8 + fmtSize + 8 + data.length);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => out[at + i] = c.charCodeAt(0));
  text(0, rf64 ? "RF64" : "RIFF");
  v.setUint32(4, rf64 ? 0xffffffff : out.length - 8, true);
  text(8, "WAVE");
  let at = 12;
  if (rf64) {
    text(at, "ds64");
    v.setUint32(at + 4, 28, true);
    v.setBigUint64(at + 8, BigInt(out.length - 8), true);
    v.setBigUint64(at + 16, BigInt(data.length), true);
    at += 36;
  }
  const block = fields.channels * fields.bits / 8;
  text(at, "fmt ");
  v.setUint32(at + 4, fmtSize, true);
  v.setUint16(at + 8, fields.tag, true);
  v.setUint16(at + 10, fields.channels, true);
  v.setUint32(at + 12, fields.rate, true);
  v.setUint32(at + 16, fields.rate * block, true);
  v.setUint16(at + 20, block, true);
  v.setUint16(at + 22, fields.bits, true);
  if (fields.sub !== undefined) {
    v.setUint16(at + 24, 22, true);
    v.setUint16(at + 26, fields.bits, true);
    v.setUint16(at + 32, fields.sub, true);
  }
  at += 8 + fmtSize;
  text(at, "data");
  v.setUint32(at + 4, rf64 ? 0xffffffff : data.length, true);
  out.set(data, at + 8);
  return out;
}

Deno.test("decodeWav reads RF64 (sizes in ds64) like RIFF", () => {
  const pcm = new Uint8Array(new Int16Array([100, -200, 300, 32767]).buffer);
  const plain = decodeWav(wav({ tag: 1, channels: 1, rate: 22050, bits: 16 }, pcm), "a.wav");
  const rf64 = decodeWav(wav({ tag: 1, channels: 1, rate: 22050, bits: 16 }, pcm, true), "b.wav");
  assert.deepEqual(rf64, plain);
  assert.deepEqual([...plain.audio], [100, -200, 300, 32767].map((x) => Math.fround(x / 32768)));
});

Deno.test("decodeWav scales PCM by 2^(bits-1), 8-bit as unsigned, and averages channels", () => {
  const u8 = decodeWav(
    wav({ tag: 1, channels: 2, rate: 8000, bits: 8 }, Uint8Array.of(0, 255, 128, 192)),
    "u8.wav",
  );
  assert.deepEqual([...u8.audio], [(-1 + 127 / 128) / 2, 0.25]);
  const i32 = new Uint8Array(new Int32Array([-(2 ** 31), 2 ** 30]).buffer);
  const ext = decodeWav(
    wav({ tag: 0xfffe, channels: 1, rate: 8000, bits: 32, sub: 1 }, i32),
    "ext.wav",
  );
  assert.deepEqual([...ext.audio], [-1, 0.5]);
  const f64 = new Uint8Array(new Float64Array([0.1, -0.7]).buffer);
  const fl = decodeWav(wav({ tag: 3, channels: 1, rate: 8000, bits: 64 }, f64), "f.wav");
  assert.deepEqual([...fl.audio], [Math.fround(0.1), Math.fround(-0.7)]);
});

Deno.test("decodeWav rejects non-WAV, truncated and unsupported files with a FormatError naming the file", () => {
  const pcm = new Uint8Array(400);
  const good = wav({ tag: 1, channels: 1, rate: 16000, bits: 16 }, pcm);
  const cases: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode("this is not audio\n"), /x\.wav: not a WAV file/],
    [
      good.subarray(0, 200),
      /x\.wav: truncated WAV file: the data chunk declares 400 bytes, only 156/,
    ],
    [good.subarray(0, 30), /x\.wav: .*fmt/],
    [wav({ tag: 2, channels: 1, rate: 16000, bits: 4 }, pcm), /format tag 0x0002, 4 bits/],
    [wav({ tag: 1, channels: 1, rate: 16000, bits: 12 }, pcm), /PCM, 12 bits/],
    [wav({ tag: 1, channels: 0, rate: 16000, bits: 16 }, pcm), /0 channels/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => decodeWav(bytes, "x.wav"),
      (e) => e instanceof FormatError && message.test(e.message),
    );
  }
});

Deno.test("Resampler returns the input unchanged at equal rates and reduces rates by their gcd", () => {
  const x = Float32Array.of(1, 2, 3);
  assert.equal(new Resampler(16000, 16000).resample(x), x);
  assert.equal(new Resampler(48000, 16000).outputLength(48001), 16001);
  assert.equal(new Resampler(22050, 16000).outputLength(85467), Math.ceil(85467 * 320 / 441));
  assert.throws(() => new Resampler(0, 16000), /from must be a positive integer rate, got 0/);
});
