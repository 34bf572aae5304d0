/**
 * Filter pipeline message, type 0x000B (spec §IV.A.2.l; HDF5_PROFILE.md §5.6): the one module
 * that knows filters. It writes version 1 with shuffle (id 2) and deflate (id 1), in the order
 * applied when writing; reads versions 1 and 2, keeping deflate and shuffle (any other filter
 * is h5wasm's business); and turns filters as stored into the writer's {@linkcode FilterSpec}
 * and into HDF5's names.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MESSAGE_FLAG_CONSTANT, MessageType } from "../constants.ts";
import type { FilterSpec } from "../dataset_spec.ts";
import type { HeaderMessage } from "../object_header.ts";

/** Filter ids of the pipeline message. */
export const FilterId = { DEFLATE: 1, SHUFFLE: 2 } as const;

/** One filter of a pipeline as stored, in write order. */
export interface Filter {
  id: number;
  /** The filter may be skipped for a chunk (flags bit 0); a mandatory one never is. */
  optional: boolean;
  /** Client data values (deflate: level; shuffle: element size). */
  cd: number[];
}

/** A filter as HDF5 (and h5wasm) names it. */
export interface NamedFilter {
  id: number;
  name: string;
  cd_values: number[];
}

/** HDF5's deflate filter refuses higher levels, on reading too. */
const MAX_DEFLATE_LEVEL = 9;
/** Filter flags bit 0: optional. */
const FLAG_OPTIONAL = 1;
/** Version 2 stores a name only for filter ids at or above this. */
const FIRST_NAMED_ID_V2 = 256;
// Name (8 bytes with NUL) and one client value (padded to 8): 8 + 8 + 8.
const DESCRIPTION_SIZE = 24;
/** The pipelines the writer stores, as their filter ids in write order. */
const WRITTEN_PIPELINES = ["", "deflate", "shuffle", "shuffle,deflate"];

/**
 * The pipeline of a chunk setting: shuffle when `shuffle`, then deflate at `level` unless it is
 * 0 (no compression).
 */
export function filterSpecs(shuffle: boolean, level: number): FilterSpec[] {
  return [
    ...(shuffle ? [{ id: "shuffle" } as const] : []),
    ...(level > 0 ? [{ id: "deflate", level } as const] : []),
  ];
}

/** Why the writer cannot store `filters`, or undefined when it can. */
export function filterSpecsProblem(filters: readonly FilterSpec[]): string | undefined {
  const ids = filters.map((f) => f.id).join(",");
  if (!WRITTEN_PIPELINES.includes(ids)) {
    return `filters [${ids}]: expected deflate, shuffle, or shuffle then deflate`;
  }
  for (const f of filters) {
    if (
      f.id === "deflate" &&
      !(Number.isInteger(f.level) && f.level >= 0 && f.level <= MAX_DEFLATE_LEVEL)
    ) {
      return `deflate level ${JSON.stringify(f.level)}: expected an integer 0..9`;
    }
  }
  return undefined;
}

/** The pipeline message; shuffle's client datum is the element size, deflate's the level. */
export function filterPipelineMessage(
  filters: readonly FilterSpec[],
  elementSize: number,
): HeaderMessage {
  const w = new ByteWriter(8 + DESCRIPTION_SIZE * filters.length);
  w.u8(1) // version
    .u8(filters.length) // number of filters
    .skip(6); // reserved
  for (const f of filters) {
    const name = f.id;
    w.u16(f.id === "deflate" ? FilterId.DEFLATE : FilterId.SHUFFLE) // filter identification value
      .u16(8) // name length incl. NUL, padded to 8
      .u16(FLAG_OPTIONAL) // flags
      .u16(1) // number of client data values
      .raw(new TextEncoder().encode(name))
      .skip(8 - name.length)
      .u32(f.id === "deflate" ? f.level : elementSize) // client data
      .skip(4); // padding after an odd number of values
  }
  return { type: MessageType.FILTER_PIPELINE, flags: MESSAGE_FLAG_CONSTANT, data: w.bytes };
}

/**
 * Parses a pipeline message of a dataset of `elementSize`-byte elements, or returns a string
 * saying why not (another filter or version: h5wasm's business). `damaged` builds the error for
 * what HDF5 refuses, which it throws: a name length that is not a multiple of 8 in version 1,
 * deflate parameters other than one level of 0-9, shuffle by another size than the element's.
 */
export function parseFilterPipeline(
  v: DataView,
  elementSize: number,
  damaged: (why: string) => Error,
): Filter[] | string {
  const version = v.getUint8(0);
  const n = v.getUint8(1);
  if (version !== 1 && version !== 2) return `filter pipeline version ${version}`;
  let at = version === 1 ? 8 : 2;
  const out: Filter[] = [];
  for (let f = 0; f < n; f++) {
    const id = v.getUint16(at, true);
    let nameLength = 0;
    at += 2;
    if (version === 1 || id >= FIRST_NAMED_ID_V2) {
      nameLength = v.getUint16(at, true);
      if (version === 1 && nameLength % 8 !== 0) {
        throw damaged(`filter ${id} name length ${nameLength} is not a multiple of 8`);
      }
      at += 2;
    }
    const optional = (v.getUint16(at, true) & FLAG_OPTIONAL) !== 0;
    at += 2;
    const ncd = v.getUint16(at, true);
    at += 2 + nameLength;
    const cd: number[] = [];
    for (let i = 0; i < ncd; i++) cd.push(v.getUint32(at + 4 * i, true));
    at += 4 * ncd + (version === 1 && ncd % 2 === 1 ? 4 : 0);
    if (id !== FilterId.DEFLATE && id !== FilterId.SHUFFLE) {
      return `filter ${id} (native reader: deflate and shuffle)`;
    }
    out.push({ id, optional, cd });
  }
  for (const f of out) {
    // HDF5's filters refuse these parameters when they run, on reading too.
    if (f.id === FilterId.DEFLATE && (f.cd.length !== 1 || f.cd[0] > MAX_DEFLATE_LEVEL)) {
      throw damaged(`deflate parameters ${JSON.stringify(f.cd)} (one level of 0-9 expected)`);
    }
    // Shuffling by another size than the element's reorders bytes into wrong values.
    if (f.id === FilterId.SHUFFLE && (f.cd.length !== 1 || f.cd[0] !== elementSize)) {
      throw damaged(
        `shuffle parameters ${JSON.stringify(f.cd)} for a ${elementSize}-byte datatype`,
      );
    }
  }
  return out;
}

/** A filter the native reader keeps (deflate or shuffle), named as HDF5 names it. */
export function namedFilter(f: Filter): NamedFilter {
  return {
    id: f.id,
    name: f.id === FilterId.DEFLATE ? "deflate" : "shuffle",
    cd_values: f.cd.slice(),
  };
}

/** The writer's form of a stored filter, or undefined for a filter the writer does not store. */
export function filterSpecOf(
  f: { id: number; cd_values: readonly number[] },
): FilterSpec | undefined {
  if (f.id === FilterId.SHUFFLE) return { id: "shuffle" };
  if (f.id === FilterId.DEFLATE) return { id: "deflate", level: f.cd_values[0] ?? 0 };
  return undefined;
}
