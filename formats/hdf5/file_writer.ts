/**
 * The streaming HDF5 file writer: datasets go to disk as they come (chunks, chunk B-tree,
 * object header), group metadata at each checkpoint (changed groups only, children before
 * parents), then the superblock at offset 0. Memory holds only the name tree.
 *
 * @module
 */
import { MessageType, SUPERBLOCK_SIZE, UNDEF } from "./constants.ts";
import type { AttributeValue, DatasetSpec } from "./dataset_spec.ts";
import {
  encodeChunkedMetadata,
  encodeContiguousHeader,
  validateDatasetSpec,
} from "./dataset_encoder.ts";
import { FileSink } from "./file_sink.ts";
import { compareNames, encodeGroup, type GroupChild } from "./group_encoder.ts";
import { attributeMessage, attributeMessageName } from "./messages/attribute.ts";
import { GroupNode, NameTree, splitPath } from "./name_tree.ts";
import { readNameTree } from "./reader/name_tree_reader.ts";
import { encodeSuperblock } from "./superblock.ts";

const encoder = new TextEncoder();

/**
 * Writes an HDF5 file of the "earliest" profile (superblock 0, old-style groups, v1 B-tree
 * chunk indexes) that h5py, h5dump and h5wasm read. The file is valid as of its last
 * {@linkcode Hdf5FileWriter.checkpoint}.
 *
 * @example Write one sample group and close
 * ```ts
 * import { Hdf5FileWriter } from "./file_writer.ts";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".h5" });
 * const w = Hdf5FileWriter.create(path);
 * w.writeDataset("LJ001-0001/speaker", {
 *   dtype: "int32",
 *   shape: [],
 *   layout: { kind: "contiguous", bytes: new Uint8Array(new Int32Array([7]).buffer) },
 * });
 * w.close();
 * if (!Hdf5FileWriter.resume(path).has("LJ001-0001/speaker")) throw new Error("lost");
 * ```
 */
export class Hdf5FileWriter {
  /** The file being written. */
  readonly path: string;
  #sink: FileSink;
  #tree: NameTree;
  #closed = false;

  private constructor(path: string, sink: FileSink, tree: NameTree) {
    this.path = path;
    this.#sink = sink;
    this.#tree = tree;
  }

  /**
   * Creates `path` and writes a 96-byte superblock placeholder. The file is always new: a link
   * there is never followed, an existing file never truncated. A regular file there is removed
   * first (its name only: another hard link keeps its bytes), anything else is refused; with
   * `exclusive`, anything there is refused.
   */
  static create(path: string, options: { exclusive?: boolean } = {}): Hdf5FileWriter {
    if (!options.exclusive) {
      let info: Deno.FileInfo | undefined;
      try {
        info = Deno.lstatSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (info && !info.isFile) {
        throw new Deno.errors.AlreadyExists(
          `${path} exists and is not a regular file (a link, directory or device): not replaced`,
        );
      }
      if (info) Deno.removeSync(path);
    }
    const file = Deno.openSync(path, { read: true, write: true, createNew: true });
    const sink = new FileSink(file, 0, path);
    sink.write(new Uint8Array(SUPERBLOCK_SIZE));
    return new Hdf5FileWriter(path, sink, new NameTree());
  }

  /**
   * Reopens a file written by us (or by h5py with libver 'earliest'/default: superblock 0,
   * old-style symbol-table groups) to append: reads the superblock, truncates the file to the
   * stored EOF address (drops bytes written after the last checkpoint), and rebuilds the
   * in-memory name tree by walking the groups. A file it cannot parse -> FormatError naming
   * the file and what is unsupported.
   */
  static resume(path: string): Hdf5FileWriter {
    const file = Deno.openSync(path, { read: true, write: true });
    try {
      const { eof, tree } = readNameTree(file, path);
      file.truncateSync(eof);
      file.seekSync(eof, Deno.SeekMode.Start);
      return new Hdf5FileWriter(path, new FileSink(file, eof, path), tree);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Bytes in the file so far (= next write position). */
  get size(): number {
    return this.#sink.position;
  }

  /** True if a group or dataset exists at `path` ("a/b/c" or "a/b/c/hidden_states"). */
  has(path: string): boolean {
    return this.#tree.get(path) !== undefined;
  }

  /** Paths of the groups that directly hold at least one dataset (sample groups), any order. */
  sampleGroups(): string[] {
    return this.#tree.sampleGroups();
  }

  /**
   * Removes a group (with everything below it) or dataset from the tree; implicitly created
   * ancestors left empty are removed too (groups read by {@linkcode resume} count as implicit
   * unless they carry attributes). Its bytes become dead space; the next checkpoint writes
   * parents without it. Unknown path -> KeyError.
   */
  unlink(path: string): void {
    this.#open();
    this.#tree.unlink(path);
  }

  /** Ensures the group exists (intermediate groups created once, shared by siblings). */
  createGroup(path: string, attributes?: Record<string, AttributeValue>): void {
    this.#open();
    const names = splitPath(path);
    // Encode once now so a bad attribute fails here, not at the next checkpoint.
    for (const [k, v] of Object.entries(attributes ?? {})) attributeMessage(k, v);
    const group = this.#tree.group(path, names, false);
    if (attributes && Object.keys(attributes).length > 0) {
      this.#tree.touch(names);
      Object.assign(group.attributes, attributes);
      // A new value replaces an attribute of the same name read by resume().
      group.kept = group.kept.filter((m) =>
        m.type !== MessageType.ATTRIBUTE ||
        !Object.hasOwn(attributes, attributeMessageName(m.data) ?? "")
      );
    }
  }

  /**
   * Writes one dataset now: chunk bytes straight to disk, then its chunk B-tree and object
   * header; keeps only (name, header address). Creates intermediate groups. Refuses invalid
   * names (empty component, ".", NUL, an existing path) with KeyError naming the path.
   */
  writeDataset(path: string, spec: DatasetSpec): void {
    this.#open();
    this.#tree.checkNew(path);
    validateDatasetSpec(path, spec);
    const sink = this.#sink;
    let header: number;
    if (spec.layout.kind === "contiguous") {
      const bytes = spec.layout.bytes;
      const address = bytes.length > 0 ? sink.position : UNDEF;
      if (bytes.length > 0) sink.write(bytes);
      sink.align8();
      header = sink.position;
      sink.write(encodeContiguousHeader(spec, address));
    } else {
      const addresses = new Array<number>(spec.layout.chunks.length);
      spec.layout.chunks.forEach((chunk, i) => {
        addresses[i] = sink.position;
        sink.write(chunk);
      });
      sink.align8();
      const meta = encodeChunkedMetadata(spec, addresses, sink.position);
      sink.write(meta.bytes);
      header = meta.header;
    }
    this.#tree.addDataset(path, header);
  }

  /**
   * Makes everything written so far durable and readable: writes the metadata of every group
   * changed since the last checkpoint (post-order, children before parents; a group that did
   * not change keeps its earlier metadata), fdatasync, then patches the superblock (root
   * addresses, EOF = file length) and fdatasyncs again. After a crash the file reads as of its
   * last checkpoint.
   */
  checkpoint(): void {
    this.#open();
    const root = this.#tree.root;
    if (!root.dirty) return;
    this.#writeGroup(root);
    this.#sink.sync();
    this.#sink.writeAtStart(encodeSuperblock({
      eof: this.#sink.position,
      rootHeader: root.header,
      rootBtree: root.btree,
      rootHeap: root.heap,
    }));
    this.#sink.sync();
  }

  /** checkpoint() and close the handle. A second call does nothing. */
  close(): void {
    if (this.#closed) return;
    this.checkpoint();
    this.#closed = true;
    this.#sink.close();
  }

  /** Close without checkpointing (abandon changes since the last checkpoint). */
  abort(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.close();
  }

  #open(): void {
    if (this.#closed) throw new Error(`${this.path}: the HDF5 writer is closed`);
  }

  #writeGroup(group: GroupNode): void {
    const children: GroupChild[] = [];
    for (const [name, child] of group.children) {
      if (typeof child === "number") {
        children.push({ name: encoder.encode(name), header: child });
      } else {
        if (child.dirty) this.#writeGroup(child);
        children.push({
          name: encoder.encode(name),
          header: child.header,
          group: child.btree === UNDEF ? undefined : { btree: child.btree, heap: child.heap },
        });
      }
    }
    children.sort((a, b) => compareNames(a.name, b.name));
    const messages = [
      ...group.kept,
      ...Object.entries(group.attributes).map(([k, v]) => attributeMessage(k, v)),
    ];
    this.#sink.align8();
    const encoded = encodeGroup(children, messages, this.#sink.position);
    this.#sink.write(encoded.bytes);
    group.header = encoded.header;
    group.btree = encoded.btree;
    group.heap = encoded.heap;
    group.dirty = false;
  }
}
