/**
 * Activation kernels on `ts` (float32 and float64; every value is computed in double
 * precision and rounded once on store). Each forward kernel that training needs fast
 * has a gradient kernel beside it; other backends implement the same names.
 *
 * Conventions shared by every backend:
 * - elementwise kernels keep x's shape and dtype;
 * - gradient kernels take the upstream gradient `dy` FIRST, then what the forward saved
 *   (x or y, as named), and return dx with x's shape;
 * - NaN in gives NaN out in every forward kernel (and Relu keeps NaN, like PyTorch).
 */
import { registerKernel } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { allocArray } from '../../../tensor/dtype.js';
import { erfc } from '../../../kernels/special.js';
import { out, vals } from '../backend.js';
import { unaryKernel } from './elementwise.js';

type Attrs = Record<string, unknown>;

/** Register a gradient kernel dx[i] = f(dy[i], s[i], attrs), s = the saved x or y. */
function unaryGradKernel(name: string, f: (dy: number, s: number, attrs: Attrs) => number): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([dy, s], attrs, be) => {
      const dv = vals(dy), sv = vals(s);
      const dx = allocArray(s.dtype, sv.length);
      for (let i = 0; i < sv.length; i++) dx[i] = f(dv[i], sv[i], attrs);
      return out(be, dx, s.shape, s.dtype);
    },
  });
}

/** 'Relu': [x] -> y = max(x, 0) (NaN stays NaN). */
unaryKernel('Relu', (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0));
/** 'ReluGrad': [dy, x] -> dx = x > 0 ? dy : 0 (so relu'(0) = 0). */
unaryGradKernel('ReluGrad', (dy, x) => (x > 0 ? dy : 0));

/** 'LeakyRelu': [x], { alpha } -> y = x > 0 ? x : alpha * x. */
unaryKernel('LeakyRelu', (x, a) => (x > 0 ? x : (a.alpha as number) * x));
/** 'LeakyReluGrad': [dy, x], { alpha } -> dx = x > 0 ? dy : alpha * dy (slope alpha at 0, as PyTorch). */
unaryGradKernel('LeakyReluGrad', (dy, x, a) => (x > 0 ? dy : (a.alpha as number) * dy));

/** 'Elu': [x], { alpha } -> y = x > 0 ? x : alpha * (exp(x) - 1). */
unaryKernel('Elu', (x, a) => (x > 0 ? x : (a.alpha as number) * Math.expm1(x)));
/** 'EluGrad': [dy, x], { alpha } -> dx = x > 0 ? dy : dy * alpha * exp(x). */
unaryGradKernel('EluGrad', (dy, x, a) => (x > 0 ? dy : dy * (a.alpha as number) * Math.exp(x)));

/**
 * 'Sigmoid': [x] -> y = 1 / (1 + exp(-x)), evaluated so that exp never overflows:
 * exp(-|x|) is at most 1.
 */
unaryKernel('Sigmoid', (x) => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
});
/** 'SigmoidGrad': [dy, y] -> dx = dy * y * (1 - y), y the forward output. */
unaryGradKernel('SigmoidGrad', (dy, y) => dy * y * (1 - y));

/** 'Tanh': [x] -> y = tanh(x). */
unaryKernel('Tanh', (x) => Math.tanh(x));
/** 'TanhGrad': [dy, y] -> dx = dy * (1 - y^2), y the forward output. */
unaryGradKernel('TanhGrad', (dy, y) => dy * (1 - y * y));

/** 'Softplus': [x] -> y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) (never overflows). */
unaryKernel('Softplus', (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));

/** 'Step': [x] -> y = x >= 0 ? 1 : 0 (binary step, Heaviside with H(0) = 1; NaN stays NaN). */
unaryKernel('Step', (x) => (x >= 0 ? 1 : x < 0 ? 0 : x));

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
/** 'Gelu': [x], { approximate: 'none' | 'tanh' } -> y. */
unaryKernel('Gelu', (x, a) => geluScalar(x, a.approximate === 'tanh'));
/** 'GeluGrad': [dy, x], { approximate } -> dx = dy * gelu'(x). */
unaryGradKernel('GeluGrad', (dy, x, a) => dy * geluGradScalar(x, a.approximate === 'tanh'));

/**
 * View a shape as [outer, n, inner] around `axis`: element (o, k, i) lives at
 * (o * n + k) * inner + i. Softmax-like kernels loop over (o, i) rows of length n.
 */
export function axisLayout(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  let outer = 1, inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return { outer, n: shape[axis], inner };
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
function softmaxLike(x: TensorInfo, axis: number, log: boolean) {
  const xv = vals(x);
  const y = allocArray(x.dtype, xv.length);
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
  return y;
}

/** 'Softmax': [x], { axis (non-negative) } -> y, each row along axis sums to 1. */
registerKernel({
  kernelName: 'Softmax',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => out(be, softmaxLike(x, attrs.axis as number, false), x.shape, x.dtype),
});
/** 'LogSoftmax': [x], { axis } -> y = x - logsumexp(x, axis). */
registerKernel({
  kernelName: 'LogSoftmax',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => out(be, softmaxLike(x, attrs.axis as number, true), x.shape, x.dtype),
});

/**
 * 'SoftmaxGrad': [dy, y], { axis } -> dx = y * (dy - sum_axis(dy * y)), y the softmax output.
 * 'LogSoftmaxGrad': [dy, y], { axis } -> dx = dy - exp(y) * sum_axis(dy), y the log-softmax output.
 */
function softmaxGradKernel(name: string, log: boolean): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([dy, y], attrs, be) => {
      const dv = vals(dy), yv = vals(y);
      const dx = allocArray(y.dtype, yv.length);
      const { outer, n, inner } = axisLayout(y.shape, attrs.axis as number);
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
      return out(be, dx, y.shape, y.dtype);
    },
  });
}
softmaxGradKernel('SoftmaxGrad', false);
softmaxGradKernel('LogSoftmaxGrad', true);
