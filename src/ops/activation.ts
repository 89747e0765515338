/**
 * Activation functions. The ones a training step runs on every layer are single kernels
 * with a gradient kernel beside them (Relu/ReluGrad, LeakyRelu, Elu, Sigmoid, Tanh, Gelu,
 * Softmax, LogSoftmax); the rest (prelu, selu, softplus) are compositions of ops and need
 * no backward code.
 *
 * Conventions: relu'(0) = 0; leakyRelu and prelu have slope alpha at 0 (PyTorch);
 * step(0) = 1 and step' = 0 everywhere; NaN in gives NaN out.
 */
import { record } from '../autograd/reverse_mode.js';
import { Elu, EluGrad, Gelu, GeluGrad, LeakyRelu, LeakyReluGrad, LogSoftmax, LogSoftmaxGrad, Relu, ReluGrad, Sigmoid, SigmoidGrad, Softmax, SoftmaxGrad, Step, Tanh, TanhGrad } from '../kernels/activation.js';
import { outputOf } from '../registry/dispatch.js';
import { Clip, Fill } from '../kernels/elementwise.js';
import { shareStorage } from '../registry/storage.js';
import { broadcastShapes, fmtShape, normAxes, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { assertFloatTensor, assertTensor } from './arg_checks.js';
import { abs, add, affine, div, exp, greater, less, log1p, maximum, minimum, mul, where } from './elementwise.js';
import { noteLogits } from './logits.js';

function assertAlpha(op: string, alpha: number): void {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new RangeError(`${op}: alpha must be a finite number, received ${String(alpha)}`);
}

/** max(x, 0). Gradient: dy where x > 0, else 0 (so relu'(0) = 0). */
export function relu(x: Tensor): Tensor {
  assertFloatTensor('relu', 'x', x);
  return record('relu', [x], outputOf(Relu, [x]), (dy) => [outputOf(ReluGrad, [dy, x])]);
}

/** x > 0 ? x : alpha * x (alpha default 0.01, Keras uses 0.3). Slope at 0 is alpha. */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  assertFloatTensor('leakyRelu', 'x', x);
  assertAlpha('leakyRelu', alpha);
  return record('leakyRelu', [x], outputOf(LeakyRelu, [x], { alpha }), (dy) => [outputOf(LeakyReluGrad, [dy, x], { alpha })]);
}

/**
 * Parametric ReLU: x > 0 ? x : alpha * x with a learnable `alpha` that broadcasts to x
 * (e.g. [C] for one slope per channel, or [] for one slope). Gradients: dx = dy (x > 0)
 * or alpha * dy; dalpha = sum of dy * x over the elements where x <= 0.
 */
export function prelu(x: Tensor, alpha: Tensor): Tensor {
  assertFloatTensor('prelu', 'x', x);
  assertFloatTensor('prelu', 'alpha', alpha);
  if (alpha.dtype !== x.dtype) throw new TypeError(`prelu: alpha is ${alpha.dtype} but x is ${x.dtype}`);
  const s = broadcastShapes(x.shape, alpha.shape, 'prelu');
  if (!shapesEqual(s, x.shape)) {
    throw new RangeError(`prelu: alpha of shape ${fmtShape(alpha.shape)} must broadcast to x's shape ${fmtShape(x.shape)} without enlarging it`);
  }
  return where(greater(x, 0), x, mul(alpha, x));
}

/** x > 0 ? x : alpha * (exp(x) - 1), alpha default 1. */
export function elu(x: Tensor, alpha = 1): Tensor {
  assertFloatTensor('elu', 'x', x);
  assertAlpha('elu', alpha);
  return record('elu', [x], outputOf(Elu, [x], { alpha }), (dy) => [outputOf(EluGrad, [dy, x], { alpha })]);
}

/** SELU constants of Klambauer et al., as PyTorch writes them. */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** scale * elu(x, alpha) with the self-normalising constants (composite). */
export function selu(x: Tensor): Tensor {
  assertFloatTensor('selu', 'x', x);
  return affine(elu(x, SELU_ALPHA), SELU_SCALE);
}

export interface GeluOpts {
  /** 'none' (default): x * Phi(x) with the exact erf; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit (PyTorch's two forms; erf computed to ~1e-15). */
export function gelu(x: Tensor, opts: GeluOpts = {}): Tensor {
  assertFloatTensor('gelu', 'x', x);
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new RangeError(`gelu: approximate must be 'none' or 'tanh', received '${String(approximate)}'`);
  }
  return record('gelu', [x], outputOf(Gelu, [x], { approximate }), (dy) => [outputOf(GeluGrad, [dy, x], { approximate })]);
}

/**
 * log(1 + exp(x)) as the composite max(x, 0) + log1p(exp(-|x|)), which never overflows and
 * keeps the negative tail (softplus(-20) = 2.06e-9). -|x| is written min(-x, x) and
 * max(x, 0) as maximum(x, 0): their gradients at the tie x = 0 (1 and -1/2) add up to
 * sigmoid(0) = 1/2, the derivative, where relu and abs would give 1 or 0. The gradient,
 * sigmoid(x), comes from the ops. No fused kernel: the composite was as fast (bench/README.md,
 * 'Fused kernels vs composites').
 */
export function softplus(x: Tensor): Tensor {
  assertFloatTensor('softplus', 'x', x);
  return add(maximum(x, 0), log1p(exp(minimum(affine(x, -1), x))));
}

/**
 * x * sigmoid(x): swish (Keras, TF.js), SiLU (PyTorch's silu); EfficientNet's activation
 * (composite: its gradient sigmoid(x) (1 + x (1 - sigmoid(x))) comes from the ops).
 */
export function swish(x: Tensor): Tensor {
  assertFloatTensor('swish', 'x', x);
  return mul(x, sigmoid(x));
}

/** x * tanh(softplus(x)) (Misra 2019; PyTorch's mish, Keras's and TF.js's 'mish'; composite). */
export function mish(x: Tensor): Tensor {
  assertFloatTensor('mish', 'x', x);
  return mul(x, tanh(softplus(x)));
}

/** x / (1 + |x|) (Keras's and TF.js's 'softsign', PyTorch's softsign, ONNX Softsign; composite). */
export function softsign(x: Tensor): Tensor {
  assertFloatTensor('softsign', 'x', x);
  return div(x, affine(abs(x), 1, 1));
}

/**
 * min(max(x, 0), 6) (MobileNet's ReLU6, PyTorch's relu6), one Clip kernel. Gradient: dy
 * where 0 < x < 6, else 0 (PyTorch's hardtanh backward: 0 at both kinks).
 */
export function relu6(x: Tensor): Tensor {
  assertFloatTensor('relu6', 'x', x);
  return clampBetweenZeroAnd('relu6', x, 6);
}

/** min(max(x, 0), hi) as one Clip kernel, recorded as `op`, with dy passed where 0 < x < hi only (0 at both kinks). */
function clampBetweenZeroAnd(op: string, x: Tensor, hi: number): Tensor {
  return record(op, [x], outputOf(Clip, [x], { min: 0, max: hi }), (dy) => [where(less(x, hi), outputOf(ReluGrad, [dy, x]), 0)]);
}

export interface HardSigmoidOpts {
  /** Slope (default 1/6, PyTorch's hardsigmoid and Keras 3; Keras 2 and ONNX's default use 0.2). */
  alpha?: number;
  /** Offset (default 0.5). */
  beta?: number;
}

/**
 * max(0, min(1, alpha x + beta)): a piecewise-linear sigmoid, as an Affine and a Clip kernel.
 * Gradient: alpha dy where 0 < alpha x + beta < 1, else 0 (PyTorch's hardsigmoid backward: 0
 * at both kinks, x = -3 and 3 with the defaults).
 */
export function hardSigmoid(x: Tensor, opts: HardSigmoidOpts = {}): Tensor {
  assertFloatTensor('hardSigmoid', 'x', x);
  const alpha = opts.alpha ?? 1 / 6, beta = opts.beta ?? 0.5;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new RangeError(`hardSigmoid: alpha and beta must be finite numbers, received ${alpha} and ${beta}`);
  return clampBetweenZeroAnd('hardSigmoid', affine(x, alpha, beta), 1);
}

/** x * hardSigmoid(x) = x * relu6(x + 3) / 6 (MobileNetV3's hard-swish, PyTorch's hardswish; composite). */
export function hardSwish(x: Tensor): Tensor {
  assertFloatTensor('hardSwish', 'x', x);
  return mul(x, hardSigmoid(x));
}

/** 1 / (1 + exp(-x)), without overflow for large |x|. Gradient: dy * y * (1 - y). */
export function sigmoid(x: Tensor): Tensor {
  assertFloatTensor('sigmoid', 'x', x);
  const y = outputOf(Sigmoid, [x]);
  noteLogits(y, { kind: 'sigmoid', logits: x, axis: -1 });
  return record('sigmoid', [x], y, (dy) => [outputOf(SigmoidGrad, [dy, y])]);
}

/** Hyperbolic tangent. Gradient: dy * (1 - y^2). */
export function tanh(x: Tensor): Tensor {
  assertFloatTensor('tanh', 'x', x);
  const y = outputOf(Tanh, [x]);
  return record('tanh', [x], y, (dy) => [outputOf(TanhGrad, [dy, y])]);
}

/**
 * Binary step: 1 where x >= 0, else 0 (NaN stays NaN). Its derivative is 0 wherever it
 * exists, and convkit uses 0 at the jump too, so gradients through it are zeros.
 */
export function step(x: Tensor): Tensor {
  assertFloatTensor('step', 'x', x);
  return record('step', [x], outputOf(Step, [x]), (dy) => [outputOf(Fill, [], { shape: [...dy.shape], dtype: dy.dtype, value: 0 })]);
}

/** The identity activation: the same values (a view, no copy); gradient dy. */
export function identity(x: Tensor): Tensor {
  assertTensor('identity', 'x', x);
  return record('identity', [x], shareStorage(x, x.shape), (dy) => [shareStorage(dy, dy.shape)]);
}

/** exp(x) / sum(exp(x)) along `axis` (default the last), shifted by the maximum for stability. */
export function softmax(x: Tensor, axis = -1): Tensor {
  assertFloatTensor('softmax', 'x', x);
  if (x.rank === 0) throw new RangeError('softmax: x must have at least one axis, received a scalar');
  const [a] = normAxes(axis, x.rank, 'softmax');
  const y = outputOf(Softmax, [x], { axis: a });
  noteLogits(y, { kind: 'softmax', logits: x, axis: a });
  return record('softmax', [x], y, (dy) => [outputOf(SoftmaxGrad, [dy, y], { axis: a })]);
}

/** x - logsumexp(x) along `axis` (default the last): finite even for very large inputs. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  assertFloatTensor('logSoftmax', 'x', x);
  if (x.rank === 0) throw new RangeError('logSoftmax: x must have at least one axis, received a scalar');
  const [a] = normAxes(axis, x.rank, 'logSoftmax');
  const y = outputOf(LogSoftmax, [x], { axis: a });
  return record('logSoftmax', [x], y, (dy) => [outputOf(LogSoftmaxGrad, [dy, y], { axis: a })]);
}
