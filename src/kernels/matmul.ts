/**
 * Matrix product, the kernel behind dense layers and every GEMM-shaped computation.
 *
 *   MatMul   y[p] = op(a[p]) @ op(b[p]),  op = transpose when asked
 *
 * a is [M,K] (or [K,M] with transposeA), b is [K,N] (or [N,K] with transposeB), y is [M,N];
 * either side may carry a leading batch axis, and a batch of 1 broadcasts. The op
 * (src/ops/matmul.ts) writes the gradient: dA = dY op(B)^T, dB = op(A)^T dY, with the
 * transposes folded into the flags.
 */
import { allocArray } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { defineKernel, expectRank, expectSameDtype } from './kernel.js';

export interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** The product's sizes, read from the operand shapes (the one place that does it). */
export interface MatMulGeometry {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Elements between batch entries of a and b (0 where that side broadcasts). */
  aBatchStride: number;
  bBatchStride: number;
  /** [M,N], or [batch,M,N] when either operand has a batch axis. */
  outShape: number[];
}

export function matmulGeometry(aShape: readonly number[], bShape: readonly number[], { transposeA, transposeB }: MatMulAttrs): MatMulGeometry {
  const batched = aShape.length === 3 || bShape.length === 3;
  const as = aShape.length === 3 ? aShape : [1, ...aShape];
  const bs = bShape.length === 3 ? bShape : [1, ...bShape];
  const batch = Math.max(as[0], bs[0]);
  const M = transposeA ? as[2] : as[1], K = transposeA ? as[1] : as[2];
  const N = transposeB ? bs[1] : bs[2];
  return {
    batch, M, N, K,
    aBatchStride: as[0] === 1 ? 0 : M * K,
    bBatchStride: bs[0] === 1 ? 0 : K * N,
    outShape: batched ? [batch, M, N] : [M, N],
  };
}

/**
 * Why a and b cannot be multiplied, or null when they can (ranks 2..3, equal inner
 * dimensions, batches equal or 1). The op and the kernel contract share it.
 */
export function matmulShapeError(op: string, aShape: readonly number[], bShape: readonly number[], { transposeA: ta, transposeB: tb }: MatMulAttrs): string | null {
  if (aShape.length < 2 || aShape.length > 3) return `${op}: a must have rank 2 or 3, received shape ${fmtShape(aShape)}`;
  if (bShape.length < 2 || bShape.length > 3) return `${op}: b must have rank 2 or 3, received shape ${fmtShape(bShape)}`;
  const ka = ta ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
  const kb = tb ? bShape[bShape.length - 1] : bShape[bShape.length - 2];
  if (ka !== kb) {
    return `${op}: inner dimensions differ: a ${fmtShape(aShape)}${ta ? ' (transposed)' : ''} has K=${ka}, b ${fmtShape(bShape)}${tb ? ' (transposed)' : ''} has K=${kb}`;
  }
  if (aShape.length === 3 && bShape.length === 3 && aShape[0] !== bShape[0] && aShape[0] !== 1 && bShape[0] !== 1) {
    return `${op}: batch sizes differ: a ${fmtShape(aShape)}, b ${fmtShape(bShape)}`;
  }
  return null;
}

export const MatMul = defineKernel<MatMulAttrs>({
  name: 'MatMul',
  inputs: ['a', 'b'],
  check([a, b], attrs) {
    expectRank('MatMul', 'a', a, [2, 3]);
    expectRank('MatMul', 'b', b, [2, 3]);
    expectSameDtype('MatMul', ['a', 'b'], [a, b]);
    const why = matmulShapeError('MatMul', a.shape, b.shape, attrs);
    if (why) throw new RangeError(why);
  },
  // The triple loop accumulates in float64 so the oracle does not drift for long reductions.
  reference([a, b], attrs) {
    const { batch, M, N, K, aBatchStride, bBatchStride, outShape } = matmulGeometry(a.shape, b.shape, attrs);
    const ta = attrs.transposeA, tb = attrs.transposeB;
    const av = a.values, bv = b.values;
    const y = allocArray(a.dtype, batch * M * N, outShape);
    for (let p = 0; p < batch; p++) {
      const ao = p * aBatchStride, bo = p * bBatchStride;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += av[ao + (ta ? k * M + i : i * K + k)] * bv[bo + (tb ? j * K + k : k * N + j)];
          y[p * M * N + i * N + j] = s;
        }
      }
    }
    return { values: y, shape: outShape, dtype: a.dtype };
  },
});
