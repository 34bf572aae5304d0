/** Keys of a legacy NPZ cache: every `*.npz` below `dir`, relative, without `.npz`, sorted. */
export async function npzKeys(dir: string): Promise<string[]> {
  const keys: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && e.name.endsWith(".npz")) keys.push(path.slice(0, -4));
    }
  };
  await walk("");
  return keys.sort();
}
