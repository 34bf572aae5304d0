// `deno task bench --workers L`: the list is checked, and the table's efficiency, CPU s per GB
// and peak RSS follow from the runs as defined (throughput(w) / (w x throughput(1))).
import { parseBenchArgs, parseWorkerList } from "../bench/args.ts";
import { renderScaling, scalingRows } from "../bench/scaling.ts";
import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";

Deno.test("--workers takes a comma-separated list of worker counts", () => {
  assertEquals(parseBenchArgs(["--workers", "1,2,4,8,16"]).workers, [1, 2, 4, 8, 16]);
  assertEquals(parseBenchArgs(["--workers", "2, 1,2"]).workers, [2, 1]);
  assertEquals(parseBenchArgs([]).workers, undefined);
  assertEquals(parseBenchArgs([]).minFrames, 150);
  assertEquals(parseBenchArgs(["--min-frames", "50"]).minFrames, 50);
  assertThrows(() => parseBenchArgs(["--min-frames", "20"]), RangeError, "50..800");
  assertEquals(parseBenchArgs([]).readPasses, 1);
  assertEquals(parseBenchArgs(["--read-passes", "5"]).readPasses, 5);
  for (const bad of ["0", "2.5", "x", "101"]) {
    assertThrows(() => parseBenchArgs(["--read-passes", bad]), RangeError, "--read-passes");
  }
  for (const bad of ["", "0", "1,x", "1.5", "65"]) {
    assertThrows(() => parseWorkerList(bad), RangeError, bad);
  }
});

Deno.test("scaling rows: medians, efficiency against 1 worker, CPU s per GB, peak RSS", () => {
  const run = (workers: number, seconds: number, cpuSeconds: number, peakRssKiB: number) => ({
    workers,
    used: workers,
    seconds,
    wallSeconds: seconds + 0.3,
    cpuSeconds,
    peakRssKiB,
  });
  const rows = scalingRows(
    [
      run(1, 4, 4, 100 * 1024),
      run(2, 2.5, 5, 120 * 1024),
      run(1, 5, 5, 110 * 1024),
      run(2, 2.5, 5, 130 * 1024),
      run(1, 4.5, 4.5, 90 * 1024),
      run(2, 3, 6, 125 * 1024),
    ],
    500,
    500e6,
  );
  assertEquals(rows.map((r) => r.workers), [1, 2]);
  assertEquals(rows.map((r) => r.seconds), [4.5, 2.5]);
  assertEquals(rows[0].throughput, 500 / 4.5);
  assert(Math.abs(rows[1].efficiency - 4.5 / (2 * 2.5)) < 1e-12, `${rows[1].efficiency}`);
  assertEquals(rows.map((r) => r.cpuSecondsPerGB), [9, 10]);
  assertEquals(rows.map((r) => r.peakRssMiB), [110, 130]);
  const text = renderScaling({ what: "migrate", unit: "MB/s", inputBytes: 500e6, rows });
  assert(text.includes("| 2 (2) | 2.50 |"), text);
  assert(text.includes("| 0.90 |"), text);
});
