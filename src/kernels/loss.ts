/**
 * Fused loss kernels: softmax cross-entropy over the last axis, forward and gradient, so a
 * training step does not materialise softmax, log and one-hot products.
 *
 *   SoftmaxCrossEntropy      [logits [N, K], labels [N, K]] -> loss [N],
 *                            loss_n = -sum_k labels_nk logSoftmax(logits_n)_k
 *   SoftmaxCrossEntropyGrad  [dloss [N], logits [N, K], labels [N, K]] -> dlogits [N, K],
 *                            dlogits_nk = dloss_n (softmax(logits_n)_k sum_j labels_nj - labels_nk)
 *                            (softmax - labels when each label row sums to 1)
 *
 * labels are one-hot rows or probabilities, in the logits' dtype.
 */
import { allocArray } from '../tensor/dtype.js';
import { defineKernel, expectRank, expectSameDtype, expectShape } from './kernel.js';

type NoAttrs = Record<string, never>;

/**
 * loss_n = sum_k labels_nk * (log s_n - (logits_nk - max_n)), s_n = sum exp(logits_n - max_n):
 * the max is taken out of the logit, not added to log s (max + log s rounds to max when
 * |max| is large: logits of 1e7 in float32 would lose log s, as in activation.ts). Terms
 * with label 0 are skipped, so a -Infinity logit in a class that is not the target does not
 * turn the row into NaN.
 */
export const SoftmaxCrossEntropy = defineKernel<NoAttrs>({
  name: 'SoftmaxCrossEntropy',
  inputs: ['logits', 'labels'],
  check([logits, labels]) {
    expectRank('SoftmaxCrossEntropy', 'logits', logits, 2);
    expectShape('SoftmaxCrossEntropy', 'labels', labels, logits.shape);
    expectSameDtype('SoftmaxCrossEntropy', ['logits', 'labels'], [logits, labels]);
  },
  reference([logits, labels]) {
    const [N, K] = logits.shape;
    const zv = logits.values, tv = labels.values;
    const loss = allocArray(logits.dtype, N, [N]);
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
    return { values: loss, shape: [N], dtype: logits.dtype };
  },
});

export const SoftmaxCrossEntropyGrad = defineKernel<NoAttrs>({
  name: 'SoftmaxCrossEntropyGrad',
  inputs: ['dloss', 'logits', 'labels'],
  check([dloss, logits, labels]) {
    expectRank('SoftmaxCrossEntropyGrad', 'logits', logits, 2);
    expectShape('SoftmaxCrossEntropyGrad', 'dloss', dloss, [logits.shape[0]]);
    expectShape('SoftmaxCrossEntropyGrad', 'labels', labels, logits.shape);
    expectSameDtype('SoftmaxCrossEntropyGrad', ['dloss', 'logits', 'labels'], [dloss, logits, labels]);
  },
  reference([dloss, logits, labels]) {
    const [N, K] = logits.shape;
    const gv = dloss.values, zv = logits.values, tv = labels.values;
    const dz = allocArray(logits.dtype, N * K, [N, K]);
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
    return { values: dz, shape: [N, K], dtype: logits.dtype };
  },
});
