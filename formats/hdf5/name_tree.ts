/**
 * The writer's in-memory picture of a file's hierarchy: groups with their children by name,
 * datasets as bare object-header addresses. It is all the writer keeps per object, and it
 * records which groups changed since the last checkpoint.
 *
 * @module
 */
import { KeyError } from "../../errors.ts";
import { UNDEF } from "./constants.ts";
import type { AttributeValue } from "./dataset_spec.ts";
import type { HeaderMessage } from "./object_header.ts";

/** A group: children by name (a number is a dataset's object header address). */
export class GroupNode {
  /** Children by name. */
  readonly children: Map<string, GroupNode | number> = new Map();
  /** Object header of the metadata last written for this group (UNDEF before its first write). */
  header: number = UNDEF;
  /** Root of its group B-tree, as last written. */
  btree: number = UNDEF;
  /** Its local heap, as last written. */
  heap: number = UNDEF;
  /** Changed since its metadata was last written. */
  dirty = true;
  /** Created only as an ancestor of something else (removed when it empties on unlink). */
  implicit: boolean;
  /** Attributes to write in its header. */
  attributes: Record<string, AttributeValue> = {};
  /** Header messages kept verbatim from a resumed file (attributes written by other tools). */
  kept: HeaderMessage[] = [];

  /** A new, empty group (dirty until its first checkpoint). */
  constructor(implicit: boolean) {
    this.implicit = implicit;
  }
}

/** Splits `a/b/c` into its names, refusing what HDF5 cannot hold. A leading `/` is allowed. */
export function splitPath(path: string): string[] {
  const names = (path.startsWith("/") ? path.slice(1) : path).split("/");
  for (const name of names) {
    if (name === "" || name === "." || name.includes("\0")) {
      throw new KeyError(
        path,
        `invalid HDF5 path: names must be non-empty, not ".", and without NUL (got ${
          JSON.stringify(name)
        })`,
      );
    }
  }
  return names;
}

/** The hierarchy under a root group. */
export class NameTree {
  /** The root group `/`. */
  readonly root: GroupNode = new GroupNode(false);

  /** The node at `path`, or undefined (also for invalid paths). */
  get(path: string): GroupNode | number | undefined {
    let names: string[];
    try {
      names = splitPath(path);
    } catch {
      return undefined;
    }
    let node: GroupNode | number = this.root;
    for (const name of names) {
      if (typeof node === "number") return undefined;
      const next: GroupNode | number | undefined = node.children.get(name);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * The group at `names`, creating missing ones (which marks the chain above them dirty). A
   * dataset in the way is a KeyError naming `path`.
   */
  group(path: string, names: readonly string[], implicit: boolean): GroupNode {
    let node = this.root;
    for (let i = 0; i < names.length; i++) {
      let next = node.children.get(names[i]);
      if (next === undefined) {
        next = new GroupNode(implicit || i < names.length - 1);
        node.children.set(names[i], next);
        this.touch(names.slice(0, i));
      } else if (typeof next === "number") {
        throw new KeyError(path, `${JSON.stringify(names.slice(0, i + 1).join("/"))} is a dataset`);
      }
      node = next;
    }
    if (!implicit) node.implicit = false;
    return node;
  }

  /** Marks the groups from the root down to `names` as changed. */
  touch(names: readonly string[]): void {
    let node: GroupNode | number | undefined = this.root;
    this.root.dirty = true;
    for (const name of names) {
      node = typeof node === "object" ? node.children.get(name) : undefined;
      if (typeof node !== "object") return;
      node.dirty = true;
    }
  }

  /** Adds a dataset whose object header is at `header`; refuses an existing path. */
  addDataset(path: string, header: number): void {
    const names = splitPath(path);
    const parent = this.group(path, names.slice(0, -1), true);
    const name = names[names.length - 1];
    if (parent.children.has(name)) throw new KeyError(path, "already exists");
    parent.children.set(name, header);
    this.touch(names.slice(0, -1));
  }

  /** Throws KeyError when `path` is invalid or already exists (checked before writing data). */
  checkNew(path: string): void {
    const names = splitPath(path);
    let node: GroupNode | number | undefined = this.root;
    for (let i = 0; i < names.length; i++) {
      if (typeof node === "number") {
        throw new KeyError(path, `${JSON.stringify(names.slice(0, i).join("/"))} is a dataset`);
      }
      node = node.children.get(names[i]);
      if (node === undefined) return;
    }
    throw new KeyError(path, "already exists");
  }

  /** Removes `path` and then its implicit ancestors left empty. Unknown path: KeyError. */
  unlink(path: string): void {
    const names = splitPath(path);
    const chain: GroupNode[] = [this.root];
    for (let i = 0; i < names.length - 1; i++) {
      const next = chain[i].children.get(names[i]);
      if (typeof next !== "object") throw new KeyError(path, "no such group or dataset");
      chain.push(next);
    }
    if (!chain[chain.length - 1].children.delete(names[names.length - 1])) {
      throw new KeyError(path, "no such group or dataset");
    }
    for (let i = chain.length - 1; i > 0; i--) {
      if (chain[i].implicit && chain[i].children.size === 0) {
        chain[i - 1].children.delete(names[i - 1]);
      } else break;
    }
    for (const g of chain) g.dirty = true;
  }

  /** Paths of the groups that directly hold at least one dataset. */
  sampleGroups(): string[] {
    const out: string[] = [];
    const walk = (g: GroupNode, prefix: string) => {
      let hasDataset = false;
      for (const [name, child] of g.children) {
        if (typeof child === "number") hasDataset = true;
        else walk(child, prefix === "" ? name : `${prefix}/${name}`);
      }
      if (hasDataset) out.push(prefix === "" ? "/" : prefix);
    };
    walk(this.root, "");
    return out;
  }
}
