/** Element types a tensor can hold. float32 is the default everywhere. */
export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function isDType(d: unknown): d is DType {
  return d === 'float32' || d === 'float64' || d === 'int32';
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/**
 * A storage that could not be allocated: too many elements for a typed array, or more
 * bytes than the JS engine will give. Says what was asked for (the ts backend adds the
 * kernel that asked, src/backends/ts/index.ts), instead of the engine's bare "Invalid typed
 * array length".
 */
export class OutOfMemoryError extends RangeError {
  readonly bytes: number;
  constructor(readonly dtype: DType, readonly elements: number, readonly shape?: readonly number[], cause?: unknown) {
    const bytes = elements * BYTES_PER_ELEMENT[dtype];
    const what = shape ? `a ${dtype} tensor of shape [${shape.join(', ')}]` : `${elements} ${dtype} values`;
    const size = bytes >= 2 ** 30 ? ` = ${(bytes / 2 ** 30).toFixed(1)} GiB` : bytes >= 2 ** 20 ? ` = ${(bytes / 2 ** 20).toFixed(1)} MiB` : '';
    const why = cause instanceof Error ? ` (${cause.message})` : '';
    super(`out of memory: cannot allocate ${what}: ${elements} elements, ${bytes} bytes${size}${why}`);
    this.name = 'OutOfMemoryError';
    this.bytes = bytes;
  }
}

/** True for the JS engine's own allocation failures (typed arrays, array buffers). */
export function isEngineAllocationError(e: unknown): e is RangeError {
  return e instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|Invalid array buffer length|Invalid array length/.test(e.message);
}

/** Allocate a zero-filled typed array for `dtype` (`shape`, when given, names it in an out-of-memory error). */
export function allocArray(dtype: DType, size: number, shape?: readonly number[]): TypedArray {
  try {
    switch (dtype) {
      case 'float32': return new Float32Array(size);
      case 'float64': return new Float64Array(size);
      case 'int32': return new Int32Array(size);
    }
  } catch (e) {
    if (isEngineAllocationError(e)) throw new OutOfMemoryError(dtype, size, shape, e);
    throw e;
  }
  throw new TypeError(`unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
}

/** Copy `values` into a new typed array of `dtype` (int32 truncates toward zero like Int32Array). */
export function toTypedArray(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
