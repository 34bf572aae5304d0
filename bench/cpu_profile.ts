/** Where a `--cpu-prof` run spent its time: self time per function and per source file. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** `main` or `worker-N`, from the file name Deno gives each isolate. */
  thread: string;
  /** Sampled milliseconds, idle (and the profiler's attach wait in workers) excluded. */
  busyMs: number;
  idleMs: number;
  topFunctions: { name: string; ms: number }[];
  topFiles: { file: string; ms: number }[];
}

// A repo file by its path from the repo root; dependencies and internals by their last parts.
function shortUrl(url: string, root: string): string {
  if (!url) return "(native)";
  const path = url.replace(/^file:\/\//, "");
  if (path.startsWith(root + "/")) return path.slice(root.length + 1);
  return path.split("/").slice(-2).join("/");
}

// A worker waits here for the inspector that --cpu-prof attaches: profiler overhead, not work.
const IDLE = new Set(["(idle)", "op_worker_maybe_wait_for_debugger"]);

export function summarizeProfile(
  thread: string,
  profile: CpuProfile,
  root: string,
  top = 8,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (IDLE.has(f.functionName)) {
      idleUs += us;
      continue;
    }
    busyUs += us;
    // A native frame (e.g. zlib's or fs's writeSync) is told apart by the script that called it.
    const caller = f.url || f.functionName.startsWith("(") ? undefined : parent.get(id)?.callFrame;
    const file = shortUrl(f.url || caller?.url || "", root);
    const where = f.url
      ? `${file}:${f.lineNumber + 1}`
      : caller?.functionName
      ? `<- ${caller.functionName} ${file}`
      : "";
    const name = `${f.functionName || "(anonymous)"} ${where}`.trim();
    fns.set(name, (fns.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, us / 1000] as const);
  return {
    thread,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    topFunctions: rank(fns).map(([name, ms]) => ({ name, ms })),
    topFiles: rank(files).map(([file, ms]) => ({ file, ms })),
  };
}

/** Summaries of every `.cpuprofile` in `dir`, main thread first. */
export async function summarizeProfiles(dir: string, root: string): Promise<ProfileSummary[]> {
  const out: ProfileSummary[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".cpuprofile")) continue;
    const thread = e.name.match(/\.(worker-\d+)\.cpuprofile$/)?.[1] ?? "main";
    const profile: CpuProfile = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
    out.push(summarizeProfile(thread, profile, root));
  }
  return out.sort((a, b) => a.thread.localeCompare(b.thread));
}
