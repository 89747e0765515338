/**
 * Reductions: Sum, Prod, Max, Min over a set of axes, ArgMax and ArgMin over one axis.
 *
 *   Sum     y[o] = sum of x[i] over the i that map onto o (the reduced axes dropped)
 *   Prod    y[o] = product of those x[i]
 *   Max/Min y[o] = their largest / smallest; NaN wins (NaN in, NaN out)
 *   ArgMax/ArgMin  y[o] = the index along `axis` of the extreme value, as int32: the first
 *           index wins ties, and the first NaN wins over every number
 *
 * Over an empty axis Sum gives 0, Prod 1, Max -Infinity and Min +Infinity (the ops refuse
 * max, min, argMax and argMin of nothing, src/ops/reduce.ts, and write the gradients).
 * The axes in attrs are normalised (0 <= axis < rank, none twice); `reduction` is the one
 * place that reads them into sorted axes and the output shape, for every backend.
 */
import type { TensorInfo } from '../tensor/backend.js';
import { allocArray } from '../tensor/dtype.js';
import { fmtShape, reducedShape, sizeOf, stridesOf } from '../tensor/shape.js';
import { defineKernel, type Kernel } from './kernel.js';

export interface ReduceAttrs {
  /** Axes to reduce, each in [0, rank), none repeated (any order). */
  axes: readonly number[];
  /** Keep the reduced axes as size-1 axes. */
  keepDims: boolean;
}

export interface ArgReduceAttrs {
  /** The axis searched, in [0, rank). */
  axis: number;
  keepDims: boolean;
}

/** The reduced axes in increasing order, and the output shape. */
export function reduction(shape: readonly number[], attrs: ReduceAttrs | ArgReduceAttrs): { axes: number[]; outShape: number[] } {
  const axes = 'axes' in attrs ? [...attrs.axes].sort((a, b) => a - b) : [attrs.axis];
  return { axes, outShape: reducedShape(shape, axes, !!attrs.keepDims) };
}

/** Throws a RangeError unless every axis is an integer in [0, rank) and none repeats. */
function checkAxes(kernel: string, x: TensorInfo, axes: readonly number[]): void {
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length) {
      throw new RangeError(`${kernel}: axis ${a} is out of range for x of shape ${fmtShape(x.shape)} (attrs hold normalised axes, 0 <= axis < ${x.shape.length})`);
    }
  }
  if (new Set(axes).size !== axes.length) throw new RangeError(`${kernel}: repeated axis in [${axes.join(', ')}]`);
}

/** For each input flat index, the flat index of the output element it reduces into. */
export function reductionMap(shape: readonly number[], axes: readonly number[]): { outShape: number[]; map: Int32Array } {
  const outShape = reducedShape(shape, axes, true);
  const outStrides = stridesOf(outShape);
  const n = sizeOf(shape);
  const map = new Int32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) o += idx[d] * outStrides[d];
    map[i] = o;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { outShape, map };
}

/** A reduction folding with `fold` from `init`; the accumulator is float64 (the oracle does not drift). */
function reduceKernel(name: string, init: number, fold: (acc: number, x: number) => number): Kernel<ReduceAttrs> {
  return defineKernel<ReduceAttrs>({
    name,
    inputs: ['x'],
    check([x], attrs) {
      checkAxes(name, x, attrs.axes);
    },
    reference([x], attrs) {
      const { axes, outShape } = reduction(x.shape, attrs);
      const { map } = reductionMap(x.shape, axes);
      const xv = x.values;
      const acc = new Float64Array(sizeOf(outShape)).fill(init);
      for (let i = 0; i < xv.length; i++) acc[map[i]] = fold(acc[map[i]], xv[i]);
      const y = allocArray(x.dtype, acc.length);
      y.set(acc);
      return { values: y, shape: outShape, dtype: x.dtype };
    },
  });
}

// Sums accumulate in float64 even for float32 tensors: the oracle should not drift.
export const Sum = reduceKernel('Sum', 0, (a, x) => a + x);
export const Prod = reduceKernel('Prod', 1, (a, x) => a * x);
// NaN wins max and min (NaN in, NaN out).
export const Max = reduceKernel('Max', -Infinity, (a, x) => (Number.isNaN(a) ? a : Number.isNaN(x) || x > a ? x : a));
export const Min = reduceKernel('Min', Infinity, (a, x) => (Number.isNaN(a) ? a : Number.isNaN(x) || x < a ? x : a));

function argKernel(name: string, better: (x: number, best: number) => boolean): Kernel<ArgReduceAttrs> {
  return defineKernel<ArgReduceAttrs>({
    name,
    inputs: ['x'],
    check([x], attrs) {
      checkAxes(name, x, [attrs.axis]);
    },
    reference([x], attrs) {
      const { axes: [axis], outShape } = reduction(x.shape, attrs);
      const { map } = reductionMap(x.shape, [axis]);
      const xv = x.values;
      const best = new Float64Array(sizeOf(outShape)).fill(NaN);
      const arg = new Int32Array(best.length).fill(-1);
      const stride = stridesOf(x.shape)[axis];
      for (let i = 0; i < xv.length; i++) {
        const o = map[i];
        // The first index wins ties; a NaN, once found, is kept.
        if (arg[o] === -1 || (!Number.isNaN(best[o]) && (Number.isNaN(xv[i]) || better(xv[i], best[o])))) {
          best[o] = xv[i];
          arg[o] = Math.floor(i / stride) % x.shape[axis];
        }
      }
      return { values: arg, shape: outShape, dtype: 'int32' };
    },
  });
}
export const ArgMax = argKernel('ArgMax', (x, b) => x > b);
export const ArgMin = argKernel('ArgMin', (x, b) => x < b);
