/**
 * Fused softmax cross-entropy over the last axis, forward and gradient: logits [N, K],
 * labels [N, K] one-hot or soft (rows of probabilities), dloss [N]. K = the class count.
 */
import fc from 'fast-check';
import type { CaseInput, CaseTable, KernelCase, SizeContext } from '../harness.js';
import { dim, f32, seed, smallDim } from './common.js';
import { rand } from '../../util/rand.mjs';

function labels(N: number, K: number, s: number, soft: boolean): CaseInput & { values: Float32Array } {
  const r = rand(N * K, s, 0, 1);
  const v = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    if (soft) {
      let t = 0;
      for (let k = 0; k < K; k++) t += r[n * K + k];
      for (let k = 0; k < K; k++) v[n * K + k] = r[n * K + k] / t;
    } else v[n * K + Math.min(K - 1, Math.floor(r[n * K] * K))] = 1;
  }
  return { values: v, shape: [N, K] };
}

function cases(withGrad: boolean) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> =>
    fc.tuple(smallDim(ctx), dim(ctx), fc.boolean(), seed).map(([N, K, soft, s]) => {
      const t = labels(N, K, s + 1, soft);
      const z = f32([N, K], s, -10, 10);
      // one-hot rows: -Infinity in a class that is not the target (the loss stays finite)
      if (!soft && K > 1) for (let n = 0; n < N; n += 2) z.values[n * K + ((Array.from(t.values.slice(n * K, n * K + K)).indexOf(1) + 1) % K)] = -Infinity;
      return { inputs: [...(withGrad ? [f32([N], s + 2)] : []), z, t], K };
    });
}

export const lossCases: CaseTable = {
  SoftmaxCrossEntropy: { cases: cases(false), tol: 5e-7, webgpuTol: 2e-6 },
  SoftmaxCrossEntropyGrad: { cases: cases(true), tol: 5e-7, webgpuTol: 2e-6 },
};
