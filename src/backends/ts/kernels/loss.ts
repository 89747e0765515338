/**
 * Fused loss kernels on `ts`: softmax cross-entropy over the last axis, forward and
 * gradient, so a training step does not materialise softmax, log and one-hot products.
 */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { out, vals } from '../backend.js';

/**
 * 'SoftmaxCrossEntropy': inputs [logits [N, K], labels [N, K] (one-hot or probabilities,
 * logits' dtype)], no attrs -> loss [N] with
 *   loss_n = -sum_k labels_nk * logSoftmax(logits_n)_k = sum_k labels_nk * (log s_n - (logits_nk - max_n)),
 * s_n = sum exp(logits_n - max_n): the max is taken out of the logit, not added to log s
 * (max + log s rounds to max when |max| is large: logits of 1e7 in float32 would lose
 * log s, as in activation.ts). Terms with label 0 are skipped, so a -Infinity
 * logit in a class that is not the target does not turn the row into NaN.
 */
registerKernel({
  kernelName: 'SoftmaxCrossEntropy',
  backendName: 'ts',
  kernelFunc: ([logits, labels], _attrs, be) => {
    const [N, K] = logits.shape;
    const zv = vals(logits), tv = vals(labels);
    const loss = allocArray(logits.dtype, N);
    for (let n = 0; n < N; n++) {
      const row = n * K;
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, zv[row + k]);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(zv[row + k] - m);
      const ls = Math.log(s);
      let l = 0;
      for (let k = 0; k < K; k++) if (tv[row + k] !== 0) l += tv[row + k] * (ls - (zv[row + k] - m));
      loss[n] = l;
    }
    return out(be, loss, [N], logits.dtype);
  },
});

/**
 * 'SoftmaxCrossEntropyGrad': inputs [dloss [N], logits [N, K], labels [N, K]], no attrs
 * -> dlogits [N, K] = dloss_n * (softmax(logits_n)_k * sum_j labels_nj - labels_nk)
 * (softmax - labels when each label row sums to 1).
 */
registerKernel({
  kernelName: 'SoftmaxCrossEntropyGrad',
  backendName: 'ts',
  kernelFunc: ([dloss, logits, labels], _attrs, be) => {
    const [N, K] = logits.shape;
    const gv = vals(dloss), zv = vals(logits), tv = vals(labels);
    const dz = allocArray(logits.dtype, N * K);
    for (let n = 0; n < N; n++) {
      const row = n * K;
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, zv[row + k]);
      let s = 0, tsum = 0;
      for (let k = 0; k < K; k++) {
        s += Math.exp(zv[row + k] - m);
        tsum += tv[row + k];
      }
      for (let k = 0; k < K; k++) dz[row + k] = gv[n] * ((Math.exp(zv[row + k] - m) / s) * tsum - tv[row + k]);
    }
    return out(be, dz, [N, K], logits.dtype);
  },
});
