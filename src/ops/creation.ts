/** Creating tensors: from data, constants, ranges and seeded random draws. */
import { findBackend, fromValues, getBackend, run1 } from '../registry/engine.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { allocArray, isDType } from '../tensor/dtype.js';
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

/** Values generated per chunk by `fromChunks`: 512 KB of float64 scratch, whatever the tensor's size. */
export const GENERATE_CHUNK = 1 << 16;

/**
 * A tensor of `shape` whose values `gen` produces in row-major order, GENERATE_CHUNK at a
 * time: `gen(chunk, offset)` fills all of `chunk` (the last one is shorter) with the values
 * of elements offset, offset + 1, ... Each value is converted to `dtype` as typed-array
 * assignment does, so the result equals building the whole float64 array and converting it.
 * The storage is allocated first and written chunk by chunk (Backend.writeRange), so a big
 * tensor costs its storage and one chunk, not a float64 copy and a converted one on the JS
 * heap as well. A backend without writeRange gets one array of the final dtype, copied in.
 */
export function fromChunks(shape: readonly number[], dtype: DType, gen: (chunk: Float64Array, offset: number) => void): Tensor {
  const n = sizeOf(shape);
  const scratch = new Float64Array(Math.min(n, GENERATE_CHUNK));
  const each = (write: (chunk: Float64Array, offset: number) => void) => {
    for (let off = 0; off < n; off += scratch.length) {
      const chunk = n - off < scratch.length ? scratch.subarray(0, n - off) : scratch;
      gen(chunk, off);
      write(chunk, off);
    }
  };
  let be = getBackend();
  if (!be.supportsDtype(dtype)) be = findBackend('ts');
  if (be.writeRange) {
    const t = run1('Fill', [], { shape: [...shape], dtype, value: 0 });
    const tb = t.backend;
    if (tb.writeRange) {
      each((chunk, off) => tb.writeRange!(t.dataId, dtype, off, chunk));
      return t;
    }
    t.dispose();
  }
  const arr = allocArray(dtype, n);
  each((chunk, off) => arr.set(chunk, off));
  return fromValues(arr, shape, dtype);
}

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
  return fromChunks([n], dtype, (chunk, off) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = start + (off + i) * step;
  });
}

interface RandomOpts {
  seed?: number | Rng;
  dtype?: DType;
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
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const dtype = randomArgs('randomNormal', shape, opts, ['mean', mean], ['std', std]);
  const rng = rngOf(opts.seed);
  return fromChunks(shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.normal(mean, std);
  });
}

/** Normal draws redrawn until within two standard deviations (Keras' truncated normal). */
export function truncatedNormal(shape: readonly number[], opts: { mean?: number; std?: number } & RandomOpts = {}): Tensor {
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const dtype = randomArgs('truncatedNormal', shape, opts, ['mean', mean], ['std', std]);
  const rng = rngOf(opts.seed);
  return fromChunks(shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      let z: number;
      do z = rng.normal(); while (Math.abs(z) > 2);
      chunk[i] = mean + std * z;
    }
  });
}

/** Uniform draws on [min, max), seeded. */
export function randomUniform(shape: readonly number[], opts: { min?: number; max?: number } & RandomOpts = {}): Tensor {
  const min = opts.min ?? 0, max = opts.max ?? 1;
  const dtype = randomArgs('randomUniform', shape, opts, ['min', min], ['max', max]);
  const rng = rngOf(opts.seed);
  return fromChunks(shape, dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.uniform(min, max);
  });
}
