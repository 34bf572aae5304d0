/**
 * Attribute message, type 0x000C, version 1 (spec §IV.A.2.m; HDF5_PROFILE.md §5.10): a scalar
 * attribute whose name, datatype and dataspace are each padded to 8.
 *
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { MessageType } from "../constants.ts";
import type { AttributeValue } from "../dataset_spec.ts";
import type { HeaderMessage } from "../object_header.ts";
import { encodeDatatype, encodeStringType } from "./datatype.ts";
import { encodeDataspace } from "./dataspace.ts";

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * The HDF5 type and raw bytes of a value: integral numbers become int64, other numbers
 * float64, bigints int64 (uint64 above its range), booleans numpy bool, strings a fixed-length
 * UTF-8 string (h5py reads them as `bytes`).
 */
function typed(name: string, value: AttributeValue): { type: Uint8Array; raw: Uint8Array } {
  const raw = new Uint8Array(8);
  const view = new DataView(raw.buffer);
  switch (typeof value) {
    case "boolean":
      return { type: encodeDatatype("bool"), raw: new Uint8Array([value ? 1 : 0]) };
    case "string": {
      const bytes = new TextEncoder().encode(value);
      // HDF5 has no 0-byte string type: "" is one NUL.
      const out = new Uint8Array(Math.max(1, bytes.length));
      out.set(bytes);
      return { type: encodeStringType(out.length), raw: out };
    }
    case "number":
      if (Number.isSafeInteger(value)) {
        view.setBigInt64(0, BigInt(value), true);
        return { type: encodeDatatype("int64"), raw };
      }
      view.setFloat64(0, value, true);
      return { type: encodeDatatype("float64"), raw };
    case "bigint":
      if (value >= INT64_MIN && value <= INT64_MAX) {
        view.setBigInt64(0, value, true);
        return { type: encodeDatatype("int64"), raw };
      }
      if (value > INT64_MAX && value <= UINT64_MAX) {
        view.setBigUint64(0, value, true);
        return { type: encodeDatatype("uint64"), raw };
      }
      throw new RangeError(`attribute ${JSON.stringify(name)}: ${value} does not fit 64 bits`);
  }
  throw new TypeError(
    `attribute ${JSON.stringify(name)}: unsupported value of type ${typeof value}`,
  );
}

/** The attribute message for a scalar `value` named `name` (ASCII: v1 stores no charset). */
export function attributeMessage(name: string, value: AttributeValue): HeaderMessage {
  // deno-lint-ignore no-control-regex
  if (name.length === 0 || !/^[\x01-\x7f]*$/.test(name)) {
    throw new RangeError(
      `attribute name ${JSON.stringify(name)}: expected non-empty ASCII without NUL`,
    );
  }
  const { type, raw } = typed(name, value);
  const space = encodeDataspace([]);
  const nameSize = name.length + 1;
  const pad = (n: number) => Math.ceil(n / 8) * 8;
  const w = new ByteWriter(8 + pad(nameSize) + pad(type.length) + pad(space.length) + raw.length);
  w.u8(1) // version
    .u8(0) // reserved
    .u16(nameSize) // name size incl. NUL
    .u16(type.length) // datatype size
    .u16(space.length) // dataspace size
    .raw(new TextEncoder().encode(name)).skip(pad(nameSize) - name.length)
    .raw(type).skip(pad(type.length) - type.length)
    .raw(space).skip(pad(space.length) - space.length)
    .raw(raw);
  if (w.bytes.length > 0xfff8) {
    throw new RangeError(
      `attribute ${JSON.stringify(name)} is ${w.bytes.length} bytes (max 65528)`,
    );
  }
  return { type: MessageType.ATTRIBUTE, flags: 0, data: w.bytes };
}

/** The name stored in an attribute message of version 1, 2 or 3 (undefined otherwise). */
export function attributeMessageName(data: Uint8Array): string | undefined {
  const version = data[0];
  const size = data[2] | (data[3] << 8);
  const at = version === 3 ? 9 : 8;
  if (version < 1 || version > 3 || size < 1 || at + size > data.length) return undefined;
  return new TextDecoder().decode(data.subarray(at, at + size - 1));
}
