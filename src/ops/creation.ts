/** Creating tensors: from data, constants, ranges and seeded random draws. */
import { fromValues } from '../registry/storage.js';
import { Fill } from '../kernels/elementwise.js';
import { outputOf } from '../registry/dispatch.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { isDType } from '../tensor/dtype.js';
import { assertValidShape, fmtShape, sizeOf } from '../tensor/shape.js';
import type { NestedArray } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/describe.js';
import { fromChunks, namingOutOfMemory } from './generate.js';
import { Rng, rngOf } from './random.js';
import { assertTensor } from './arg_checks.js';

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

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Where flat element `i` sits in a nested input of `shape`: "values[1][2]". */
function position(i: number, shape: readonly number[] | null): string {
  if (!shape || shape.length <= 1) return `values[${i}]`;
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `values${idx.map((k) => `[${k}]`).join('')}`;
}

/**
 * An int32 tensor made from JS numbers holds them exactly or not at all: a fraction, NaN,
 * +-Infinity or a number outside the int32 range is an error naming the value and its
 * position (rather than the typed array's silent truncation or wrap-around), consistent
 * with "a fractional number next to an int32 tensor is an error". Converting float data
 * on purpose is what `cast` is for (it truncates toward zero).
 */
function checkInt32Values(op: string, values: ArrayLike<number>, nestedShape: readonly number[] | null): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) continue;
    const where = position(i, nestedShape);
    if (!Number.isInteger(v)) {
      throw new TypeError(
        `${op}: ${where} = ${v} is not an integer, but the dtype is int32; round it first (Math.round or Math.trunc), ` +
          "or make a float tensor and convert it with ck.cast(t, 'int32') (which truncates toward zero)",
      );
    }
    throw new RangeError(`${op}: ${where} = ${v} is outside the int32 range [${INT32_MIN}, ${INT32_MAX}]`);
  }
}

/** Typed arrays a tensor stores as they are; any other integer array becomes int32. */
function isStorageArray(a: ArrayBufferView): a is TypedArray {
  return a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array;
}

/**
 * A tensor from nested arrays, a flat array or a typed array. With a flat input,
 * `shape` gives the dimensions. dtype defaults to the typed array's (int32 for the other
 * integer arrays: Uint8Array, Int16Array, ...), else float32. An int32 tensor made from
 * numbers that are not int32 values (1.5, NaN, 3e9) is an error; see checkInt32Values.
 */
export function tensor(values: NestedArray | TypedArray | number[], shape?: readonly number[], dtype?: DType): Tensor {
  if (dtype !== undefined && !isDType(dtype)) throw new TypeError(`tensor: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  if (ArrayBuffer.isView(values)) {
    const view = values as ArrayBufferView;
    if (view instanceof DataView || view instanceof BigInt64Array || view instanceof BigUint64Array) {
      throw new TypeError(`tensor: values must be a number array or a Float32Array, Float64Array or integer typed array, received a ${view.constructor.name}`);
    }
    const arr = view as unknown as ArrayLike<number> & ArrayBufferView;
    const s = shape ?? [arr.length];
    assertValidShape(s, 'tensor: shape');
    if (sizeOf(s) !== arr.length) throw new RangeError(`tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, received ${arr.length}`);
    const dt: DType = dtype ?? (arr instanceof Float32Array ? 'float32' : arr instanceof Float64Array ? 'float64' : 'int32');
    // Int8/16 and Uint8/16 values are always int32 values; float and Uint32 data is checked.
    const exact = arr instanceof Int32Array || arr instanceof Int8Array || arr instanceof Uint8Array || arr instanceof Uint8ClampedArray || arr instanceof Int16Array || arr instanceof Uint16Array;
    if (dt === 'int32' && !exact) checkInt32Values('tensor', arr, null);
    return fromValues(isStorageArray(arr) ? arr : Array.from(arr), s, dt);
  }
  if (typeof values === 'number') return scalar(values, dtype);
  if (!Array.isArray(values)) throw new TypeError(`tensor: values must be a number, a (nested) array of numbers or a typed array, received ${describeValue(values)}`);
  const inferred = inferShape(values as NestedArray);
  const flat: number[] = [];
  flatten(values as NestedArray, inferred, 0, flat);
  const s = shape ?? inferred;
  assertValidShape(s, 'tensor: shape');
  if (sizeOf(s) !== flat.length) throw new RangeError(`tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, received ${flat.length}`);
  if (dtype === 'int32') checkInt32Values('tensor', flat, inferred);
  return fromValues(flat, s, dtype ?? 'float32');
}

/** A scalar (shape []). */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  if (!isDType(dtype)) throw new TypeError(`scalar: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  if (typeof value !== 'number') throw new TypeError(`scalar: value must be a number, received ${describeValue(value)}`);
  if (dtype === 'int32') checkInt32Values('scalar', [value], null);
  return fromValues([value], [], dtype);
}

/** A tensor of `shape` filled with `value` (which must be an int32 value when dtype is int32). */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32', op = 'full'): Tensor {
  assertValidShape(shape, `${op}: shape`);
  if (!isDType(dtype)) throw new TypeError(`${op}: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  if (typeof value !== 'number') throw new TypeError(`${op}: value must be a number, received ${describeValue(value)}`);
  if (dtype === 'int32' && !(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)) {
    throw new RangeError(`${op}: value ${value} is not an int32 value, but the dtype is int32; round it first or use a float dtype`);
  }
  return namingOutOfMemory(op, () => outputOf(Fill, [], { shape: [...shape], dtype, value }));
}
export const zeros = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 0, dtype, 'zeros');
export const ones = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 1, dtype, 'ones');
function like(op: string, t: Tensor, v: number): Tensor {
  assertTensor(op, 't', t);
  return full(t.shape, v, t.dtype, op);
}
export const zerosLike = (t: Tensor) => like('zerosLike', t, 0);
export const onesLike = (t: Tensor) => like('onesLike', t, 1);
export const fullLike = (t: Tensor, v: number) => like('fullLike', t, v);

function finiteArg(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}: ${arg} must be a finite number, received ${String(v)}`);
  return v;
}

/** [start, start+step, ...) up to but excluding stop. */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  finiteArg('arange', 'start', start);
  finiteArg('arange', 'stop', stop);
  finiteArg('arange', 'step', step);
  if (step === 0) throw new RangeError('arange: step must not be 0');
  if (!isDType(dtype)) throw new TypeError(`arange: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return fromChunks('arange', [n], dtype, (chunk, off) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = start + (off + i) * step;
  });
}

interface RandomOpts {
  seed?: number | Rng;
  dtype?: DType;
}

/**
 * The options argument of a random op must be an object: TF.js's positional form
 * (`tf.randomUniform(shape, 0, 255)`) would otherwise be read as no options at all, giving
 * unseeded draws in [0, 1) without a word.
 */
function assertRandomOpts(op: string, opts: unknown, keys: [string, string]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(
      `${op}: the second argument is an options object { ${keys[0]}, ${keys[1]}, seed, dtype }, received ${JSON.stringify(opts)} ` +
        `(TF.js's positional form ${op}(shape, a, b) is written ${op}(shape, { ${keys[0]}: a, ${keys[1]}: b }) here)`,
    );
  }
  // an unknown key (TF.js's minval, maxval, stddev) would be ignored: the default drawn instead
  const known = [...keys, 'seed', 'dtype'];
  const tfjs: Record<string, string> = { minval: 'min', maxval: 'max', stddev: 'std', stdDev: 'std' };
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const hint = tfjs[key] && known.includes(tfjs[key]) ? ` (did you mean '${tfjs[key]}'?)` : '';
    throw new RangeError(`${op}: unknown option '${key}'${hint}; known options: ${known.join(', ')}`);
  }
}

function randomArgs(op: string, shape: readonly number[], opts: RandomOpts, a: [string, number], b: [string, number]): DType {
  assertValidShape(shape, `${op}: shape`);
  finiteArg(op, a[0], a[1]);
  finiteArg(op, b[0], b[1]);
  const dtype = opts.dtype ?? 'float32';
  if (!isDType(dtype)) throw new TypeError(`${op}: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  return dtype;
}

/** Normal draws with the given mean and standard deviation, seeded. */
export function randomNormal(shape: readonly number[], opts: { mean?: number; std?: number } & RandomOpts = {}): Tensor {
  assertRandomOpts('randomNormal', opts, ['mean', 'std']);
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const dtype = randomArgs('randomNormal', shape, opts, ['mean', mean], ['std', std]);
  const rng = rngOf(opts.seed);
  return fromChunks('randomNormal', shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.normal(mean, std);
  });
}

/** Normal draws redrawn until within two standard deviations (Keras' truncated normal). */
export function truncatedNormal(shape: readonly number[], opts: { mean?: number; std?: number } & RandomOpts = {}): Tensor {
  assertRandomOpts('truncatedNormal', opts, ['mean', 'std']);
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const dtype = randomArgs('truncatedNormal', shape, opts, ['mean', mean], ['std', std]);
  const rng = rngOf(opts.seed);
  return fromChunks('truncatedNormal', shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      let z: number;
      do z = rng.normal(); while (Math.abs(z) > 2);
      chunk[i] = mean + std * z;
    }
  });
}

/** Uniform draws on [min, max), seeded. */
export function randomUniform(shape: readonly number[], opts: { min?: number; max?: number } & RandomOpts = {}): Tensor {
  assertRandomOpts('randomUniform', opts, ['min', 'max']);
  const min = opts.min ?? 0, max = opts.max ?? 1;
  const dtype = randomArgs('randomUniform', shape, opts, ['min', min], ['max', max]);
  const rng = rngOf(opts.seed);
  return fromChunks('randomUniform', shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.uniform(min, max);
  });
}
