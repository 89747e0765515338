/**
 * Matrix product. Shapes: a [M,K] (or [K,M] with transposeA), b [K,N] (or [N,K] with
 * transposeB), y [M,N]; a leading batch dim on either side is allowed.
 * Gradients: dA = dY B^T, dB = A^T dY, with the transposes folded into the flags.
 */
import { record } from '../autograd/reverse_mode.js';
import { MatMul, matmulShapeError } from '../kernels/matmul.js';
import { outputOf } from '../registry/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import { sum } from './reduce.js';
import { assertTensor } from './arg_checks.js';

export interface MatMulOpts {
  transposeA?: boolean;
  transposeB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, opts: MatMulOpts = {}): Tensor {
  const ta = !!opts.transposeA, tb = !!opts.transposeB;
  assertTensor('matmul', 'a', a);
  assertTensor('matmul', 'b', b);
  if (a.dtype !== b.dtype) throw new TypeError(`matmul: dtypes differ (a ${a.dtype}, b ${b.dtype})`);
  const attrs = { transposeA: ta, transposeB: tb };
  const why = matmulShapeError('matmul', a.shape, b.shape, attrs);
  if (why) throw new RangeError(why);
  const y = outputOf(MatMul, [a, b], attrs);
  return record('matmul', [a, b], y, (dy) => {
    // dA = dY op(B)^T, arranged to A's layout; dB = op(A)^T dY, arranged to B's layout.
    let da = a.requiresGrad ? (ta ? outputOf(MatMul, [b, dy], { transposeA: tb, transposeB: true }) : outputOf(MatMul, [dy, b], { transposeA: false, transposeB: !tb })) : null;
    let db = b.requiresGrad ? (tb ? outputOf(MatMul, [dy, a], { transposeA: true, transposeB: ta }) : outputOf(MatMul, [a, dy], { transposeA: !ta, transposeB: false })) : null;
    // A side that was broadcast over the batch gets its gradient summed over it.
    if (da && da.rank !== a.rank) da = sum(da, { axes: 0 });
    else if (da && a.rank === 3 && a.shape[0] === 1 && da.shape[0] !== 1) da = sum(da, { axes: 0, keepDims: true });
    if (db && db.rank !== b.rank) db = sum(db, { axes: 0 });
    else if (db && b.rank === 3 && b.shape[0] === 1 && db.shape[0] !== 1) db = sum(db, { axes: 0, keepDims: true });
    return [da, db];
  });
}
