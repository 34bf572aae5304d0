/**
 * Damaging shards on purpose: where each HDF5 structure of one of our shards lies (found by
 * walking it from the superblock, independently of the reader under test), and h5py's verdict
 * on every sample of a damaged cache.
 *
 * @module
 */

/** A structure of a shard, or a field inside one. */
export interface Region {
  /** e.g. `superblock`, `object header`, `layout message`, `group B-tree node`, `chunk`. */
  kind: string;
  offset: number;
  length: number;
  /** The object (group or dataset path) it belongs to, when known. */
  owner?: string;
}

const dec = new TextDecoder();

function u64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
}

/** Every structure of one of our shards ("earliest" profile), walked from the superblock. */
export function shardRegions(bytes: Uint8Array): Region[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Region[] = [{ kind: "superblock", offset: 0, length: 96 }];
  const sig = (at: number) => dec.decode(bytes.subarray(at, at + 4));
  const nameAt = (heapData: number, off: number) => {
    let end = heapData + off;
    while (bytes[end] !== 0) end++;
    return dec.decode(bytes.subarray(heapData + off, end));
  };
  const seen = new Set<number>();
  const object = (address: number, path: string) => {
    if (seen.has(address)) return;
    seen.add(address);
    const size = v.getUint32(address + 8, true);
    out.push({ kind: "object header", offset: address, length: 16 + size, owner: path });
    let at = address + 16;
    let stab: [number, number] | undefined;
    let rank = 0;
    let btree = -1;
    while (at + 8 <= address + 16 + size) {
      const type = v.getUint16(at, true);
      const len = v.getUint16(at + 2, true);
      const names: Record<number, string> = {
        1: "dataspace message",
        3: "datatype message",
        8: "layout message",
        11: "filter pipeline message",
        17: "symbol table message",
      };
      if (names[type]) out.push({ kind: names[type], offset: at + 8, length: len, owner: path });
      if (type === 17) stab = [u64(v, at + 8), u64(v, at + 16)];
      if (type === 1) rank = v.getUint8(at + 9);
      if (type === 8 && v.getUint8(at + 9) === 2) btree = u64(v, at + 11);
      at += 8 + len;
    }
    if (stab) group(stab[0], stab[1], path);
    else if (btree >= 0) chunkTree(btree, rank, path);
  };
  const group = (btree: number, heap: number, path: string) => {
    const heapData = u64(v, heap + 24);
    out.push({ kind: "local heap", offset: heap, length: 32, owner: path });
    out.push({ kind: "local heap data", offset: heapData, length: u64(v, heap + 8), owner: path });
    const node = (address: number) => {
      const n = v.getUint16(address + 6, true);
      out.push({
        kind: "group B-tree node",
        offset: address,
        length: 24 + 16 * n + 8,
        owner: path,
      });
      for (let i = 0; i < n; i++) {
        const child = u64(v, address + 24 + 16 * i + 8);
        if (v.getUint8(address + 5) > 0) node(child);
        else snod(child);
      }
    };
    const snod = (address: number) => {
      const n = v.getUint16(address + 6, true);
      out.push({ kind: "symbol table node", offset: address, length: 8 + 40 * n, owner: path });
      for (let i = 0; i < n; i++) {
        const e = address + 8 + 40 * i;
        const name = nameAt(heapData, u64(v, e));
        object(u64(v, e + 8), path === "/" ? `/${name}` : `${path}/${name}`);
      }
    };
    if (sig(btree) === "TREE") node(btree);
  };
  const chunkTree = (address: number, rank: number, path: string) => {
    const n = v.getUint16(address + 6, true);
    const key = 8 + 8 * (rank + 1);
    out.push({
      kind: "chunk B-tree node",
      offset: address,
      length: 24 + n * (key + 8) + key,
      owner: path,
    });
    for (let i = 0; i < n; i++) {
      const at = address + 24 + i * (key + 8);
      const child = u64(v, at + key);
      if (v.getUint8(address + 5) > 0) chunkTree(child, rank, path);
      else out.push({ kind: "chunk", offset: child, length: v.getUint32(at, true), owner: path });
    }
  };
  object(u64(v, 64), "/");
  return out;
}

/** A damage applied to a copy of a shard. */
export type Damage =
  | { op: "flip"; at: number; mask: number }
  | { op: "zero"; at: number; length: number }
  | { op: "truncate"; at: number };

/** `bytes` with `d` applied (a new array). */
export function applyDamage(bytes: Uint8Array, d: Damage): Uint8Array {
  if (d.op === "truncate") return bytes.slice(0, d.at);
  const out = bytes.slice();
  if (d.op === "flip") out[d.at] ^= d.mask;
  else out.fill(0, d.at, Math.min(out.length, d.at + d.length));
  return out;
}

/** Seconds h5py may spend on one cache before it counts as hung (HDF5 can loop on damage). */
const H5PY_DIR_TIMEOUT_MS = 15_000;

const VERDICT_PY = String.raw`
import h5py, hashlib, json, sys
for d in json.load(open(sys.argv[1])):
    index = json.load(open(d + "/hdf5_index.json"))["sample_index"]
    files, res = {}, {}
    for key, e in index.items():
        try:
            f = files.get(e["file_idx"])
            if f is None:
                f = files[e["file_idx"]] = h5py.File("%s/features_%05d.h5" % (d, e["file_idx"]), "r")
            g = f[e["group_name"]]
            res[key] = {name: hashlib.sha256(g[name][()].tobytes()).hexdigest() for name in g}
        except BaseException:
            res[key] = None
    for f in files.values():
        try:
            f.close()
        except BaseException:
            pass
    print(json.dumps(res), flush=True)
`;

/**
 * What h5py reads of every indexed sample of each cache in `dirs`: per dir, key -> dataset ->
 * hex SHA-256 of its bytes, or `null` for the whole sample when h5py cannot read all of it.
 * One Python process reads the dirs in turn, one result line each; a dir on which HDF5
 * crashes or hangs counts as unreadable throughout (`{}`), and the rest go on in a new one.
 */
export async function h5pyVerdicts(
  python: string,
  dirs: string[],
): Promise<Record<string, Record<string, string> | null>[]> {
  const out: Record<string, Record<string, string> | null>[] = [];
  const list = await Deno.makeTempFile({ suffix: ".json" });
  try {
    while (out.length < dirs.length) {
      await Deno.writeTextFile(list, JSON.stringify(dirs.slice(out.length)));
      const child = new Deno.Command(python, {
        args: ["-c", VERDICT_PY, list],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let stalled = false;
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const next = await Promise.race([
          lines.read(),
          new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), H5PY_DIR_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(timer);
        if (next === "timeout") {
          stalled = true;
          child.kill("SIGKILL");
          break;
        }
        if (next.done) break;
        buffer += next.value;
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          out.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
      }
      await lines.cancel().catch(() => {});
      const status = await child.status;
      // The dir being read when HDF5 hung or crashed: unreadable for h5py.
      if ((stalled || !status.success) && out.length < dirs.length) out.push({});
    }
  } finally {
    await Deno.remove(list);
  }
  return out;
}
