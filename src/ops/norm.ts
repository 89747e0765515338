/**
 * Normalisation and dropout. batchNorm and lrn are kernels with gradient kernels (a
 * training step runs them on every block); moments, layerNorm and dropout are
 * compositions of other ops and need no backward code of their own.
 */
import { record } from '../autograd/reverse_mode.js';
import { BatchNorm, BatchNormGrad, LRN, LRNGrad } from '../kernels/norm.js';
import { ReluGrad } from '../kernels/activation.js';
import { outputOf, runKernel } from '../registry/dispatch.js';
import { Fill } from '../kernels/elementwise.js';
import { fmtShape, normAxes, reducedShape, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { identity } from './activation.js';
import { assertFloatTensor } from './arg_checks.js';
import { fromChunks } from './generate.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { Rng, rngOf } from './random.js';
import { mean, sum } from './reduce.js';
import { reshape } from './shape.js';

export interface BatchNormOpts {
  /** Running mean [C], used when not training. */
  mean?: Tensor;
  /** Running (biased) variance [C], used when not training. */
  variance?: Tensor;
  /** Added to the variance before the square root. Default 1e-5 (PyTorch, Keras uses 1e-3). */
  epsilon?: number;
  /**
   * true: normalise with this batch's mean and biased variance over every axis but the
   * last; false: with the given mean and variance. Default: true unless mean and
   * variance are given.
   */
  training?: boolean;
  /**
   * 'relu': return relu(y), computed in the same pass over the tensor (and its gradient in
   * the same passes as batch norm's), with Relu's values (NaN stays NaN). Default 'linear'.
   * The layer graph uses it for a ReLU layer that follows a BatchNormalization layer in
   * training (fusion.ts).
   */
  activation?: 'linear' | 'relu';
}

function checkChannelParam(op: string, arg: string, p: Tensor | null | undefined, x: Tensor): void {
  if (p === null || p === undefined) return;
  assertFloatTensor(op, arg, p);
  const C = x.shape[x.rank - 1];
  if (!shapesEqual(p.shape, [C])) {
    throw new RangeError(`${op}: ${arg} must have shape [${C}] (the channels of x ${fmtShape(x.shape)}), received ${fmtShape(p.shape)}`);
  }
  if (p.dtype !== x.dtype) throw new TypeError(`${op}: ${arg} is ${p.dtype} but x is ${x.dtype}`);
}

function checkEpsilon(op: string, epsilon: number): void {
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new RangeError(`${op}: epsilon must be a finite number >= 0, received ${String(epsilon)}`);
  }
}

/**
 * Batch normalisation over the last (channel) axis: x [N,H,W,C], [N,C], or any rank >= 2
 * with channels last. y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, with
 * gamma = 1 and beta = 0 where they are null/undefined. Returns y only; layers that keep
 * running statistics use `batchNormWithStats`.
 */
export function batchNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, opts: BatchNormOpts = {}): Tensor {
  return batchNormWithStats(x, gamma, beta, opts).y;
}

/**
 * batchNorm that also returns the statistics it normalised with: in training, the batch
 * mean and biased variance (detached: no gradient flows through them, they are for
 * updating running averages); at inference, the given mean and variance.
 *
 * Gradients: training uses the BatchNormGrad kernel (the statistics depend on x);
 * inference treats mean and variance as inputs, so gradients reach x, gamma, beta and,
 * if they require one, mean and variance.
 */
export function batchNormWithStats(
  x: Tensor,
  gamma?: Tensor | null,
  beta?: Tensor | null,
  opts: BatchNormOpts = {},
): { y: Tensor; mean: Tensor; variance: Tensor } {
  const op = 'batchNorm';
  assertFloatTensor(op, 'x', x);
  if (x.rank < 2) throw new RangeError(`${op}: x must have rank >= 2 with channels last ([N,C] or [N,H,W,C]), received shape ${fmtShape(x.shape)}`);
  checkChannelParam(op, 'gamma', gamma, x);
  checkChannelParam(op, 'beta', beta, x);
  checkChannelParam(op, 'mean', opts.mean, x);
  checkChannelParam(op, 'variance', opts.variance, x);
  const epsilon = opts.epsilon ?? 1e-5;
  checkEpsilon(op, epsilon);
  const activation = opts.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu') throw new RangeError(`${op}: activation must be 'linear' or 'relu', received ${JSON.stringify(opts.activation)}`);
  const relu = activation === 'relu';
  const training = opts.training ?? !(opts.mean && opts.variance);
  const C = x.shape[x.rank - 1];
  const g = gamma ?? outputOf(Fill, [], { shape: [C], dtype: x.dtype, value: 1 });
  const b = beta ?? outputOf(Fill, [], { shape: [C], dtype: x.dtype, value: 0 });
  const params: Tensor[] = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];

  if (training) {
    const [y, m, v] = runKernel(BatchNorm, [x, g, b], { epsilon, training: true, relu });
    record(op, params, y, (dy) => {
      const [dx, dg, db] = runKernel(BatchNormGrad, relu ? [dy, x, g, m, v, y] : [dy, x, g, m, v], { epsilon, relu });
      return [dx, ...(gamma ? [dg] : []), ...(beta ? [db] : [])];
    });
    return { y, mean: m, variance: v };
  }

  if (!opts.mean || !opts.variance) {
    throw new Error(`${op}: training is false, so mean and variance (shape [${C}]) must be given`);
  }
  const m = opts.mean, v = opts.variance;
  const [y] = runKernel(BatchNorm, [x, g, b, m, v], { epsilon, training: false, relu });
  // With fixed statistics y is affine in x (before the relu): write the adjoint with ops.
  record(op, [...params, m, v], y, (dyOut) => {
    // relu: y > 0 exactly where its input was, so ReluGrad can read y for the mask
    const dy = relu ? outputOf(ReluGrad, [dyOut, y]) : dyOut;
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const invstd = div(1, sqrt(add(v, epsilon)));
    const centred = sub(x, m);
    const dsum = sum(dy, { axes });
    const dcentred = sum(mul(dy, centred), { axes });
    const out: (Tensor | null)[] = [x.requiresGrad ? mul(dy, mul(g, invstd)) : null];
    if (gamma) out.push(mul(dcentred, invstd));
    if (beta) out.push(dsum);
    out.push(m.requiresGrad ? mul(dsum, mul(g, mul(invstd, -1))) : null);
    // d/dv (v + eps)^-1/2 = -1/2 (v + eps)^-3/2
    out.push(v.requiresGrad ? mul(dcentred, mul(g, mul(mul(invstd, mul(invstd, invstd)), -0.5))) : null);
    return out;
  });
  return { y, mean: m, variance: v };
}

/**
 * Mean and biased variance over `axes` (default all), like tf.nn.moments. Composite.
 */
export function moments(x: Tensor, axes?: number | number[], opts: { keepDims?: boolean } = {}): { mean: Tensor; variance: Tensor } {
  assertFloatTensor('moments', 'x', x);
  const ax = normAxes(axes, x.rank, 'moments');
  const m = mean(x, { axes: ax, keepDims: true });
  const d = sub(x, m);
  const v = mean(mul(d, d), { axes: ax, keepDims: opts.keepDims });
  return { mean: opts.keepDims ? m : reshape(m, reducedShape(x.shape, ax, false)), variance: v };
}

export interface LayerNormOpts {
  /** Axes normalised together (default [-1]). */
  axes?: number | number[];
  /** Default 1e-5 (PyTorch). */
  epsilon?: number;
}

/**
 * Layer normalisation: over `axes` of each example, y = (x - mean) / sqrt(var + epsilon)
 * * gamma + beta with the biased variance. gamma and beta (optional) have the shape of
 * the normalised axes, in order (e.g. [C] for axes [-1], [H, W, C] for axes [1, 2, 3]).
 * Composite: gradients come from the ops it is made of.
 */
export function layerNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, opts: LayerNormOpts = {}): Tensor {
  const op = 'layerNorm';
  assertFloatTensor(op, 'x', x);
  const axes = normAxes(opts.axes ?? [-1], x.rank, op);
  if (axes.length === 0) throw new RangeError(`${op}: axes must name at least one axis`);
  const epsilon = opts.epsilon ?? 1e-5;
  checkEpsilon(op, epsilon);
  const pShape = axes.map((a) => x.shape[a]);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
  const param = (arg: string, p: Tensor | null | undefined): Tensor | null => {
    if (p === null || p === undefined) return null;
    assertFloatTensor(op, arg, p);
    if (!shapesEqual(p.shape, pShape)) {
      throw new RangeError(`${op}: ${arg} must have shape ${fmtShape(pShape)} (the normalised axes of x ${fmtShape(x.shape)}), received ${fmtShape(p.shape)}`);
    }
    if (p.dtype !== x.dtype) throw new TypeError(`${op}: ${arg} is ${p.dtype} but x is ${x.dtype}`);
    return reshape(p, keptShape);
  };
  const g = param('gamma', gamma), b = param('beta', beta);
  const m = mean(x, { axes, keepDims: true });
  const d = sub(x, m);
  const v = mean(mul(d, d), { axes, keepDims: true });
  let y = div(d, sqrt(add(v, epsilon)));
  if (g) y = mul(y, g);
  if (b) y = add(y, b);
  return y;
}

export interface LrnOpts {
  /** Channels in each window (default 5). */
  size?: number;
  /** Default 1e-4. */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 2 (AlexNet; PyTorch's default is 1). */
  k?: number;
}

/**
 * Local response normalisation across channels (last axis), PyTorch/Caffe convention:
 * y = x / (k + alpha / size * sum of x^2 over the window)^beta, the window for channel c
 * being channels c - floor(size/2) .. c + floor((size-1)/2) that exist.
 */
export function lrn(x: Tensor, opts: LrnOpts = {}): Tensor {
  assertFloatTensor('lrn', 'x', x);
  if (x.rank < 1) throw new RangeError('lrn: x must have a channel axis (last), received a scalar');
  const size = opts.size ?? 5, alpha = opts.alpha ?? 1e-4, beta = opts.beta ?? 0.75, k = opts.k ?? 2;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`lrn: size must be a positive integer, received ${size}`);
  for (const [name, v] of [['alpha', alpha], ['beta', beta], ['k', k]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`lrn: ${name} must be a finite number, received ${String(v)}`);
  }
  const attrs = { size, alpha, beta, k };
  return record('lrn', [x], outputOf(LRN, [x], attrs), (dy) => [outputOf(LRNGrad, [dy, x], attrs)]);
}

export interface DropoutOpts {
  /** Seed or generator for the mask (reproducible runs); random when omitted. */
  seed?: number | Rng;
  /** A generator to draw from (advances it); takes precedence over seed. */
  rng?: Rng;
  /** false: identity (inference). Default true. */
  training?: boolean;
}

/**
 * Inverted dropout: each element is kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), so the expected value is unchanged and inference needs no rescaling.
 * rate must be in [0, 1). Identity when training is false or rate is 0. The mask is a
 * constant, so the gradient is dy times the same mask (zero where dropped).
 */
export function dropout(x: Tensor, rate: number, opts: DropoutOpts = {}): Tensor {
  assertFloatTensor('dropout', 'x', x);
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), received ${String(rate)}`);
  if (opts.training === false || rate === 0) return identity(x);
  const rng = opts.rng ?? rngOf(opts.seed);
  const scale = 1 / (1 - rate);
  // Drawn chunk by chunk into the mask's storage (no whole float64 mask on the JS heap).
  const mask = fromChunks('dropout', x.shape, x.dtype, (chunk) => {
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.next() >= rate ? scale : 0;
  });
  return mul(x, mask);
}
