/**
 * The activations and normalisations that have fused kernels (Elu, LeakyRelu, Step, LRN,
 * inference-mode batch norm), written as composites of primitive ops: the
 * same maths, differentiated through the ops they are made of, with no kernel and no
 * gradient kernel of their own.
 *
 * A fused kernel stays only where it is measurably faster than its composite: bench/cases.ts
 * times each pair in the same interleaved rounds ('fused vs composite' rows; `npm run
 * bench -- --quick --kernel-only --impl convkit-wasm --filter composite`), and the comment
 * beside each fused kernel's contract (src/kernels/activation.ts, norm.ts) gives the ratio
 * that keeps it. test/ops/composites.test.ts holds these to the fused kernels' values.
 *
 * Inputs are assumed checked by the op (float tensors, valid attrs).
 */
import { add, affine, expm1, greater, greaterEqual, isNaN, minimum, mul, pow, sqrt, square, sub, where } from './elementwise.js';
import { tensor } from './creation.js';
import { matmul } from './matmul.js';
import { reshape } from './shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** x > 0 ? x : alpha x (slope alpha at 0 and below; NaN: alpha NaN = NaN). */
export function leakyReluComposite(x: Tensor, alpha: number): Tensor {
  return where(greater(x, 0), x, affine(x, alpha));
}

/**
 * x > 0 ? x : alpha expm1(x). The argument is min(x, 0) so that the branch where() does
 * not take never overflows (its gradient would be 0 * inf = NaN).
 */
export function eluComposite(x: Tensor, alpha: number): Tensor {
  return where(greater(x, 0), x, affine(expm1(minimum(x, 0)), alpha));
}

/** x >= 0 ? 1 : 0, NaN kept. */
export function stepComposite(x: Tensor): Tensor {
  return where(isNaN(x), x, greaterEqual(x, 0));
}

/**
 * LRN across the last axis: the window sums of x^2 as one product with a band matrix
 * B [C, C] (B[j, c] = 1 when channel j is in channel c's window), then
 * y = x (k + alpha / size s)^-beta.
 */
export function lrnComposite(x: Tensor, { size, alpha, beta, k }: { size: number; alpha: number; beta: number; k: number }): Tensor {
  const C = x.shape[x.rank - 1];
  const M = C === 0 ? 0 : x.size / C;
  const before = Math.floor(size / 2), after = Math.floor((size - 1) / 2);
  const band = new Float64Array(C * C);
  for (let c = 0; c < C; c++) for (let j = Math.max(0, c - before); j <= Math.min(C - 1, c + after); j++) band[j * C + c] = 1;
  const s = reshape(matmul(reshape(square(x), [M, C]), tensor(band, [C, C], x.dtype)), x.shape);
  return mul(x, pow(affine(s, alpha / size, k), -beta));
}

/** Inference batch norm: (x - mean) gamma / sqrt(variance + epsilon) + beta, channels last. */
export function batchNormInferenceComposite(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor {
  const scale = mul(gamma, pow(sqrt(affine(variance, 1, epsilon)), -1));
  return add(mul(sub(x, mean), scale), beta);
}
