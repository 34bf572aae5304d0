/**
 * `h5shard --version`: our version (from deno.json) and the runtime's.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/**
 * The version lines: `h5shard X.Y.Z`, then the runtime, then any `extra` facts (such as the
 * deflate codec in use), one per line.
 *
 * @example
 * ```ts
 * if (!versionLines()[0].startsWith("h5shard ")) throw new Error();
 * ```
 */
export function versionLines(extra: readonly string[] = []): string[] {
  const { deno, v8, typescript } = Deno.version;
  return [
    `h5shard ${denoJson.version}`,
    `deno ${deno} (v8 ${v8}, typescript ${typescript})`,
    ...extra,
  ];
}
