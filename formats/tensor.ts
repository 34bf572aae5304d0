/**
 * A tensor: an n-dimensional array in C (row-major) order.
 *
 * @module
 */
import { type DType, DTYPES, elementCount, type TypedArray } from "./dtype.ts";

/** An n-dimensional array, row-major, little-endian in memory. */
export interface Tensor {
  /** Element type. */
  dtype: DType;
  /** Extent of each axis, slowest first; `[]` for a scalar. */
  shape: number[];
  /** The elements, `elementCount(shape)` of them, of the typed array that fits `dtype`. */
  data: TypedArray;
}

/**
 * Checks that a tensor is consistent (known dtype, whole non-negative dims, element count and
 * array type matching) and returns it. `what` names the tensor in the error.
 */
export function checkTensor(tensor: Tensor, what: string): Tensor {
  if (!Object.hasOwn(DTYPES, tensor.dtype)) {
    throw new TypeError(`${what}: unsupported dtype ${JSON.stringify(tensor.dtype)}`);
  }
  for (const d of tensor.shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${what}: bad shape ${JSON.stringify(tensor.shape)}`);
    }
  }
  const n = elementCount(tensor.shape);
  if (tensor.data.length !== n) {
    throw new RangeError(
      `${what}: shape ${
        JSON.stringify(tensor.shape)
      } needs ${n} elements, data has ${tensor.data.length}`,
    );
  }
  if (tensor.data.BYTES_PER_ELEMENT !== DTYPES[tensor.dtype].size) {
    throw new TypeError(
      `${what}: dtype ${tensor.dtype} does not match its ${tensor.data.constructor.name}`,
    );
  }
  return tensor;
}
