/**
 * Activation kernels on `webgpu` (float32), the contracts of src/kernels/activation.ts
 * (names, inputs and conventions): gradient kernels take dy first,
 * then the saved x or y; NaN in gives NaN out; relu'(0) = 0.
 *
 * The maths is written for float32 without the functions WGSL lacks: expm1 (FLOAT_FNS in
 * ./elementwise.ts) switches to its series near 0, tanh and sigmoid are evaluated through exp(-|x|) so
 * they never overflow, and erfc is Numerical Recipes' erfcc (relative error below
 * 1.2e-7 everywhere, so exact GELU keeps its accuracy in the negative tail).
 */
import { sizeOf } from '../../../tensor/shape.js';
import { gpu } from '../backend.js';
import { MAIN_1D, grid1d, type ProgramDef } from '../program.js';
import { unaryGradKernel, unaryKernel } from './elementwise.js';
import { Erf } from '../../../kernels/elementwise.js';
import { registerFloat } from './util.js';
import {
  Elu, EluGrad, Gelu, GeluGrad, LeakyRelu, LeakyReluGrad, LogSoftmax, LogSoftmaxGrad, Relu, ReluGrad,
  Sigmoid, SigmoidGrad, Softmax, SoftmaxGrad, Step, Tanh, TanhGrad, axisLayout,
  type AlphaAttrs, type GeluAttrs,
} from '../../../kernels/activation.js';

export const ACTIVATION_FNS = `
fn sigmoid_f32(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1e-2) { return x - x * x * x / 3.0; }
  let t = exp(-2.0 * a);
  return sign(x) * (1.0 - t) / (1.0 + t);
}
fn erfc_f32(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(2.0 - r, r, x >= 0.0);
}
const SQRT1_2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;
const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
fn gelu_f32(x: f32, tanh_form: bool) -> f32 {
  if (tanh_form) { return 0.5 * x * (1.0 + tanh_f32(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))); }
  return 0.5 * x * erfc_f32(-x * SQRT1_2);
}
fn gelu_grad_f32(x: f32, tanh_form: bool) -> f32 {
  if (tanh_form) {
    let t = tanh_f32(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x);
  }
  return 0.5 * erfc_f32(-x * SQRT1_2) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}
// erf: its odd series for |x| < 0.5 (small x keeps its relative accuracy), else
// sign(x) (1 - erfc(|x|)), as the wasm kernel
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x;
    return 1.1283791670955126 * x * (1.0 + z * (-1.0 / 3.0 + z * (0.1 + z * (-1.0 / 42.0 + z * (1.0 / 216.0 + z * (-1.0 / 1320.0))))));
  }
  let e = 1.0 - erfc_f32(a);
  return select(e, -e, x < 0.0);
}
`;

const alpha = { params: [{ name: 'alpha', type: 'f32' as const }], values: (a: AlphaAttrs) => ({ alpha: a.alpha }) };
const gelu = { params: [{ name: 'tanhForm', type: 'u32' as const }], values: (a: GeluAttrs) => ({ tanhForm: a.approximate === 'tanh' ? 1 : 0 }) };

unaryKernel(Relu, { f32: 'select(0.0, x, x > 0.0)', i32: 'max(x, 0)' });
unaryKernel(Erf, { f32: 'erf_f32(x)', fns: ACTIVATION_FNS });
unaryGradKernel(ReluGrad, { f32: 'select(0.0, g, s > 0.0)' });
unaryKernel(LeakyRelu, { f32: 'select(u.alpha * x, x, x > 0.0)', ...alpha });
unaryGradKernel(LeakyReluGrad, { f32: 'select(u.alpha * g, g, s > 0.0)', ...alpha });
unaryKernel(Elu, { f32: 'select(u.alpha * expm1_f32(x), x, x > 0.0)', fns: ACTIVATION_FNS, ...alpha });
unaryGradKernel(EluGrad, { f32: 'select(g * u.alpha * exp(s), g, s > 0.0)', nanPassThrough: true, ...alpha });
unaryKernel(Sigmoid, { f32: 'sigmoid_f32(x)', fns: ACTIVATION_FNS });
unaryGradKernel(SigmoidGrad, { f32: 'g * s * (1.0 - s)', nanPassThrough: true });
unaryKernel(Tanh, { f32: 'tanh_f32(x)', fns: ACTIVATION_FNS });
unaryGradKernel(TanhGrad, { f32: 'g * (1.0 - s * s)', nanPassThrough: true });
unaryKernel(Step, { f32: 'select(0.0, 1.0, x >= 0.0)', i32: 'select(0, 1, x >= 0)' });
unaryKernel(Gelu, { f32: 'gelu_f32(x, u.tanhForm != 0u)', fns: ACTIVATION_FNS, ...gelu });
unaryGradKernel(GeluGrad, { f32: 'g * gelu_grad_f32(s, u.tanhForm != 0u)', fns: ACTIVATION_FNS, nanPassThrough: true, ...gelu });

// ------------------------------------------------------------------ softmax family

// Rows along `axis` of a shape viewed as [outer, n, inner] (axisLayout); one thread per row.

const ROW = `  if (i >= u.rows) { return; }
  let base = (i / u.inner) * u.n * u.inner + i % u.inner;`;

/** NaN-propagating row maximum of X. */
const ROW_MAX = `
fn row_max(base: u32) -> f32 {
  var m = -inf_f32();
  for (var k = 0u; k < u.n; k++) {
    let v = X[base + k * u.inner];
    if (is_nan(v)) { return v; }
    m = max(m, v);
  }
  return m;
}`;

/**
 * Softmax, or log-softmax as (x - m) - log(s): never x - (m + log(s)), which rounds
 * log(s) to m's ulp (all of it for logits of 1e7 or 3e38 in float32).
 */
function softmaxProgram(log: boolean): ProgramDef {
  return {
    key: log ? 'log-softmax' : 'softmax',
    buffers: [
      { name: 'X', type: 'f32', access: 'read' },
      { name: 'Y', type: 'f32', access: 'read_write' },
    ],
    params: [{ name: 'rows', type: 'u32' }, { name: 'n', type: 'u32' }, { name: 'inner', type: 'u32' }],
    body: `${ROW_MAX}
${MAIN_1D}
${ROW}
  let m = row_max(base);
  var s = 0.0;
  for (var k = 0u; k < u.n; k++) { s += exp(X[base + k * u.inner] - m); }
  ${log ? 'let ls = log(s);' : ''}
  for (var k = 0u; k < u.n; k++) {
    let j = base + k * u.inner;
    Y[j] = ${log ? '(X[j] - m) - ls' : 'exp(X[j] - m) / s'};
  }
}`,
  };
}

function softmaxGradProgram(log: boolean): ProgramDef {
  return {
    key: log ? 'log-softmax-grad' : 'softmax-grad',
    buffers: [
      { name: 'DY', type: 'f32', access: 'read' },
      { name: 'Y', type: 'f32', access: 'read' },
      { name: 'DX', type: 'f32', access: 'read_write' },
    ],
    params: [{ name: 'rows', type: 'u32' }, { name: 'n', type: 'u32' }, { name: 'inner', type: 'u32' }],
    body: `${MAIN_1D}
${ROW}
  var s = 0.0;
  for (var k = 0u; k < u.n; k++) {
    let j = base + k * u.inner;
    s += ${log ? 'DY[j]' : 'DY[j] * Y[j]'};
  }
  for (var k = 0u; k < u.n; k++) {
    let j = base + k * u.inner;
    DX[j] = ${log ? 'DY[j] - exp(Y[j]) * s' : 'Y[j] * (DY[j] - s)'};
  }
}`,
  };
}

for (const [fwdKernel, gradKernel, log] of [[Softmax, SoftmaxGrad, false], [LogSoftmax, LogSoftmaxGrad, true]] as const) {
  const fwd = softmaxProgram(log);
  const bwd = softmaxGradProgram(log);
  registerFloat(fwdKernel, ([x], { axis }, be) => {
    const { outer, n, inner } = axisLayout(x.shape, axis);
    const y = be.output(x.shape, 'float32');
    const rows = outer * inner;
    if (sizeOf(x.shape) > 0) be.run(fwd, [gpu(x), y.dataId], { rows, n, inner: Math.max(inner, 1) }, grid1d(rows));
    return y;
  });
  registerFloat(gradKernel, ([dy, y], { axis }, be) => {
    const { outer, n, inner } = axisLayout(y.shape, axis);
    const dx = be.output(y.shape, 'float32');
    const rows = outer * inner;
    if (sizeOf(y.shape) > 0) be.run(bwd, [gpu(dy), gpu(y), dx.dataId], { rows, n, inner: Math.max(inner, 1) }, grid1d(rows));
    return dx;
  });
}
