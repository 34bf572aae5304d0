/**
 * Reads back the hierarchy of an existing file of our profile (superblock 0, v1 object
 * headers, old-style groups) for {@linkcode Hdf5FileWriter.resume}: the stored EOF and a
 * {@linkcode NameTree} whose groups keep the addresses of their current metadata.
 *
 * @module
 */
import { FormatError } from "../../errors.ts";
import {
  HDF5_SIGNATURE,
  LOCAL_HEAP_HEADER_SIZE,
  MESSAGE_HEADER_SIZE,
  MessageType,
  OBJECT_HEADER_PREFIX_SIZE,
  OFFSET_SIZE,
  SUPERBLOCK_SIZE,
  SYMBOL_ENTRY_SIZE,
  UNDEF,
} from "./constants.ts";
import { GroupNode, NameTree } from "./name_tree.ts";
import type { HeaderMessage } from "./object_header.ts";
import { signature, u64 } from "./reader/positioned_reader.ts";

const PAGE = 64 * 1024;
const MAX_PAGES = 512;
const decoder = new TextDecoder();

/**
 * Positional reads through a small page cache: a group's metadata is contiguous, but the walk
 * jumps between a parent's nodes and each child's header.
 */
class BlockReader {
  #file: Deno.FsFile;
  #name: string;
  #limit: number;
  #pages = new Map<number, Uint8Array>();

  constructor(file: Deno.FsFile, name: string, limit: number) {
    this.#file = file;
    this.#name = name;
    this.#limit = limit;
  }

  /**
   * `length` bytes at `address`. `cached` false reads them directly: for objects scattered
   * through the file (dataset headers), whole pages would be mostly wasted.
   */
  read(address: number, length: number, what: string, cached = true): DataView {
    if (address === UNDEF || address < 0 || address + length > this.#limit) {
      throw new FormatError(
        this.#name,
        `${what} at address ${address} (+${length}) lies outside the file (EOF ${this.#limit})`,
      );
    }
    const page = Math.floor(address / PAGE);
    if (!cached) return new DataView(this.#readAt(address, length).buffer);
    if (Math.floor((address + length - 1) / PAGE) === page || length === 0) {
      const bytes = this.#page(page);
      return new DataView(bytes.buffer, address - page * PAGE, length);
    }
    return new DataView(this.#readAt(address, length).buffer);
  }

  #page(index: number): Uint8Array {
    let bytes = this.#pages.get(index);
    if (bytes) {
      // Map order is insertion order: re-insert to mark as recently used.
      this.#pages.delete(index);
    } else {
      const start = index * PAGE;
      bytes = this.#readAt(start, Math.min(PAGE, this.#limit - start));
      if (this.#pages.size >= MAX_PAGES) this.#pages.delete(this.#pages.keys().next().value!);
    }
    this.#pages.set(index, bytes);
    return bytes;
  }

  #readAt(address: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    this.#file.seekSync(address, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = this.#file.readSync(bytes.subarray(done));
      if (n === null || n === 0) {
        throw new FormatError(this.#name, `unexpected end of file at ${address + done}`);
      }
      done += n;
    }
    return bytes;
  }
}

interface ParsedHeader {
  stab?: { btree: number; heap: number };
  messages: HeaderMessage[];
}

/** The stored EOF address and the name tree of the file at `name`. */
export function readHierarchy(file: Deno.FsFile, name: string): { eof: number; tree: NameTree } {
  const length = file.statSync().size;
  if (length < SUPERBLOCK_SIZE) {
    throw new FormatError(name, `${length} bytes is too short for an HDF5 file`);
  }
  const sb = new BlockReader(file, name, length).read(0, SUPERBLOCK_SIZE, "superblock");
  if (new Uint8Array(sb.buffer, sb.byteOffset, SUPERBLOCK_SIZE).every((b) => b === 0)) {
    throw new FormatError(
      name,
      "the superblock was never written (no checkpoint): nothing to resume",
    );
  }
  for (let i = 0; i < HDF5_SIGNATURE.length; i++) {
    if (sb.getUint8(i) !== HDF5_SIGNATURE[i]) {
      throw new FormatError(name, "no HDF5 signature at offset 0 (user blocks are not supported)");
    }
  }
  if (sb.getUint8(8) !== 0) {
    throw new FormatError(
      name,
      `superblock version ${sb.getUint8(8)} is not supported (only 0, libver 'earliest')`,
    );
  }
  if (sb.getUint8(13) !== OFFSET_SIZE || sb.getUint8(14) !== OFFSET_SIZE) {
    throw new FormatError(
      name,
      `offset/length sizes ${sb.getUint8(13)}/${sb.getUint8(14)} are not supported (only 8/8)`,
    );
  }
  if (u64(sb, 24) !== 0) {
    throw new FormatError(name, `base address ${u64(sb, 24)} is not supported (only 0)`);
  }
  const eof = u64(sb, 40);
  if (eof === UNDEF || eof < SUPERBLOCK_SIZE) {
    throw new FormatError(
      name,
      "the superblock was never written (no checkpoint): nothing to resume",
    );
  }
  if (eof > length) {
    throw new FormatError(name, `file is truncated: ${length} bytes, its superblock says ${eof}`);
  }
  const reader = new BlockReader(file, name, eof);
  const rootHeader = u64(sb, 56 + 8);

  // A dataset header is ~200-300 bytes: read that much at once when not going through pages.
  const FIRST_READ = 512;
  const parseHeader = (address: number, cached = true): ParsedHeader => {
    const prefix = cached
      ? reader.read(address, OBJECT_HEADER_PREFIX_SIZE, "object header")
      : reader.read(
        address,
        Math.max(OBJECT_HEADER_PREFIX_SIZE, Math.min(FIRST_READ, eof - address)),
        "object header",
        false,
      );
    if (prefix.getUint8(0) !== 1) {
      throw new FormatError(
        name,
        `object header at ${address} has version ${
          prefix.getUint8(0)
        } (only version 1 is supported; was the file written with libver 'latest'?)`,
      );
    }
    const count = prefix.getUint16(2, true);
    const blocks: [number, number][] = [[
      address + OBJECT_HEADER_PREFIX_SIZE,
      prefix.getUint32(8, true),
    ]];
    const out: ParsedHeader = { messages: [] };
    let seen = 0;
    for (let b = 0; b < blocks.length && seen < count; b++) {
      const [start, size] = blocks[b];
      const inPrefix = !cached && b === 0 &&
        OBJECT_HEADER_PREFIX_SIZE + size <= prefix.byteLength;
      const block = inPrefix
        ? new DataView(prefix.buffer, prefix.byteOffset + OBJECT_HEADER_PREFIX_SIZE, size)
        : reader.read(start, size, "object header messages", cached);
      let at = 0;
      while (at + MESSAGE_HEADER_SIZE <= size && seen < count) {
        const type = block.getUint16(at, true);
        const msgSize = block.getUint16(at + 2, true);
        const flags = block.getUint8(at + 4);
        const data = at + MESSAGE_HEADER_SIZE;
        if (data + msgSize > size) {
          throw new FormatError(name, `object header at ${address}: message overruns its block`);
        }
        seen++;
        if (type === MessageType.CONTINUATION) {
          blocks.push([u64(block, data), u64(block, data + 8)]);
        } else if (type === MessageType.SYMBOL_TABLE) {
          out.stab = { btree: u64(block, data), heap: u64(block, data + 8) };
        } else if (type === MessageType.LINK || type === MessageType.LINK_INFO) {
          throw new FormatError(
            name,
            `object header at ${address} is a new-style group (link messages; h5py makes one when it adds a non-ASCII name): not supported`,
          );
        } else if (type !== MessageType.NIL) {
          const bytes = new Uint8Array(block.buffer, block.byteOffset + data, msgSize).slice();
          out.messages.push({ type, flags, data: bytes });
        }
        at = data + msgSize;
      }
    }
    return out;
  };

  const readGroup = (
    node: GroupNode,
    stab: { btree: number; heap: number },
    ancestors: Set<number>,
  ) => {
    const heap = reader.read(stab.heap, LOCAL_HEAP_HEADER_SIZE, "local heap");
    if (signature(heap, 0) !== "HEAP") throw new FormatError(name, `no local heap at ${stab.heap}`);
    const dataSize = u64(heap, 8);
    const names = reader.read(u64(heap, 24), dataSize, "local heap data");
    const nameAt = (offset: number): string => {
      let end = offset;
      while (end < dataSize && names.getUint8(end) !== 0) end++;
      return decoder.decode(new Uint8Array(names.buffer, names.byteOffset + offset, end - offset));
    };
    // Collect the links first, then descend: the reads of this group stay together.
    const links: [string, number, boolean][] = [];
    const walk = (address: number, depth: number) => {
      if (depth > 64) throw new FormatError(name, `group B-tree at ${address} is too deep`);
      const head = reader.read(address, 24, "group B-tree node");
      if (signature(head, 0) !== "TREE" || head.getUint8(4) !== 0) {
        throw new FormatError(name, `no group B-tree node at ${address}`);
      }
      const level = head.getUint8(5);
      const used = head.getUint16(6, true);
      const body = reader.read(address + 24, used * 16 + 8, "group B-tree node");
      const children: number[] = [];
      for (let i = 0; i < used; i++) children.push(u64(body, 16 * i + 8));
      for (const child of children) {
        if (level > 0) {
          walk(child, depth + 1);
          continue;
        }
        const snod = reader.read(child, 8, "symbol table node");
        if (signature(snod, 0) !== "SNOD") {
          throw new FormatError(name, `no symbol table node at ${child}`);
        }
        const n = snod.getUint16(6, true);
        const entries = reader.read(child + 8, n * SYMBOL_ENTRY_SIZE, "symbol table node");
        for (let i = 0; i < n; i++) {
          const at = i * SYMBOL_ENTRY_SIZE;
          const linkName = nameAt(u64(entries, at));
          const cacheType = entries.getUint32(at + 16, true);
          if (cacheType === 2) {
            throw new FormatError(
              name,
              `${JSON.stringify(linkName)} is a soft link: not supported (only hard links)`,
            );
          }
          links.push([linkName, u64(entries, at + 8), cacheType === 1]); // 1: a group
        }
      }
    };
    walk(stab.btree, 0);
    for (const [childName, header, isGroup] of links) {
      const parsed = parseHeader(header, isGroup);
      if (!parsed.stab) {
        node.children.set(childName, header);
        continue;
      }
      if (ancestors.has(header)) {
        throw new FormatError(
          name,
          `group ${JSON.stringify(childName)} links back to its ancestor`,
        );
      }
      node.children.set(childName, load(header, parsed, new Set([...ancestors, header])));
    }
  };

  const load = (header: number, parsed: ParsedHeader, ancestors: Set<number>): GroupNode => {
    const stab = parsed.stab!;
    const group = new GroupNode(!parsed.messages.some((m) => m.type === MessageType.ATTRIBUTE));
    group.header = header;
    group.btree = stab.btree;
    group.heap = stab.heap;
    group.kept = parsed.messages;
    readGroup(group, stab, ancestors);
    group.dirty = false;
    return group;
  };

  const tree = new NameTree();
  const parsedRoot = parseHeader(rootHeader);
  if (!parsedRoot.stab) {
    throw new FormatError(name, `root object header at ${rootHeader} is not a group`);
  }
  const root = tree.root;
  root.header = rootHeader;
  root.btree = parsedRoot.stab.btree;
  root.heap = parsedRoot.stab.heap;
  root.kept = parsedRoot.messages;
  readGroup(root, parsedRoot.stab, new Set([rootHeader]));
  root.dirty = false;
  return { eof, tree };
}
