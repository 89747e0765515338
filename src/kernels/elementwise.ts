/**
 * Elementwise kernels: unary maps, broadcasting binary maps, comparisons, select, cast
 * and fill. Each map is a scalar function applied in a plain loop; the output keeps the
 * first input's dtype (an Int32Array store truncates, so int32 stays int32).
 *
 *   unary     y[i] = f(x[i])                       Neg, Abs, Exp, Expm1, Log1p, Erf, ..., Affine, Clip
 *   binary    y[i] = f(a[ia(i)], b[ib(i)])         Add, Sub, ..., Pow, Greater, ...
 *   Where     y[i] = c[ic(i)] != 0 ? a[ia(i)] : b[ib(i)]
 *   Cast      y[i] = x[i] in another dtype (truncated toward zero to int32)
 *   Fill      y[i] = value
 *
 * ia(i), ib(i), ic(i) read output index i through NumPy broadcasting (kernels/broadcast.ts).
 * The gradients are written by the ops (src/ops/elementwise.ts) from these same kernels.
 */
import { allocArray, type DType } from '../tensor/dtype.js';
import { broadcastShapes, shapesEqual, sizeOf } from '../tensor/shape.js';
import { broadcastIndex } from './broadcast.js';
import { defineKernel, expectSameDtype, type Kernel } from './kernel.js';
import { erf as erfScalar } from './special.js';

export interface AffineAttrs {
  scale: number;
  offset: number;
}
export interface ClipAttrs {
  min: number;
  max: number;
}
export interface CastAttrs {
  dtype: DType;
}
export interface FillAttrs {
  shape: readonly number[];
  dtype: DType;
  value: number;
}

/** A unary map y[i] = f(x[i], attrs) of any shape; the output keeps x's dtype. */
export function unaryKernel<A extends object = Record<string, never>>(name: string, f: (x: number, attrs: A) => number): Kernel<A> {
  return defineKernel<A>({
    name,
    inputs: ['x'],
    reference([x], attrs) {
      const xv = x.values;
      const y = allocArray(x.dtype, xv.length, x.shape);
      for (let i = 0; i < xv.length; i++) y[i] = f(xv[i], attrs);
      return { values: y, shape: x.shape, dtype: x.dtype };
    },
  });
}

/** The output shape of a broadcasting binary kernel (RangeError naming `kernel` when there is none). */
export function binaryOutShape(kernel: string, a: readonly number[], b: readonly number[]): number[] {
  return broadcastShapes(a, b, kernel);
}

/**
 * A broadcasting binary map y = f(a, b): a and b share a dtype, their shapes broadcast
 * (NumPy's rules; the kernel's check is the one place that says so), y has a's dtype.
 */
export function binaryKernel(name: string, f: (a: number, b: number) => number): Kernel {
  return defineKernel({
    name,
    inputs: ['a', 'b'],
    check([a, b]) {
      expectSameDtype(name, ['a', 'b'], [a, b]);
      binaryOutShape(name, a.shape, b.shape);
    },
    reference([a, b]) {
      const av = a.values, bv = b.values;
      if (shapesEqual(a.shape, b.shape)) {
        const y = allocArray(a.dtype, av.length, a.shape);
        for (let i = 0; i < av.length; i++) y[i] = f(av[i], bv[i]);
        return { values: y, shape: a.shape, dtype: a.dtype };
      }
      // The output first: an impossible size is reported as the output's, not the index arrays'.
      const shape = binaryOutShape(name, a.shape, b.shape);
      const y = allocArray(a.dtype, sizeOf(shape), shape);
      const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
      for (let i = 0; i < ia.length; i++) y[i] = f(av[ia[i]], bv[ib[i]]);
      return { values: y, shape, dtype: a.dtype };
    },
  });
}

// Arithmetic. Div of int32 truncates like C, so integer tensors stay integers.
export const Add = binaryKernel('Add', (a, b) => a + b);
export const Sub = binaryKernel('Sub', (a, b) => a - b);
export const Mul = binaryKernel('Mul', (a, b) => a * b);
export const Div = binaryKernel('Div', (a, b) => a / b);
export const Pow = binaryKernel('Pow', (a, b) => Math.pow(a, b));
// NaN propagates through maximum/minimum (Math.max does), as in PyTorch.
export const Maximum = binaryKernel('Maximum', (a, b) => Math.max(a, b));
export const Minimum = binaryKernel('Minimum', (a, b) => Math.min(a, b));
// Comparisons give 1 or 0 in the first input's dtype (usable as masks).
export const Greater = binaryKernel('Greater', (a, b) => (a > b ? 1 : 0));
export const GreaterEqual = binaryKernel('GreaterEqual', (a, b) => (a >= b ? 1 : 0));
export const Less = binaryKernel('Less', (a, b) => (a < b ? 1 : 0));
export const LessEqual = binaryKernel('LessEqual', (a, b) => (a <= b ? 1 : 0));
export const Equal = binaryKernel('Equal', (a, b) => (a === b ? 1 : 0));

export const Neg = unaryKernel('Neg', (x) => -x);
export const Abs = unaryKernel('Abs', (x) => Math.abs(x));
export const Exp = unaryKernel('Exp', (x) => Math.exp(x));
export const Log = unaryKernel('Log', (x) => Math.log(x));
// e^x - 1 and log(1 + x), accurate near 0 where exp(x) - 1 and log(1 + x) cancel
// (torch.expm1, torch.log1p, tf.expm1, tf.log1p). log1p(-1) = -Infinity, log1p(x < -1) = NaN.
export const Expm1 = unaryKernel('Expm1', (x) => Math.expm1(x));
export const Log1p = unaryKernel('Log1p', (x) => Math.log1p(x));
/** The error function (torch.erf, tf.math.erf; ONNX Erf): the float64 series and continued fraction of special.ts. */
export const Erf = unaryKernel('Erf', (x) => erfScalar(x));
export const Sqrt = unaryKernel('Sqrt', (x) => Math.sqrt(x));
export const Square = unaryKernel('Square', (x) => x * x);
export const Reciprocal = unaryKernel('Reciprocal', (x) => 1 / x);
// sign(NaN) = NaN, sign(0) = 0.
export const Sign = unaryKernel('Sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : x));
export const Sin = unaryKernel('Sin', (x) => Math.sin(x));
export const Cos = unaryKernel('Cos', (x) => Math.cos(x));
export const Floor = unaryKernel('Floor', (x) => Math.floor(x));
export const Round = unaryKernel('Round', (x) => Math.round(x));
export const IsNaN = unaryKernel('IsNaN', (x) => (Number.isNaN(x) ? 1 : 0));
export const Clip = unaryKernel<ClipAttrs>('Clip', (x, a) => (Number.isNaN(x) ? x : Math.min(Math.max(x, a.min), a.max)));
/** y = x * scale + offset, used for scalar affine maps without materialising scalars. */
export const Affine = unaryKernel<AffineAttrs>('Affine', (x, a) => x * a.scale + a.offset);

/** The output shape of Where: cond, a and b broadcast together. */
export function whereOutShape(c: readonly number[], a: readonly number[], b: readonly number[]): number[] {
  return broadcastShapes(broadcastShapes(c, a, 'where'), b, 'where');
}

/** select(cond, a, b): a where cond != 0, else b; all three broadcast, a and b share a dtype. */
export const Where = defineKernel({
  name: 'Where',
  inputs: ['cond', 'a', 'b'],
  check([c, a, b]) {
    expectSameDtype('Where', ['a', 'b'], [a, b]);
    whereOutShape(c.shape, a.shape, b.shape);
  },
  reference([c, a, b]) {
    const shape = whereOutShape(c.shape, a.shape, b.shape);
    const cv = c.values, av = a.values, bv = b.values;
    const n = sizeOf(shape);
    const y = allocArray(a.dtype, n, shape);
    const ic = broadcastIndex(c.shape, shape), ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
    for (let i = 0; i < n; i++) y[i] = cv[ic[i]] !== 0 ? av[ia[i]] : bv[ib[i]];
    return { values: y, shape, dtype: a.dtype };
  },
});

/** x in another dtype; to int32 truncates toward zero (the op refuses values int32 cannot hold). */
export const Cast = defineKernel<CastAttrs>({
  outputDtype: ({ dtype }) => dtype,
  name: 'Cast',
  inputs: ['x'],
  reference([x], { dtype }) {
    const xv = x.values;
    const y = allocArray(dtype, xv.length, x.shape);
    for (let i = 0; i < xv.length; i++) y[i] = dtype === 'int32' ? Math.trunc(xv[i]) : xv[i];
    return { values: y, shape: x.shape, dtype };
  },
});

/** A new tensor of `shape` and `dtype` holding `value` everywhere. */
export const Fill = defineKernel<FillAttrs>({
  outputDtype: ({ dtype }) => dtype,
  name: 'Fill',
  inputs: [],
  reference(_inputs, { shape, dtype, value }) {
    const y = allocArray(dtype, sizeOf(shape), shape);
    y.fill(value);
    return { values: y, shape, dtype };
  },
});
