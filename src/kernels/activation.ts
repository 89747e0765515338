/**
 * Activation kernels: elementwise nonlinearities and their gradients, softmax and
 * log-softmax along one axis with theirs.
 *
 *   Relu        y = max(x, 0) (NaN stays NaN)          ReluGrad       dx = x > 0 ? dy : 0 (relu'(0) = 0)
 *   LeakyRelu   y = x > 0 ? x : alpha x                LeakyReluGrad  dx = x > 0 ? dy : alpha dy (slope alpha at 0, as PyTorch)
 *   Elu         y = x > 0 ? x : alpha (exp(x) - 1)     EluGrad        dx = x > 0 ? dy : dy alpha exp(x)
 *   Sigmoid     y = 1 / (1 + exp(-x))                  SigmoidGrad    dx = dy y (1 - y), y the forward output
 *   Tanh        y = tanh(x)                            TanhGrad       dx = dy (1 - y^2), y the forward output
 *   Step        y = x >= 0 ? 1 : 0 (Heaviside, H(0) = 1; NaN stays NaN; gradient 0)
 *   Gelu        y = x Phi(x) (exact), or the tanh form  GeluGrad      dx = dy gelu'(x)
 *   Softmax     y = exp(x - max) / sum exp(x - max) along axis      SoftmaxGrad     dx = y (dy - sum_axis(dy y))
 *   LogSoftmax  y = (x - max) - log sum exp(x - max) along axis     LogSoftmaxGrad  dx = dy - exp(y) sum_axis(dy)
 *
 * Conventions shared by every backend:
 * - elementwise kernels keep x's shape and dtype;
 * - gradient kernels take the upstream gradient `dy` FIRST, then what the forward saved
 *   (x or y, as named), and return dx with x's shape;
 * - NaN in gives NaN out in every forward kernel (and Relu keeps NaN, like PyTorch).
 * The references compute every value in double precision and round once on store.
 */
import type { TensorInfo } from '../tensor/backend.js';
import { allocArray } from '../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { defineKernel, expectSameDtype, type HostTensor, type Kernel } from './kernel.js';
import { erfc } from './special.js';

/** Attrs of LeakyRelu, Elu and their gradients. */
export interface AlphaAttrs {
  alpha: number;
}
/** Attrs of Gelu and GeluGrad. */
export interface GeluAttrs {
  /** 'none': x Phi(x) with the exact erf; 'tanh': PyTorch's approximate='tanh'. */
  approximate: 'none' | 'tanh';
}
/** Attrs of the softmax family: the (non-negative) axis the rows run along. */
export interface SoftmaxAttrs {
  axis: number;
}

type NoAttrs = Record<string, never>;

function mapReference<A extends object>(f: (x: number, attrs: A) => number) {
  return ([x]: readonly HostTensor[], attrs: A): HostTensor => {
    const xv = x.values;
    const y = allocArray(x.dtype, xv.length, x.shape);
    for (let i = 0; i < xv.length; i++) y[i] = f(xv[i], attrs);
    return { values: y, shape: x.shape, dtype: x.dtype };
  };
}

/** An elementwise forward kernel y = f(x). */
function unaryKernel<A extends object>(name: string, f: (x: number, attrs: A) => number): Kernel<A> {
  return defineKernel<A>({ name, inputs: ['x'], reference: mapReference(f) });
}

/** dy and the saved tensor must have one shape and dtype. */
function checkGradPair(kernel: string, saved: string, [dy, s]: readonly TensorInfo[]): void {
  if (!shapesEqual(dy.shape, s.shape)) throw new RangeError(`${kernel}: dy has shape ${fmtShape(dy.shape)}, expected ${saved}'s shape ${fmtShape(s.shape)}`);
  expectSameDtype(kernel, ['dy', saved], [dy, s]);
}

/** A gradient kernel dx[i] = f(dy[i], s[i], attrs), s = the saved x or y. */
function unaryGradKernel<A extends object>(name: string, saved: 'x' | 'y', f: (dy: number, s: number, attrs: A) => number): Kernel<A> {
  return defineKernel<A>({
    name,
    inputs: ['dy', saved],
    check: (inputs) => checkGradPair(name, saved, inputs),
    reference([dy, s], attrs) {
      const dv = dy.values, sv = s.values;
      const dx = allocArray(s.dtype, sv.length, s.shape);
      for (let i = 0; i < sv.length; i++) dx[i] = f(dv[i], sv[i], attrs);
      return { values: dx, shape: s.shape, dtype: s.dtype };
    },
  });
}

export const Relu = unaryKernel<NoAttrs>('Relu', (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0));
export const ReluGrad = unaryGradKernel<NoAttrs>('ReluGrad', 'x', (dy, x) => (x > 0 ? dy : 0));

/**
 * Fused (not the composite where(x > 0, x, alpha x), src/ops/composites.ts): on wasm at
 * [64,28,28,32] the composite took 3.5x (4.1x) the fused time forward and 1.2x (2.7x)
 * forward + backward (bench/cases.ts 'composite' rows, two runs, AMD EPYC, 2 cores shared, Node 20; `npm run bench -- --kernel-only --impl convkit-wasm --filter composite`).
 */
export const LeakyRelu = unaryKernel<AlphaAttrs>('LeakyRelu', (x, a) => (x > 0 ? x : a.alpha * x));
export const LeakyReluGrad = unaryGradKernel<AlphaAttrs>('LeakyReluGrad', 'x', (dy, x, a) => (x > 0 ? dy : a.alpha * dy));

/**
 * Fused: the composite where(x > 0, x, alpha expm1(min(x, 0))) (src/ops/composites.ts,
 * as accurate as this kernel since expm1 is a primitive) took 1.31x (1.31x) the fused time
 * forward and 4.09x (1.30x) forward + backward at [64,28,28,32] on wasm (two runs, quick
 * then full, AMD EPYC, 2 cores shared, Node 20; `npm run bench -- --kernel-only --impl convkit-wasm --filter "composite elu"`).
 */
export const Elu = unaryKernel<AlphaAttrs>('Elu', (x, a) => (x > 0 ? x : a.alpha * Math.expm1(x)));
export const EluGrad = unaryGradKernel<AlphaAttrs>('EluGrad', 'x', (dy, x, a) => (x > 0 ? dy : dy * a.alpha * Math.exp(x)));

/** Sigmoid evaluated so that exp never overflows: exp(-|x|) is at most 1. */
export const Sigmoid = unaryKernel<NoAttrs>('Sigmoid', (x) => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
});
export const SigmoidGrad = unaryGradKernel<NoAttrs>('SigmoidGrad', 'y', (dy, y) => dy * y * (1 - y));

export const Tanh = unaryKernel<NoAttrs>('Tanh', (x) => Math.tanh(x));
export const TanhGrad = unaryGradKernel<NoAttrs>('TanhGrad', 'y', (dy, y) => dy * (1 - y * y));

/**
 * Fused: where(isNaN(x), x, x >= 0) (src/ops/composites.ts) took 2.7x (3.2x) the fused time
 * at [64,28,28,32] on wasm (two runs, AMD EPYC, 2 cores shared, Node 20; `npm run bench -- --kernel-only --impl convkit-wasm --filter composite`). No gradient kernel: step's gradient is zeros.
 */
export const Step = unaryKernel<NoAttrs>('Step', (x) => (x >= 0 ? 1 : x < 0 ? 0 : x));

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)
const SQRT_2_OVER_PI = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C = 0.044715;

/**
 * GELU, exact form: x * Phi(x) with Phi the standard normal CDF, written as
 * 0.5 * x * erfc(-x / sqrt 2) so that it keeps its relative accuracy for large negative x.
 * Tanh form (Hendrycks & Gimpel; PyTorch approximate='tanh'):
 * 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
 */
function geluScalar(x: number, tanhForm: boolean): number {
  if (tanhForm) return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
  return 0.5 * x * erfc(-x * SQRT1_2);
}
/** d gelu / dx: Phi(x) + x phi(x) (exact form), or the derivative of the tanh form. */
function geluGradScalar(x: number, tanhForm: boolean): number {
  if (tanhForm) {
    const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  }
  return 0.5 * erfc(-x * SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}
export const Gelu = unaryKernel<GeluAttrs>('Gelu', (x, a) => geluScalar(x, a.approximate === 'tanh'));
export const GeluGrad = unaryGradKernel<GeluAttrs>('GeluGrad', 'x', (dy, x, a) => dy * geluGradScalar(x, a.approximate === 'tanh'));

// ------------------------------------------------------------------ softmax family

/**
 * View a shape as [outer, n, inner] around `axis`: element (o, k, i) lives at
 * (o * n + k) * inner + i. Softmax-like kernels loop over (o, i) rows of length n;
 * every backend takes its row layout from here.
 */
export function axisLayout(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  let outer = 1, inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return { outer, n: shape[axis], inner };
}

function checkAxis(kernel: string, x: TensorInfo, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new RangeError(`${kernel}: axis must be an integer in [0, ${x.shape.length}) for shape ${fmtShape(x.shape)}, received ${String(axis)}`);
  }
}

/**
 * Softmax (log = false) or log-softmax (log = true) along `axis`, subtracting the row
 * maximum first so exp never overflows. A NaN anywhere in a row makes the row NaN.
 * Log-softmax is (x - max) - log(sum), never x - (max + log(sum)): where |max| is large,
 * max + log(sum) rounds to max (log(sum) <= log(n) falls below half an ulp of max in double
 * from about 1e16 on) and every output loses log(sum): the rows [1e17, 1e17] (float64) and
 * [3e38, 3e38] (float32, computed in double here) gave 0 instead of -0.693. x - max is
 * exact for the row's largest values.
 */
function softmaxLike(x: HostTensor, axis: number, log: boolean): HostTensor {
  const xv = x.values;
  const y = allocArray(x.dtype, xv.length, x.shape);
  const { outer, n, inner } = axisLayout(x.shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, xv[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(xv[base + k * inner] - m);
      if (log) {
        const ls = Math.log(s);
        for (let k = 0; k < n; k++) y[base + k * inner] = xv[base + k * inner] - m - ls;
      } else {
        for (let k = 0; k < n; k++) y[base + k * inner] = Math.exp(xv[base + k * inner] - m) / s;
      }
    }
  }
  return { values: y, shape: x.shape, dtype: x.dtype };
}

/** Softmax: [x], { axis } -> y, each row along axis sums to 1. */
export const Softmax = defineKernel<SoftmaxAttrs>({
  name: 'Softmax',
  inputs: ['x'],
  check: ([x], { axis }) => checkAxis('Softmax', x, axis),
  reference: ([x], { axis }) => softmaxLike(x, axis, false),
});
/** LogSoftmax: [x], { axis } -> y = x - logsumexp(x, axis). */
export const LogSoftmax = defineKernel<SoftmaxAttrs>({
  name: 'LogSoftmax',
  inputs: ['x'],
  check: ([x], { axis }) => checkAxis('LogSoftmax', x, axis),
  reference: ([x], { axis }) => softmaxLike(x, axis, true),
});

/**
 * SoftmaxGrad: [dy, y], { axis } -> dx = y * (dy - sum_axis(dy * y)), y the softmax output.
 * LogSoftmaxGrad: [dy, y], { axis } -> dx = dy - exp(y) * sum_axis(dy), y the log-softmax output.
 */
function softmaxGradKernel(name: string, log: boolean): Kernel<SoftmaxAttrs> {
  return defineKernel<SoftmaxAttrs>({
    name,
    inputs: ['dy', 'y'],
    check(inputs, { axis }) {
      checkGradPair(name, 'y', inputs);
      checkAxis(name, inputs[1], axis);
    },
    reference([dy, y], { axis }) {
      const dv = dy.values, yv = y.values;
      const dx = allocArray(y.dtype, yv.length, y.shape);
      const { outer, n, inner } = axisLayout(y.shape, axis);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          let s = 0;
          for (let k = 0; k < n; k++) {
            const j = base + k * inner;
            s += log ? dv[j] : dv[j] * yv[j];
          }
          for (let k = 0; k < n; k++) {
            const j = base + k * inner;
            dx[j] = log ? dv[j] - Math.exp(yv[j]) * s : yv[j] * (dv[j] - s);
          }
        }
      }
      return { values: dx, shape: y.shape, dtype: y.dtype };
    },
  });
}
export const SoftmaxGrad = softmaxGradKernel('SoftmaxGrad', false);
export const LogSoftmaxGrad = softmaxGradKernel('LogSoftmaxGrad', true);
