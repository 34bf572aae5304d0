/**
 * What an object header says: a group (its symbol table), a dataset (dtype, shape, layout,
 * filters, whether unwritten elements read as zeros) or something else.
 *
 * @module
 */
import { type DType, DTYPES } from "../../dtype.ts";
import { MessageType } from "../constants.ts";
import { type Filter, parseFilterPipeline } from "../messages/filter_pipeline.ts";
import { parseDataspace } from "./dataspace.ts";
import { parseDatatype } from "./datatype.ts";
import { fillIsNonZero } from "./fill_value.ts";
import { parseSymbolTableMessage, type SymbolTable } from "../messages/symbol_table_message.ts";
import { type Layout, parseLayout } from "./layout.ts";
import type { RawMessage } from "./object_header.ts";

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
    return { kind: "group", stab: parseSymbolTableMessage(stab.data) };
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
  const filters = pipeline ? parseFilterPipeline(pipeline.data, DTYPES[dtype].size, damaged) : [];
  if (typeof filters === "string") return { kind: "dataset", unsupported: filters };
  const fill = byType.get(MessageType.FILL_VALUE);
  const oldFill = byType.get(FILL_VALUE_OLD);
  const fillNonZero = (fill ? fillIsNonZero(fill.data, false, damaged) : false) ||
    (!fill && oldFill ? fillIsNonZero(oldFill.data, true, damaged) : false);
  return { kind: "dataset", dataset: { dtype, shape, layout, filters, fillNonZero } };
}
