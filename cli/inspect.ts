/**
 * `h5shard inspect`: what a cache holds.
 *
 * @module
 */
import { inspectCache, type InspectReport } from "../ops/inspect.ts";
import { type Command, type CommandContext, formatBytes } from "./command.ts";
import { codecName } from "../formats/zlib_codec.ts";

function range(min: number[], max: number[]): string {
  return `(${min.map((m, i) => (m === max[i] ? `${m}` : `${m}..${max[i]}`)).join(", ")})`;
}

/** Prints an inspect report as a few readable lines. */
export function printInspectReport(ctx: CommandContext, r: InspectReport): void {
  const ratio = r.compressionRatio ? `, ${r.compressionRatio.toFixed(2)}x compression` : "";
  ctx.out(
    `${r.dir}: ${r.totalSamples} samples in ${r.shards.length} shard(s) of up to ${r.samplesPerFile}, ` +
      `float16 ${r.useFloat16 ? "on" : "off"}`,
  );
  ctx.out(`  on disk ${formatBytes(r.bytesOnDisk)}, raw ${formatBytes(r.rawBytes)}${ratio}`);
  ctx.out("  shards:");
  for (const s of r.shards) {
    ctx.out(
      `    ${s.name}  ${String(s.samples).padStart(6)} samples  ${
        formatBytes(s.bytes).padStart(9)
      }` + (s.readable ? "" : "  UNREADABLE"),
    );
  }
  ctx.out("  datasets:");
  for (const [name, d] of Object.entries(r.datasets)) {
    const dtypes = Object.entries(d.dtypes).map(([t, n]) => `${t} x${n}`).join(", ");
    ctx.out(
      `    ${name}: ${dtypes}; shape ${range(d.shapeMin, d.shapeMax)}; chunks ${
        d.chunkShapes.map((c) => `(${c.join(", ")})`).join(" ")
      }; ${d.filters.join(" ")}; raw ${formatBytes(d.rawBytes)}`,
    );
  }
  for (const o of r.oddities) ctx.err(`odd: ${o}`);
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Show shards, samples, datasets (dtypes, shape ranges), sizes and compression",
  args: "<processed_dir>",
  description:
    "Summarizes a cache from its index and the shards' HDF5 metadata, without decompressing\n" +
    "data: per shard its samples and size; per dataset name its dtypes, the range of each axis,\n" +
    "chunk shapes and filters; the compression ratio; and anything odd (shards the index does not\n" +
    "reference, missing shards, unindexed groups). Use verify to check the data itself.\n" +
    "--nonfinite also decompresses every floating dataset and counts NaN and inf per dataset\n" +
    "(reported as odd; with --strict, exit status 1 when there are any).",
  options: {
    json: { type: "boolean", help: "print the report as JSON on stdout" },
    nonfinite: { type: "boolean", help: "count NaN and inf per floating dataset (reads the data)" },
    strict: { type: "boolean", help: "like --nonfinite, and exit 1 when any NaN or inf is found" },
  },
  minArgs: 1,
  maxArgs: 1,
  examples: [
    "h5shard inspect data/processed_maskgct/ljspeech",
    "h5shard inspect cache --json > report.json",
    "h5shard inspect cache --nonfinite",
  ],
  async run(ctx) {
    const strict = !!ctx.values.strict;
    const report = await inspectCache(ctx.args[0], {
      nonFinite: strict || !!ctx.values.nonfinite,
    });
    // The codec this process reads with (the one a cache was written with is in metadata.json).
    if (ctx.values.json) ctx.out(JSON.stringify({ ...report, zlibCodec: codecName() }, null, 2));
    else {
      printInspectReport(ctx, report);
      ctx.out(`  zlib codec ${codecName()} (this process)`);
    }
    return strict && Object.keys(report.nonFinite ?? {}).length ? 1 : 0;
  },
};
