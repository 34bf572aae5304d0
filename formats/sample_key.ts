/**
 * Which sample keys and dataset names a cache can hold. A sample key becomes an HDF5 group path
 * (`train-clean-100/103/1240/103_1240_000001_000000` nests groups on purpose); a dataset name
 * is one link inside that group. Anything HDF5 would read differently from what was meant
 * (datasets at the file root, a path from the root, a name that nests, `.`/`..`, NUL) is
 * refused before a byte is written.
 *
 * @module
 */

function componentProblem(name: string): string | undefined {
  if (name === "") return "it has an empty path component";
  if (name === "." || name === "..") return `it has a ${JSON.stringify(name)} path component`;
  return undefined;
}

/**
 * Why `key` cannot be a sample key, or `undefined` when it can.
 *
 * @example
 * ```ts
 * if (sampleKeyProblem("LJ001-0001") !== undefined) throw new Error();
 * if (sampleKeyProblem("test-clean/1/2/1_2_000001") !== undefined) throw new Error();
 * if (sampleKeyProblem("") === undefined || sampleKeyProblem("/lead") === undefined) {
 *   throw new Error();
 * }
 * ```
 */
export function sampleKeyProblem(key: string): string | undefined {
  if (typeof key !== "string") return `a key must be a string, got ${typeof key}`;
  if (key === "") return "an empty key would put the sample's datasets at the file root";
  if (key.includes("\0")) return "it contains NUL, which HDF5 names cannot hold";
  if (key.startsWith("/")) return 'a leading "/" makes it a path from the file root';
  if (key.endsWith("/")) return 'a trailing "/" is an empty path component';
  for (const part of key.split("/")) {
    const problem = componentProblem(part);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Why `name` cannot be a dataset name inside a sample's group, or `undefined` when it can.
 *
 * @example
 * ```ts
 * if (datasetNameProblem("hidden_states") !== undefined) throw new Error();
 * if (datasetNameProblem("a/b") === undefined) throw new Error("would nest");
 * ```
 */
export function datasetNameProblem(name: string): string | undefined {
  if (name === "") return "a dataset name must not be empty";
  if (name.includes("\0")) return "it contains NUL, which HDF5 names cannot hold";
  if (name.includes("/")) return 'a "/" would create a nested group instead of one dataset';
  return componentProblem(name);
}
