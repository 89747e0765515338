/**
 * Elementwise kernels on `ts`: unary maps, broadcasting binary maps, comparisons,
 * select, cast and fill. Each is a scalar function applied in a plain loop.
 */
import { registerKernel } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { allocArray, type DType } from '../../../tensor/dtype.js';
import { broadcastShapes, sizeOf, stridesOf } from '../../../tensor/shape.js';
import { out, vals } from '../backend.js';

type Attrs = Record<string, unknown>;

/** Register a unary kernel y[i] = f(x[i], attrs); the output keeps x's dtype. */
export function unaryKernel(name: string, f: (x: number, attrs: Attrs) => number): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([x], attrs, be) => {
      const xv = vals(x);
      const y = allocArray(x.dtype, xv.length, x.shape);
      for (let i = 0; i < xv.length; i++) y[i] = f(xv[i], attrs);
      return out(be, y, x.shape, x.dtype);
    },
  });
}

/**
 * For output index i of a broadcast, the flat index into each input. Computed once
 * per call; a plain loop keeps the oracle obviously right.
 */
export function broadcastIndex(aShape: readonly number[], bShape: readonly number[]): { shape: number[]; ia: Int32Array; ib: Int32Array } {
  const shape = broadcastShapes(aShape, bShape);
  const n = sizeOf(shape);
  const rank = shape.length;
  const pad = (s: readonly number[]) => [...Array(rank - s.length).fill(1), ...s];
  const as = pad(aShape), bs = pad(bShape);
  const sa = stridesOf(as).map((st, i) => (as[i] === 1 ? 0 : st));
  const sb = stridesOf(bs).map((st, i) => (bs[i] === 1 ? 0 : st));
  const ia = new Int32Array(n), ib = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let oa = 0, ob = 0;
    for (let d = 0; d < rank; d++) {
      oa += idx[d] * sa[d];
      ob += idx[d] * sb[d];
    }
    ia[i] = oa;
    ib[i] = ob;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape, ia, ib };
}

/** Register a broadcasting binary kernel y = f(a, b); output dtype = a's (or `outDtype`). */
export function binaryKernel(name: string, f: (a: number, b: number) => number, outDtype?: DType): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([a, b], _attrs, be) => {
      const av = vals(a), bv = vals(b);
      const dtype = outDtype ?? a.dtype;
      if (av.length === bv.length && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
        const y = allocArray(dtype, av.length, a.shape);
        for (let i = 0; i < av.length; i++) y[i] = f(av[i], bv[i]);
        return out(be, y, a.shape, dtype);
      }
      // The output first: an impossible size is reported as the output's, not the index arrays'.
      const outShape = broadcastShapes(a.shape, b.shape);
      const y = allocArray(dtype, sizeOf(outShape), outShape);
      const { shape, ia, ib } = broadcastIndex(a.shape, b.shape);
      for (let i = 0; i < ia.length; i++) y[i] = f(av[ia[i]], bv[ib[i]]);
      return out(be, y, shape, dtype);
    },
  });
}

// Arithmetic. Div of int32 truncates like C, so integer tensors stay integers.
binaryKernel('Add', (a, b) => a + b);
binaryKernel('Sub', (a, b) => a - b);
binaryKernel('Mul', (a, b) => a * b);
binaryKernel('Div', (a, b) => a / b);
binaryKernel('Pow', (a, b) => Math.pow(a, b));
// NaN propagates through maximum/minimum (Math.max does), as in PyTorch.
binaryKernel('Maximum', (a, b) => Math.max(a, b));
binaryKernel('Minimum', (a, b) => Math.min(a, b));
// Comparisons give 1 or 0 in the first input's dtype (usable as masks).
binaryKernel('Greater', (a, b) => (a > b ? 1 : 0));
binaryKernel('GreaterEqual', (a, b) => (a >= b ? 1 : 0));
binaryKernel('Less', (a, b) => (a < b ? 1 : 0));
binaryKernel('LessEqual', (a, b) => (a <= b ? 1 : 0));
binaryKernel('Equal', (a, b) => (a === b ? 1 : 0));

unaryKernel('Neg', (x) => -x);
unaryKernel('Abs', (x) => Math.abs(x));
unaryKernel('Exp', (x) => Math.exp(x));
unaryKernel('Log', (x) => Math.log(x));
unaryKernel('Sqrt', (x) => Math.sqrt(x));
unaryKernel('Square', (x) => x * x);
unaryKernel('Reciprocal', (x) => 1 / x);
// sign(NaN) = NaN, sign(0) = 0.
unaryKernel('Sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : x));
unaryKernel('Sin', (x) => Math.sin(x));
unaryKernel('Cos', (x) => Math.cos(x));
unaryKernel('Floor', (x) => Math.floor(x));
unaryKernel('Round', (x) => Math.round(x));
unaryKernel('IsNaN', (x) => (Number.isNaN(x) ? 1 : 0));
unaryKernel('Clip', (x, a) => (Number.isNaN(x) ? x : Math.min(Math.max(x, a.min as number), a.max as number)));
/** y = x * scale + offset, used for scalar affine maps without materialising scalars. */
unaryKernel('Affine', (x, a) => x * (a.scale as number) + (a.offset as number));

/** select(cond, a, b): a where cond != 0, else b; all three broadcast. */
registerKernel({
  kernelName: 'Where',
  backendName: 'ts',
  kernelFunc: ([c, a, b], _attrs, be) => {
    const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
    const [cv, av, bv] = [c, a, b].map(vals);
    const n = sizeOf(shape);
    const y = allocArray(a.dtype, n, shape);
    const ic = broadcastIndex(c.shape, shape).ia, ia = broadcastIndex(a.shape, shape).ia, ib = broadcastIndex(b.shape, shape).ia;
    for (let i = 0; i < n; i++) y[i] = cv[ic[i]] !== 0 ? av[ia[i]] : bv[ib[i]];
    return out(be, y, shape, a.dtype);
  },
});

registerKernel({
  kernelName: 'Cast',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const dtype = attrs.dtype as DType;
    const xv = vals(x);
    const y = allocArray(dtype, xv.length, x.shape);
    for (let i = 0; i < xv.length; i++) y[i] = dtype === 'int32' ? Math.trunc(xv[i]) : xv[i];
    return out(be, y, x.shape, dtype);
  },
});

registerKernel({
  kernelName: 'Fill',
  backendName: 'ts',
  kernelFunc: (_in: TensorInfo[], attrs, be) => {
    const shape = attrs.shape as number[];
    const dtype = attrs.dtype as DType;
    const y = allocArray(dtype, sizeOf(shape), shape);
    y.fill(attrs.value as number);
    return out(be, y, shape, dtype);
  },
});
