/**
 * `h5shard plugins`: the dataset plugins that are built in.
 *
 * @module
 */
import { listPlugins } from "../plugins/registry.ts";
import type { Command } from "./command.ts";

export const pluginsCommand: Command = {
  name: "plugins",
  summary: "List the built-in dataset plugins",
  args: "",
  description:
    "A dataset plugin discovers samples and turns file paths into keys. Pass a built-in name or\n" +
    "the path of your own module (default export made with definePlugin) to --dataset.",
  options: {},
  minArgs: 0,
  maxArgs: 0,
  examples: ["h5shard plugins", "h5shard migrate old new --dataset ./my_plugin.ts"],
  run(ctx) {
    for (const p of listPlugins()) ctx.out(`${p.name.padEnd(12)} ${p.description}`);
    return Promise.resolve(0);
  },
};
