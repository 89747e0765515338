/**
 * Matrix product. Shapes: a [M,K] (or [K,M] with transposeA), b [K,N] (or [N,K] with
 * transposeB), y [M,N]; a leading batch dim on either side is allowed.
 * Gradients: dA = dY B^T, dB = A^T dY, with the transposes folded into the flags.
 */
import { record } from '../autograd/tape.js';
import { run1 } from '../registry/engine.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { sum } from './reduce.js';
import { assertTensor } from './nn_checks.js';

export interface MatMulOpts {
  transposeA?: boolean;
  transposeB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, opts: MatMulOpts = {}): Tensor {
  const ta = !!opts.transposeA, tb = !!opts.transposeB;
  assertTensor('matmul', 'a', a);
  assertTensor('matmul', 'b', b);
  if (a.rank < 2 || a.rank > 3) throw new RangeError(`matmul: a must have rank 2 or 3, received shape ${fmtShape(a.shape)}`);
  if (b.rank < 2 || b.rank > 3) throw new RangeError(`matmul: b must have rank 2 or 3, received shape ${fmtShape(b.shape)}`);
  if (a.dtype !== b.dtype) throw new TypeError(`matmul: dtypes differ (a ${a.dtype}, b ${b.dtype})`);
  const ka = ta ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const kb = tb ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  if (ka !== kb) {
    throw new RangeError(`matmul: inner dimensions differ: a ${fmtShape(a.shape)}${ta ? ' (transposed)' : ''} has K=${ka}, b ${fmtShape(b.shape)}${tb ? ' (transposed)' : ''} has K=${kb}`);
  }
  if (a.rank === 3 && b.rank === 3 && a.shape[0] !== b.shape[0] && a.shape[0] !== 1 && b.shape[0] !== 1) {
    throw new RangeError(`matmul: batch sizes differ: a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`);
  }
  const y = run1('MatMul', [a, b], { transposeA: ta, transposeB: tb });
  return record('matmul', [a, b], y, (dy) => {
    // dA = dY op(B)^T, arranged to A's layout; dB = op(A)^T dY, arranged to B's layout.
    let da = a.requiresGrad ? (ta ? run1('MatMul', [b, dy], { transposeA: tb, transposeB: true }) : run1('MatMul', [dy, b], { transposeA: false, transposeB: !tb })) : null;
    let db = b.requiresGrad ? (tb ? run1('MatMul', [dy, a], { transposeA: true, transposeB: ta }) : run1('MatMul', [a, dy], { transposeA: !ta, transposeB: false })) : null;
    // A side that was broadcast over the batch gets its gradient summed over it.
    if (da && da.rank !== a.rank) da = sum(da, { axes: 0 });
    else if (da && a.rank === 3 && a.shape[0] === 1 && da.shape[0] !== 1) da = sum(da, { axes: 0, keepDims: true });
    if (db && db.rank !== b.rank) db = sum(db, { axes: 0 });
    else if (db && b.rank === 3 && b.shape[0] === 1 && db.shape[0] !== 1) db = sum(db, { axes: 0, keepDims: true });
    return [da, db];
  });
}
