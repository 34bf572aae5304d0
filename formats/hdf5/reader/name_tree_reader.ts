/**
 * Reads back the group hierarchy of a file of our profile for
 * {@linkcode Hdf5FileWriter.resume}: the stored EOF and a {@linkcode NameTree} whose groups
 * keep the addresses of their current metadata and the header messages other tools added.
 * A walk over the reader's structure parsers (superblock, object header, group B-tree, SNOD,
 * local heap): the same checks, the same errors, as every other read.
 *
 * @module
 */
import { FormatError } from "../../../errors.ts";
import { MessageType, SUPERBLOCK_SIZE, UNDEF } from "../constants.ts";
import { GroupNode, NameTree } from "../name_tree.ts";
import type { HeaderMessage } from "../object_header.ts";
import { parseSymbolTableMessage, type SymbolTable } from "../messages/symbol_table_message.ts";
import { GroupLookup } from "./group_lookup.ts";
import { readObjectHeader } from "./object_header.ts";
import { PositionedReader, u64, viewOf } from "../positioned_reader.ts";
import { parseSuperblock } from "./superblock.ts";

/** End of File Address in a version 0 superblock. */
const EOF_FIELD = 40;

interface ParsedGroupHeader {
  stab?: SymbolTable;
  /** Messages other than the symbol table, copied (they outlive the read buffer). */
  kept: HeaderMessage[];
}

/** The stored EOF address and the name tree of `file` (named `name` in errors). */
export function readNameTree(file: Deno.FsFile, name: string): { eof: number; tree: NameTree } {
  const length = file.statSync().size;
  if (length < SUPERBLOCK_SIZE) {
    throw new FormatError(name, `${length} bytes is too short for an HDF5 file`);
  }
  const reader = new PositionedReader(file, name, length);
  const head = reader.read(0, SUPERBLOCK_SIZE, "superblock");
  const eofField = u64(viewOf(head), EOF_FIELD);
  if (head.every((b) => b === 0) || (head[0] === 0x89 && eofField === UNDEF)) {
    throw new FormatError(
      name,
      "the superblock was never written (no checkpoint): nothing to resume",
    );
  }
  const sb = parseSuperblock(head, name);
  if (sb.version !== 0) {
    throw new FormatError(
      name,
      `superblock version ${sb.version} is not supported (only 0, libver 'earliest')`,
    );
  }
  if (sb.eof > length) {
    throw new FormatError(
      name,
      `file is truncated: ${length} bytes, its superblock says ${sb.eof}`,
    );
  }
  reader.limit = sb.eof;
  const groups = new GroupLookup(reader, sb);

  const parse = (address: number): ParsedGroupHeader => {
    const out: ParsedGroupHeader = { kept: [] };
    for (const m of readObjectHeader(reader, address)) {
      if (m.type === MessageType.SYMBOL_TABLE) {
        out.stab = parseSymbolTableMessage(m.data);
      } else if (m.type === MessageType.LINK || m.type === MessageType.LINK_INFO) {
        throw new FormatError(
          name,
          `object header at ${address} is a new-style group (link messages; h5py makes one when it adds a non-ASCII name): not supported`,
          { offset: address },
        );
      } else {
        const data = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength).slice();
        out.kept.push({ type: m.type, flags: m.flags, data });
      }
    }
    return out;
  };

  const fill = (
    node: GroupNode,
    header: number,
    parsed: ParsedGroupHeader,
    ancestors: Set<number>,
  ) => {
    const stab = parsed.stab!;
    node.header = header;
    node.btree = stab.btree;
    node.heap = stab.heap;
    node.kept = parsed.kept;
    for (const link of groups.list(stab)) {
      const child = parse(link.header);
      if (!child.stab) {
        node.children.set(link.name, link.header);
        continue;
      }
      if (ancestors.has(link.header)) {
        throw new FormatError(
          name,
          `group ${JSON.stringify(link.name)} links back to its ancestor`,
          {
            offset: link.header,
          },
        );
      }
      const group = new GroupNode(!child.kept.some((m) => m.type === MessageType.ATTRIBUTE));
      fill(group, link.header, child, new Set([...ancestors, link.header]));
      node.children.set(link.name, group);
    }
    node.dirty = false;
  };

  const tree = new NameTree();
  const root = parse(sb.rootHeader);
  if (!root.stab) {
    throw new FormatError(name, `root object header at ${sb.rootHeader} is not a group`, {
      offset: sb.rootHeader,
    });
  }
  fill(tree.root, sb.rootHeader, root, new Set([sb.rootHeader]));
  return { eof: sb.eof, tree };
}
