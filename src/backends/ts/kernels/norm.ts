/**
 * Normalisation kernels on `ts`: batch norm (training and inference) with its training
 * gradient, and local response normalisation with its gradient. Channels are the last
 * axis; every other axis counts as a batch axis. Statistics accumulate in double.
 */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { out, vals } from '../backend.js';

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
 * 'BatchNorm'
 * - training (attrs.training = true): inputs [x [..., C], gamma [C], beta [C]],
 *   attrs { epsilon, training: true } -> [y, mean [C], variance [C]] where mean and the
 *   biased variance are taken over every axis but the last, and
 *   y = gamma * (x - mean) / sqrt(variance + epsilon) + beta.
 * - inference (attrs.training = false): inputs [x, gamma, beta, mean [C], variance [C]],
 *   attrs { epsilon, training: false } -> [y] using the given statistics.
 */
registerKernel({
  kernelName: 'BatchNorm',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const [x, gamma, beta] = inputs;
    const eps = attrs.epsilon as number;
    const training = attrs.training as boolean;
    const C = x.shape[x.shape.length - 1];
    const xv = vals(x), gv = vals(gamma), bv = vals(beta);
    const M = C === 0 ? 0 : xv.length / C;
    let mean: ArrayLike<number>, variance: ArrayLike<number>;
    if (training) ({ mean, variance } = channelStats(xv, M, C));
    else [mean, variance] = [vals(inputs[3]), vals(inputs[4])];
    const scale = new Float64Array(C), shift = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      scale[c] = gv[c] / Math.sqrt(variance[c] + eps);
      shift[c] = bv[c] - mean[c] * scale[c];
    }
    const y = allocArray(x.dtype, xv.length);
    // (x - mean) * scale + beta, written so that NaN in x stays NaN.
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) y[m * C + c] = (xv[m * C + c] - mean[c]) * scale[c] + bv[c];
    const yInfo = out(be, y, x.shape, x.dtype);
    if (!training) return [yInfo];
    const mOut = allocArray(x.dtype, C), vOut = allocArray(x.dtype, C);
    mOut.set(mean);
    vOut.set(variance);
    return [yInfo, out(be, mOut, [C], x.dtype), out(be, vOut, [C], x.dtype)];
  },
});

/**
 * 'BatchNormGrad' (training mode: the statistics are x's own batch statistics):
 * inputs [dy, x, gamma [C], mean [C], variance [C]], attrs { epsilon }
 * -> [dx, dgamma [C], dbeta [C]] with, per channel over the M = size / C rows,
 *   xhat = (x - mean) * invstd, dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma).
 */
registerKernel({
  kernelName: 'BatchNormGrad',
  backendName: 'ts',
  kernelFunc: ([dy, x, gamma, mean, variance], attrs, be) => {
    const eps = attrs.epsilon as number;
    const C = x.shape[x.shape.length - 1];
    const dv = vals(dy), xv = vals(x), gv = vals(gamma), mv = vals(mean), vv = vals(variance);
    const M = C === 0 ? 0 : xv.length / C;
    const invstd = new Float64Array(C), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
    for (let c = 0; c < C; c++) invstd[c] = 1 / Math.sqrt(vv[c] + eps);
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < C; c++) {
        const i = m * C + c;
        dbeta[c] += dv[i];
        dgamma[c] += dv[i] * (xv[i] - mv[c]) * invstd[c];
      }
    }
    const dx = allocArray(x.dtype, xv.length);
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
    return [out(be, dx, x.shape, x.dtype), out(be, dg, [C], x.dtype), out(be, db, [C], x.dtype)];
  },
});

/**
 * Local response normalisation across channels (PyTorch LocalResponseNorm, Caffe
 * ACROSS_CHANNELS): channel c's window is [c - floor(size/2), c + floor((size-1)/2)]
 * clipped to the channels that exist, and
 *   D_c = k + alpha / size * sum_{j in window(c)} x_j^2,   y_c = x_c * D_c^-beta.
 * Returns D for every element (the gradient kernel needs it too).
 */
function lrnDenominator(xv: ArrayLike<number>, C: number, size: number, alpha: number, k: number): Float64Array {
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

/** 'LRN': [x [..., C]], { size, alpha, beta, k } -> y = x * D^-beta (see lrnDenominator). */
registerKernel({
  kernelName: 'LRN',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const { size, alpha, beta, k } = attrs as { size: number; alpha: number; beta: number; k: number };
    const C = x.shape[x.shape.length - 1];
    const xv = vals(x);
    const d = lrnDenominator(xv, C, size, alpha, k);
    const y = allocArray(x.dtype, xv.length);
    for (let i = 0; i < xv.length; i++) y[i] = xv[i] * Math.pow(d[i], -beta);
    return out(be, y, x.shape, x.dtype);
  },
});

/**
 * 'LRNGrad': [dy, x], { size, alpha, beta, k } -> dx with
 *   dx_j = dy_j D_j^-beta - 2 beta alpha / size * x_j * sum_{c : j in window(c)} dy_c x_c D_c^(-beta-1),
 * where j is in window(c) exactly when c is in [j - floor((size-1)/2), j + floor(size/2)].
 */
registerKernel({
  kernelName: 'LRNGrad',
  backendName: 'ts',
  kernelFunc: ([dy, x], attrs, be) => {
    const { size, alpha, beta, k } = attrs as { size: number; alpha: number; beta: number; k: number };
    const C = x.shape[x.shape.length - 1];
    const xv = vals(x), dv = vals(dy);
    const d = lrnDenominator(xv, C, size, alpha, k);
    const before = Math.floor(size / 2), after = Math.floor((size - 1) / 2);
    // t_c = dy_c x_c D_c^(-beta-1), the part every channel in c's window shares.
    const t = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) t[i] = dv[i] * xv[i] * Math.pow(d[i], -beta - 1);
    const dx = allocArray(x.dtype, xv.length);
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
    return out(be, dx, x.shape, x.dtype);
  },
});
