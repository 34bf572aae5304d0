/** Peak resident set size of this process (VmHWM, Linux), in KiB; undefined where unknown. */
export function peakRssKiB(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = status.match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
