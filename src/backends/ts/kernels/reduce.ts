/**
 * Reductions on `ts`: sum, prod, max, min over a set of axes, and argmax/argmin over
 * one axis. Each output element folds the input elements that map onto it.
 */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { reducedShape, sizeOf, stridesOf } from '../../../tensor/shape.js';
import { out, vals } from '../backend.js';

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

function reduceKernel(name: string, init: number, fold: (acc: number, x: number) => number): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([x], attrs, be) => {
      const axes = attrs.axes as number[];
      const keepDims = attrs.keepDims as boolean;
      const { outShape, map } = reductionMap(x.shape, axes);
      const xv = vals(x);
      const acc = new Float64Array(sizeOf(outShape)).fill(init);
      for (let i = 0; i < xv.length; i++) acc[map[i]] = fold(acc[map[i]], xv[i]);
      const y = allocArray(x.dtype, acc.length);
      y.set(acc);
      return out(be, y, reducedShape(x.shape, axes, keepDims), x.dtype);
    },
  });
}

// Sums accumulate in float64 even for float32 tensors: the oracle should not drift.
reduceKernel('Sum', 0, (a, x) => a + x);
reduceKernel('Prod', 1, (a, x) => a * x);
// NaN wins max and min (NaN in, NaN out).
reduceKernel('Max', -Infinity, (a, x) => (Number.isNaN(a) ? a : Number.isNaN(x) || x > a ? x : a));
reduceKernel('Min', Infinity, (a, x) => (Number.isNaN(a) ? a : Number.isNaN(x) || x < a ? x : a));

function argKernel(name: string, better: (x: number, best: number) => boolean): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([x], attrs, be) => {
      const axis = attrs.axis as number;
      const { outShape, map } = reductionMap(x.shape, [axis]);
      const xv = vals(x);
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
      return out(be, arg, reducedShape(x.shape, [axis], attrs.keepDims as boolean), 'int32');
    },
  });
}
argKernel('ArgMax', (x, b) => x > b);
argKernel('ArgMin', (x, b) => x < b);
