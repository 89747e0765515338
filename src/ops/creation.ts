/** Creating tensors: from data, constants, ranges and seeded random draws. */
import { fromValues, run1 } from '../registry/engine.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { isDType } from '../tensor/dtype.js';
import { assertValidShape, fmtShape, sizeOf } from '../tensor/shape.js';
import type { NestedArray } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng, rngOf } from './random.js';

function inferShape(v: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(v: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof v !== 'number') throw new TypeError(`tensor: expected a number at depth ${depth}, received ${JSON.stringify(v)}`);
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new RangeError(`tensor: ragged nested array: expected ${shape[depth]} elements at depth ${depth} (shape ${fmtShape(shape)})`);
  }
  for (const x of v) flatten(x, shape, depth + 1, out);
}

/**
 * A tensor from nested arrays, a flat array or a typed array. With a flat input,
 * `shape` gives the dimensions. dtype defaults to the typed array's, else float32.
 */
export function tensor(values: NestedArray | TypedArray | number[], shape?: readonly number[], dtype?: DType): Tensor {
  if (dtype !== undefined && !isDType(dtype)) throw new TypeError(`tensor: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  if (ArrayBuffer.isView(values)) {
    const s = shape ?? [values.length];
    assertValidShape(s);
    if (sizeOf(s) !== values.length) throw new RangeError(`tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, received ${values.length}`);
    return fromValues(values, s, dtype);
  }
  const inferred = inferShape(values as NestedArray);
  const flat: number[] = [];
  flatten(values as NestedArray, inferred, 0, flat);
  const s = shape ?? inferred;
  assertValidShape(s);
  if (sizeOf(s) !== flat.length) throw new RangeError(`tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, received ${flat.length}`);
  return fromValues(flat, s, dtype ?? 'float32');
}

/** A scalar (shape []). */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return fromValues([value], [], dtype);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  assertValidShape(shape);
  return run1('Fill', [], { shape: [...shape], dtype, value });
}
export const zeros = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 0, dtype);
export const ones = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 1, dtype);
export const zerosLike = (t: Tensor) => full(t.shape, 0, t.dtype);
export const onesLike = (t: Tensor) => full(t.shape, 1, t.dtype);
export const fullLike = (t: Tensor, v: number) => full(t.shape, v, t.dtype);

/** [start, start+step, ...) up to but excluding stop. */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const v: number[] = [];
  for (let i = 0; i < n; i++) v.push(start + i * step);
  return fromValues(v, [n], dtype);
}

/** Normal draws with the given mean and standard deviation, seeded. */
export function randomNormal(shape: readonly number[], opts: { mean?: number; std?: number; seed?: number | Rng; dtype?: DType } = {}): Tensor {
  assertValidShape(shape);
  const rng = rngOf(opts.seed);
  const n = sizeOf(shape);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal(opts.mean ?? 0, opts.std ?? 1);
  return fromValues(v, shape, opts.dtype ?? 'float32');
}

/** Normal draws redrawn until within two standard deviations (Keras' truncated normal). */
export function truncatedNormal(shape: readonly number[], opts: { mean?: number; std?: number; seed?: number | Rng; dtype?: DType } = {}): Tensor {
  assertValidShape(shape);
  const rng = rngOf(opts.seed);
  const n = sizeOf(shape);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z: number;
    do z = rng.normal(); while (Math.abs(z) > 2);
    v[i] = (opts.mean ?? 0) + (opts.std ?? 1) * z;
  }
  return fromValues(v, shape, opts.dtype ?? 'float32');
}

/** Uniform draws on [min, max), seeded. */
export function randomUniform(shape: readonly number[], opts: { min?: number; max?: number; seed?: number | Rng; dtype?: DType } = {}): Tensor {
  assertValidShape(shape);
  const rng = rngOf(opts.seed);
  const n = sizeOf(shape);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform(opts.min ?? 0, opts.max ?? 1);
  return fromValues(v, shape, opts.dtype ?? 'float32');
}
