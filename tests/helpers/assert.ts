/** Assertions for tests: the one place that names the assertion library. */
export {
  deepEqual as assertEquals,
  equal as assertStrictEquals,
  match as assertMatch,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
