/**
 * Element types a tensor may have, with their byte sizes and typed-array views.
 *
 * `float16` data is held in a `Float16Array`; `bool` in a `Uint8Array` of 0/1 (as numpy and
 * h5py store it); 64-bit integers in `BigInt64Array`/`BigUint64Array`.
 *
 * @module
 */

/** Everything we know about one element type. */
export interface DTypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /** `float`, `int` (signed), `uint` (unsigned) or `bool`. */
  readonly kind: "float" | "int" | "uint" | "bool";
}

/** The supported element types. */
export const DTYPES = {
  float16: { size: 2, kind: "float" },
  float32: { size: 4, kind: "float" },
  float64: { size: 8, kind: "float" },
  int8: { size: 1, kind: "int" },
  int16: { size: 2, kind: "int" },
  int32: { size: 4, kind: "int" },
  int64: { size: 8, kind: "int" },
  uint8: { size: 1, kind: "uint" },
  uint16: { size: 2, kind: "uint" },
  uint32: { size: 4, kind: "uint" },
  uint64: { size: 8, kind: "uint" },
  bool: { size: 1, kind: "bool" },
} as const satisfies Record<string, DTypeInfo>;

/** Name of a supported element type. */
export type DType = keyof typeof DTYPES;

/** The typed array that holds each dtype. */
export interface TypedArrayFor {
  float16: Float16Array;
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** Any typed array a tensor may hold. */
export type TypedArray = TypedArrayFor[DType];

type Ctor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
};

const CTORS: Record<DType, Ctor> = {
  float16: Float16Array,
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** True when `name` is a supported dtype. */
export function isDType(name: string): name is DType {
  return Object.hasOwn(DTYPES, name);
}

/** True for float16, float32 and float64. */
export function isFloat(dtype: DType): boolean {
  return DTYPES[dtype].kind === "float";
}

/** Allocates a zeroed typed array of `length` elements of `dtype`. */
export function allocate<D extends DType>(dtype: D, length: number): TypedArrayFor[D] {
  return new CTORS[dtype](length) as TypedArrayFor[D];
}

/**
 * Views `bytes` (little-endian element data) as a typed array of `dtype`. Copies only when
 * `bytes` is not aligned to the element size, into `alloc(size)` when given.
 */
export function viewAs<D extends DType>(
  dtype: D,
  bytes: Uint8Array,
  alloc?: (size: number) => Uint8Array,
): TypedArrayFor[D] {
  const size = DTYPES[dtype].size;
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(
      `${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each)`,
    );
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : copyOf(bytes, alloc);
  return new CTORS[dtype](
    aligned.buffer,
    aligned.byteOffset,
    aligned.byteLength / size,
  ) as TypedArrayFor[D];
}

/** A copy of `bytes`, in `alloc`'s memory when given (aligned: it starts a buffer). */
function copyOf(bytes: Uint8Array, alloc?: (size: number) => Uint8Array): Uint8Array {
  if (!alloc) return bytes.slice();
  const out = alloc(bytes.length);
  out.set(bytes);
  return out;
}

/** The bytes behind a typed array (a view, not a copy). */
export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Number of elements in an array of `shape` (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
