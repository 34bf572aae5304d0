/**
 * What an object header says: a group (its symbol table), a dataset (dtype, shape, layout,
 * filters, whether unwritten elements read as zeros) or something else.
 *
 * @module
 */
import { type DType, DTYPES } from "../../dtype.ts";
import { FilterId, MessageType } from "../constants.ts";
import { parseDataspace } from "./dataspace.ts";
import { parseDatatype } from "./datatype.ts";
import { fillIsNonZero } from "./fill_value.ts";
import { type Filter, parseFilterPipeline } from "./filter_pipeline.ts";
import type { SymbolTable } from "./group_lookup.ts";
import { type Layout, parseLayout } from "./layout.ts";
import type { RawMessage } from "./object_header.ts";
import { u64 } from "./positioned_reader.ts";

/** HDF5's deflate filter refuses higher levels, on reading too. */
const MAX_DEFLATE_LEVEL = 9;

/** The old fill value message (spec §IV.A.2.e), absent from our profile. */
const FILL_VALUE_OLD = 0x0004;

/** A dataset the native reader can read. */
export interface DatasetHeader {
  dtype: DType;
  shape: number[];
  layout: Layout;
  /** In write order. */
  filters: Filter[];
  /** A fill value with a non-zero byte is defined (unwritten chunks are not zeros). */
  fillNonZero: boolean;
}

/** The kind of object and what the reader needs of it. */
export type ObjectInfo =
  | { kind: "group"; stab: SymbolTable }
  /** A group of the 1.8 "new style" (link messages): the native reader cannot look inside. */
  | { kind: "group"; stab?: undefined }
  | { kind: "dataset"; dataset: DatasetHeader }
  /** A dataset outside the native profile; `why` says what. */
  | { kind: "dataset"; unsupported: string }
  | { kind: "other" };

/**
 * Classifies an object from its header messages. `damaged` builds the error for messages no
 * HDF5 library accepts (they throw it); what is merely outside the native profile comes back
 * as `unsupported`.
 */
export function parseObject(
  messages: readonly RawMessage[],
  damaged: (why: string) => Error,
): ObjectInfo {
  const byType = new Map<number, RawMessage>();
  for (const m of messages) if (!byType.has(m.type)) byType.set(m.type, m);
  const stab = byType.get(MessageType.SYMBOL_TABLE);
  if (stab) {
    return { kind: "group", stab: { btree: u64(stab.data, 0), heap: u64(stab.data, 8) } };
  }
  if (byType.has(MessageType.LINK_INFO) || byType.has(MessageType.LINK)) return { kind: "group" };
  const layoutMsg = byType.get(MessageType.LAYOUT);
  const space = byType.get(MessageType.DATASPACE);
  const type = byType.get(MessageType.DATATYPE);
  if (!layoutMsg || !space || !type) return { kind: "other" };
  const shape = parseDataspace(space.data, damaged);
  if (typeof shape === "string") return { kind: "dataset", unsupported: shape };
  const datatype = parseDatatype(type.data, damaged);
  if (typeof datatype === "string") return { kind: "dataset", unsupported: datatype };
  const dtype = datatype.dtype;
  const layout = parseLayout(layoutMsg.data, shape.length, DTYPES[dtype].size, damaged);
  if (typeof layout === "string") return { kind: "dataset", unsupported: layout };
  const pipeline = byType.get(MessageType.FILTER_PIPELINE);
  const filters = pipeline ? parseFilterPipeline(pipeline.data, damaged) : [];
  if (typeof filters === "string") return { kind: "dataset", unsupported: filters };
  for (const f of filters) {
    // HDF5's filters refuse these parameters when they run, on reading too.
    if (f.id === FilterId.DEFLATE && (f.cd.length !== 1 || f.cd[0] > MAX_DEFLATE_LEVEL)) {
      throw damaged(`deflate parameters ${JSON.stringify(f.cd)} (one level of 0-9 expected)`);
    }
    // Shuffling by another size than the element's reorders bytes into wrong values.
    if (f.id === FilterId.SHUFFLE && (f.cd.length !== 1 || f.cd[0] !== DTYPES[dtype].size)) {
      throw damaged(
        `shuffle parameters ${JSON.stringify(f.cd)} for a ${DTYPES[dtype].size}-byte datatype`,
      );
    }
  }
  const fill = byType.get(MessageType.FILL_VALUE);
  const oldFill = byType.get(FILL_VALUE_OLD);
  const fillNonZero = (fill ? fillIsNonZero(fill.data, false, damaged) : false) ||
    (!fill && oldFill ? fillIsNonZero(oldFill.data, true, damaged) : false);
  return { kind: "dataset", dataset: { dtype, shape, layout, filters, fillNonZero } };
}
