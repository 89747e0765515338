/**
 * Normalisation kernels: batch norm (training and inference) with its training gradient,
 * and local response normalisation with its gradient. Channels are the last axis; every
 * other axis counts as a batch axis, so x is viewed as [M, C]. Statistics accumulate in
 * double.
 *
 *   BatchNorm (training)   [x, gamma, beta] -> [y, mean, variance], mean and the biased
 *                          variance over the M rows, y = gamma (x - mean) / sqrt(variance + epsilon) + beta
 *   BatchNorm (inference)  [x, gamma, beta, mean, variance] -> [y], the same y with the given statistics
 *                          (either mode, attrs.relu: y = relu(that y) in the same pass, Relu's values)
 *   BatchNormGrad          [dy, x, gamma, mean, variance] -> [dx, dgamma, dbeta] (training mode: the
 *                          statistics are x's own), per channel with xhat = (x - mean) invstd:
 *                          dbeta = sum dy, dgamma = sum dy xhat,
 *                          dx = gamma invstd / M (M dy - dbeta - xhat dgamma)
 *                          attrs.relu: a sixth input y, the fused forward's output, and every dy
 *                          above is first ReluGrad's (y > 0 ? dy : 0): the gradient of relu(batch norm)
 *   LRN                    [x] -> y = x D^-beta, D_c = k + alpha / size sum_{j in window(c)} x_j^2,
 *                          window(c) = [c - floor(size/2), c + floor((size-1)/2)] clipped to the channels
 *                          (PyTorch LocalResponseNorm, Caffe ACROSS_CHANNELS)
 *   LRNGrad                [dy, x] -> dx_j = dy_j D_j^-beta
 *                          - 2 beta alpha / size x_j sum_{c : j in window(c)} dy_c x_c D_c^(-beta-1)
 */
import type { TensorInfo } from '../tensor/backend.js';
import { allocArray } from '../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { defineKernel, expectSameDtype, expectShape, type HostTensor } from './kernel.js';

export interface BatchNormAttrs {
  epsilon: number;
  /** true: normalise with x's own statistics and return them; false: with the given ones. */
  training: boolean;
  /**
   * true: y = relu(batch norm of x), one pass instead of two (the layer graph fuses a ReLU
   * that follows a batch norm in training). Default false.
   */
  relu?: boolean;
}
export interface BatchNormGradAttrs {
  epsilon: number;
  /** true: the gradient of relu(batch norm): inputs gain y, BatchNorm's fused output, which masks dy. Default false. */
  relu?: boolean;
}

/** Relu's value (src/kernels/activation.ts): NaN stays NaN. */
const reluOf = (v: number) => (v > 0 ? v : Number.isNaN(v) ? v : 0);
export interface LrnAttrs {
  /** Channels in each window. */
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** x viewed as [M, C] rows of channels (channels last). */
export function channelRows(shape: readonly number[]): { M: number; C: number } {
  const C = shape[shape.length - 1];
  let size = 1;
  for (const d of shape) size *= d;
  return { M: C === 0 ? 0 : size / C, C };
}

/** x needs a (last) channel axis. */
function expectChannelAxis(kernel: string, x: TensorInfo): void {
  if (x.shape.length < 1) throw new RangeError(`${kernel}: x must have a channel axis (last), received a scalar`);
}

/** Every tensor in `ts` must be [C] (the channels of x). */
function expectChannels(kernel: string, names: readonly string[], ts: readonly TensorInfo[], x: TensorInfo): void {
  const C = x.shape[x.shape.length - 1];
  ts.forEach((t, i) => {
    if (!shapesEqual(t.shape, [C])) throw new RangeError(`${kernel}: ${names[i]} has shape ${fmtShape(t.shape)}, expected [${C}] (the channels of x ${fmtShape(x.shape)})`);
  });
}

/** Per-channel mean and biased variance of x viewed as [M, C] (two passes: no cancellation). */
function channelStats(xv: ArrayLike<number>, M: number, C: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(C), variance = new Float64Array(C);
  for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) mean[c] += xv[m * C + c];
  for (let c = 0; c < C; c++) mean[c] /= M;
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) {
      const d = xv[m * C + c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (let c = 0; c < C; c++) variance[c] /= M;
  return { mean, variance };
}

/**
 * Fused, inference included: the composite (x - mean) gamma / sqrt(variance + epsilon) + beta
 * (src/ops/composites.ts) took 2.1x (2.1x) the fused time at [32,28,28,64] on wasm
 * (bench/cases.ts 'composite' rows, two runs, AMD EPYC, 2 cores shared, Node 20; `npm run bench -- --kernel-only --impl convkit-wasm --filter composite`).
 */
export const BatchNorm = defineKernel<BatchNormAttrs>({
  name: 'BatchNorm',
  inputs: ['x', 'gamma', 'beta', 'mean', 'variance'],
  check(inputs, { training }) {
    const names = training ? ['x', 'gamma', 'beta'] : ['x', 'gamma', 'beta', 'mean', 'variance'];
    if (inputs.length !== names.length) throw new RangeError(`BatchNorm: expected ${names.length} inputs (${names.join(', ')}) with training ${training}, received ${inputs.length}`);
    expectChannelAxis('BatchNorm', inputs[0]);
    expectChannels('BatchNorm', names.slice(1), inputs.slice(1), inputs[0]);
    expectSameDtype('BatchNorm', names, inputs);
  },
  reference(inputs, { epsilon: eps, training, relu }) {
    const [x, gamma, beta] = inputs;
    const { M, C } = channelRows(x.shape);
    const xv = x.values, gv = gamma.values, bv = beta.values;
    let mean: ArrayLike<number>, variance: ArrayLike<number>;
    if (training) ({ mean, variance } = channelStats(xv, M, C));
    else [mean, variance] = [inputs[3].values, inputs[4].values];
    const scale = new Float64Array(C);
    for (let c = 0; c < C; c++) scale[c] = gv[c] / Math.sqrt(variance[c] + eps);
    const y = allocArray(x.dtype, xv.length, x.shape);
    // (x - mean) * scale + beta, written so that NaN in x stays NaN.
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) y[m * C + c] = (xv[m * C + c] - mean[c]) * scale[c] + bv[c];
    if (relu) for (let i = 0; i < y.length; i++) y[i] = reluOf(y[i]);
    const yOut: HostTensor = { values: y, shape: x.shape, dtype: x.dtype };
    if (!training) return [yOut];
    const mOut = allocArray(x.dtype, C), vOut = allocArray(x.dtype, C);
    mOut.set(mean);
    vOut.set(variance);
    return [yOut, { values: mOut, shape: [C], dtype: x.dtype }, { values: vOut, shape: [C], dtype: x.dtype }];
  },
});

export const BatchNormGrad = defineKernel<BatchNormGradAttrs>({
  name: 'BatchNormGrad',
  inputs: ['dy', 'x', 'gamma', 'mean', 'variance', 'y'],
  check(inputs, { relu }) {
    const names = ['dy', 'x', 'gamma', 'mean', 'variance', ...(relu ? ['y'] : [])];
    if (inputs.length !== names.length) throw new RangeError(`BatchNormGrad: expected ${names.length} inputs (${names.join(', ')}) with relu ${Boolean(relu)}, received ${inputs.length}`);
    const [dy, x] = inputs;
    expectShape('BatchNormGrad', 'dy', dy, x.shape);
    expectChannels('BatchNormGrad', names.slice(2, 5), inputs.slice(2, 5), x);
    if (relu) expectShape('BatchNormGrad', 'y', inputs[5], x.shape);
    expectSameDtype('BatchNormGrad', names, inputs);
  },
  reference([dyIn, x, gamma, mean, variance, y], { epsilon: eps, relu }) {
    const { M, C } = channelRows(x.shape);
    // relu: ReluGrad's dy (y > 0 exactly where relu's input was)
    const dv = relu ? Float64Array.from(dyIn.values, (d, i) => (y.values[i] > 0 ? d : 0)) : dyIn.values;
    const xv = x.values, gv = gamma.values, mv = mean.values, vv = variance.values;
    const invstd = new Float64Array(C), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
    for (let c = 0; c < C; c++) invstd[c] = 1 / Math.sqrt(vv[c] + eps);
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < C; c++) {
        const i = m * C + c;
        dbeta[c] += dv[i];
        dgamma[c] += dv[i] * (xv[i] - mv[c]) * invstd[c];
      }
    }
    const dx = allocArray(x.dtype, xv.length, x.shape);
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < C; c++) {
        const i = m * C + c;
        const xhat = (xv[i] - mv[c]) * invstd[c];
        dx[i] = ((gv[c] * invstd[c]) / M) * (M * dv[i] - dbeta[c] - xhat * dgamma[c]);
      }
    }
    const dg = allocArray(x.dtype, C), db = allocArray(x.dtype, C);
    dg.set(dgamma);
    db.set(dbeta);
    return [
      { values: dx, shape: x.shape, dtype: x.dtype },
      { values: dg, shape: [C], dtype: x.dtype },
      { values: db, shape: [C], dtype: x.dtype },
    ];
  },
});

// ------------------------------------------------------------------ LRN

function checkLrnAttrs(kernel: string, { size }: LrnAttrs): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`${kernel}: size must be a positive integer, received ${String(size)}`);
}

/** D for every element (see the module comment); the gradient needs it too. */
function lrnDenominator(xv: ArrayLike<number>, C: number, { size, alpha, k }: LrnAttrs): Float64Array {
  const before = Math.floor(size / 2), after = Math.floor((size - 1) / 2);
  const d = new Float64Array(xv.length);
  const rows = C === 0 ? 0 : xv.length / C;
  for (let r = 0; r < rows; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = Math.max(0, c - before); j <= Math.min(C - 1, c + after); j++) s += xv[base + j] * xv[base + j];
      d[base + c] = k + (alpha / size) * s;
    }
  }
  return d;
}

/**
 * Fused: the composite (window sums as a product with a [C, C] band matrix, then
 * x (k + alpha / size s)^-beta; src/ops/composites.ts) took 2.65x (3.7x) the fused time
 * forward and 2.65x (3.9x) forward + backward at AlexNet's [8,27,27,96] on wasm
 * (bench/cases.ts 'composite' rows, two runs, AMD EPYC, 2 cores shared, Node 20; `npm run bench -- --kernel-only --impl convkit-wasm --filter composite`).
 */
export const LRN = defineKernel<LrnAttrs>({
  name: 'LRN',
  inputs: ['x'],
  check([x], attrs) {
    expectChannelAxis('LRN', x);
    checkLrnAttrs('LRN', attrs);
  },
  reference([x], attrs) {
    const C = x.shape[x.shape.length - 1];
    const xv = x.values;
    const d = lrnDenominator(xv, C, attrs);
    const y = allocArray(x.dtype, xv.length, x.shape);
    for (let i = 0; i < xv.length; i++) y[i] = xv[i] * Math.pow(d[i], -attrs.beta);
    return { values: y, shape: x.shape, dtype: x.dtype };
  },
});

/** j is in window(c) exactly when c is in [j - floor((size-1)/2), j + floor(size/2)]. */
export const LRNGrad = defineKernel<LrnAttrs>({
  name: 'LRNGrad',
  inputs: ['dy', 'x'],
  check([dy, x], attrs) {
    expectChannelAxis('LRNGrad', x);
    expectShape('LRNGrad', 'dy', dy, x.shape);
    expectSameDtype('LRNGrad', ['dy', 'x'], [dy, x]);
    checkLrnAttrs('LRNGrad', attrs);
  },
  reference([dy, x], attrs) {
    const { size, alpha, beta } = attrs;
    const C = x.shape[x.shape.length - 1];
    const xv = x.values, dv = dy.values;
    const d = lrnDenominator(xv, C, attrs);
    const before = Math.floor(size / 2), after = Math.floor((size - 1) / 2);
    // t_c = dy_c x_c D_c^(-beta-1), the part every channel in c's window shares.
    const t = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) t[i] = dv[i] * xv[i] * Math.pow(d[i], -beta - 1);
    const dx = allocArray(x.dtype, xv.length, x.shape);
    const rows = C === 0 ? 0 : xv.length / C;
    const coef = (2 * beta * alpha) / size;
    for (let r = 0; r < rows; r++) {
      const base = r * C;
      for (let j = 0; j < C; j++) {
        let s = 0;
        for (let c = Math.max(0, j - after); c <= Math.min(C - 1, j + before); c++) s += t[base + c];
        dx[base + j] = dv[base + j] * Math.pow(d[base + j], -beta) - coef * xv[base + j] * s;
      }
    }
    return { values: dx, shape: x.shape, dtype: x.dtype };
  },
});
