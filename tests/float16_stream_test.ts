import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
  assertThrows,
} from "./helpers/assert.ts";
import { SampleError } from "../errors.ts";
import { Float16Stream, type Float16StreamOptions } from "../stages/float16_stream.ts";
import { isFailure, type Sample, type SampleFailure } from "../stages/record.ts";

async function run(
  records: (Sample | SampleFailure)[],
  options?: Float16StreamOptions,
): Promise<(Sample | SampleFailure)[]> {
  return await Array.fromAsync(
    ReadableStream.from(records).pipeThrough(new Float16Stream(options)),
  );
}

function mixed(key = "a/b/c"): Sample {
  return {
    key,
    origin: `/data/${key}.npz`,
    tensors: {
      hidden_states: {
        dtype: "float32",
        shape: [2, 3],
        data: new Float32Array([1, -2, 0.1, 3, 4, 5]),
      },
      f64: { dtype: "float64", shape: [2], data: new Float64Array([1 / 3, -0]) },
      half: { dtype: "float16", shape: [1], data: new Float16Array([7]) },
      ids: { dtype: "int32", shape: [3], data: new Int32Array([1, 2, 3]) },
      big: { dtype: "int64", shape: [1], data: new BigInt64Array([5n]) },
      mask: { dtype: "bool", shape: [2], data: new Uint8Array([1, 0]) },
    },
  };
}

Deno.test("Float16Stream converts float32/float64 and leaves float16, ints and bools untouched", async () => {
  const input = mixed();
  const [out] = await run([input]);
  assert(!isFailure(out));
  const t = (out as Sample).tensors;
  assertEquals(
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dtype])),
    {
      hidden_states: "float16",
      f64: "float16",
      half: "float16",
      ids: "int32",
      big: "int64",
      mask: "bool",
    },
  );
  assert(t.hidden_states.data instanceof Float16Array);
  assertEquals([...t.hidden_states.data], [...new Float16Array([1, -2, 0.1, 3, 4, 5])]);
  assertEquals(t.hidden_states.shape, [2, 3]);
  assert(Object.is(t.f64.data[1], -0));
  assertStrictEquals(t.f64.data[0], Math.f16round(1 / 3));
  for (const name of ["half", "ids", "big", "mask"]) {
    assertStrictEquals(t[name], input.tensors[name]);
  }
  assertStrictEquals((out as Sample).inputBytes, 24 + 16 + 2 + 12 + 8 + 2);
  assertEquals((out as Sample).inputDTypes, {
    hidden_states: "float32",
    f64: "float64",
    half: "float16",
    ids: "int32",
    big: "int64",
    mask: "bool",
  });
  assertStrictEquals((out as Sample).origin, "/data/a/b/c.npz");
  assertStrictEquals(input.tensors.hidden_states.dtype, "float32"); // input not mutated
});

Deno.test("Float16Stream passes everything through when disabled", async () => {
  const input = mixed();
  const [out] = await run([input], { enabled: false });
  assertStrictEquals(out, input);
});

Deno.test("Float16Stream passes failures through untouched and keeps order", async () => {
  const fail: SampleFailure = { key: "bad", error: new Error("unreadable") };
  const out = await run([mixed("1"), fail, mixed("2")]);
  assertEquals(out.map((r) => r.key), ["1", "bad", "2"]);
  assertStrictEquals(out[1], fail);
});

function overflowing(): Sample {
  return {
    key: "k1",
    origin: "/x/k1.npz",
    warnings: ["earlier note"],
    tensors: {
      ok: { dtype: "float32", shape: [1], data: new Float32Array([1]) },
      mel: { dtype: "float32", shape: [4], data: new Float32Array([1e5, -7e4, Infinity, 2]) },
    },
  };
}

Deno.test("Float16Stream overflow 'warn' stores inf and warns naming the dataset", async () => {
  const [out] = await run([overflowing()]);
  assert(!isFailure(out));
  assertEquals([...(out as Sample).tensors.mel.data], [Infinity, -Infinity, Infinity, 2]);
  assertEquals((out as Sample).warnings, [
    "earlier note",
    "dataset mel: 2 values beyond float16 range stored as inf",
  ]);
});

Deno.test("Float16Stream overflow 'clamp' saturates to ±65504 without warning", async () => {
  const [out] = await run([overflowing()], { overflow: "clamp" });
  assertEquals([...(out as Sample).tensors.mel.data], [65504, -65504, Infinity, 2]);
  assertEquals((out as Sample).warnings, ["earlier note"]);
});

Deno.test("Float16Stream overflow 'error' turns the sample into a failure naming key and dataset", async () => {
  const out = await run([overflowing(), mixed("next")], { overflow: "error" });
  assert(isFailure(out[0]));
  const { error, key, origin } = out[0] as SampleFailure;
  assertStrictEquals(key, "k1");
  assertStrictEquals(origin, "/x/k1.npz");
  assert(error instanceof SampleError);
  assertStrictEquals(error.key, "k1");
  assertStrictEquals(error.dataset, "mel");
  assertMatch(error.message, /"k1".*"mel".*2 float32 values beyond the float16 range/);
  assert(!isFailure(out[1]));
});

Deno.test("Float16Stream turns an inconsistent float tensor into a failure, not a crash", async () => {
  const bad: Sample = {
    key: "odd",
    tensors: { x: { dtype: "float32", shape: [3], data: new Float32Array(2) } },
  };
  const out = await run([bad, mixed("after")]);
  assert(isFailure(out[0]));
  assertStrictEquals(((out[0] as SampleFailure).error as SampleError).dataset, "x");
  assertStrictEquals(out[1].key, "after");
});

Deno.test("Float16Stream keeps an inputBytes recorded upstream", async () => {
  const sample = { ...mixed(), inputBytes: 12345 };
  const [out] = await run([sample]);
  assertStrictEquals((out as Sample).inputBytes, 12345);
});

Deno.test("Float16Stream rejects bad options quoting the value", () => {
  assertThrows(
    () => new Float16Stream({ overflow: "saturate" as "clamp" }),
    (e: unknown) => e instanceof RangeError && /"saturate"/.test(e.message),
  );
  assertThrows(
    () => new Float16Stream({ enabled: "yes" as unknown as boolean }),
    (e: unknown) => e instanceof TypeError && /"yes"/.test(e.message),
  );
});
