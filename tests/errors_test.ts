import {
  CacheError,
  ConfigError,
  errorFromWire,
  errorToWire,
  FormatError,
  isH5ShardError,
  KeyError,
} from "../errors.ts";
import { assert, assertEquals } from "./helpers/assert.ts";

Deno.test("isH5ShardError narrows by code", () => {
  const e: unknown = new FormatError("f.h5", "bad", { offset: 8, key: "k", dataset: "/k/x" });
  assert(isH5ShardError(e));
  assert(isH5ShardError(e, "format"));
  assert(!isH5ShardError(e, "key"));
  if (isH5ShardError(e, "format")) {
    assertEquals([e.file, e.offset, e.key, e.dataset], ["f.h5", 8, "k", "/k/x"]);
  }
  assert(!isH5ShardError(new Error("plain")));
  assert(isH5ShardError(new KeyError("k", "gone"), "key"));
});

Deno.test("an error crosses postMessage with its class, code, fields and cause chain", () => {
  const inner = new FormatError("features_00001.h5", "chunk does not inflate", {
    offset: 4096,
    dataset: "/a/x",
    cause: new RangeError("deep"),
  });
  const outer = new ConfigError("preprocessing.samples_per_hdf5", 7, "a positive integer", {
    cause: inner,
  });
  const back = errorFromWire(structuredClone(errorToWire(outer)));
  assert(back instanceof ConfigError);
  assertEquals([back.code, back.path, back.value, back.message], [
    "config",
    "preprocessing.samples_per_hdf5",
    7,
    outer.message,
  ]);
  const cause = back.cause as FormatError;
  assert(cause instanceof FormatError);
  assertEquals([cause.code, cause.file, cause.offset, cause.dataset], [
    "format",
    "features_00001.h5",
    4096,
    "/a/x",
  ]);
  assert(cause.cause instanceof RangeError);
  assertEquals((cause.cause as Error).message, "deep");
  assert(errorFromWire(errorToWire(new CacheError("d", "x"))) instanceof CacheError);
  assertEquals(errorFromWire(errorToWire("a string")).message, "a string");
});
