/**
 * The shared `--partition I/N` option of the commands that write a cache (one task of an array
 * job takes partition I of N of the sorted keys).
 *
 * @module
 */
import { parsePartition, type Partition, partitionProblem } from "../ops/partition.ts";
import type { CommandContext, OptionSpec } from "./command.ts";

/** `--partition I/N`, checked before the command runs. */
export function partitionOption(): OptionSpec {
  return {
    type: "string",
    value: "I/N",
    help: "take only partition I of N (0-based) of the sorted keys: one task of an array job",
    check: partitionProblem,
  };
}

/** The partition given with `--partition`, if any. */
export function partitionValue(ctx: CommandContext): Partition | undefined {
  const text = ctx.values.partition;
  return typeof text === "string" ? parsePartition(text) : undefined;
}
