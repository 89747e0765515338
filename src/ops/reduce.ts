/** Reductions over axes: sum, mean, max, min, variance, argmax/argmin, logSumExp. */
import { record } from '../autograd/reverse_mode.js';
import { BroadcastTo } from '../kernels/shape.js';
import { ArgMax, ArgMin, Max, Min, Sum } from '../kernels/reduce.js';
import { Abs, Equal, Fill, Where } from '../kernels/elementwise.js';
import { outputOf } from '../registry/dispatch.js';
import { shareStorage } from '../registry/storage.js';
import { fmtShape, normAxes, reducedShape, sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, div, equal, exp, log, mul, sub } from './elementwise.js';
import { assertTensor } from './arg_checks.js';

export interface ReduceOpts {
  /** Axes to reduce (negative counts from the end); all axes when omitted. */
  axes?: number | number[];
  keepDims?: boolean;
}

/**
 * Reductions without an identity (max, min, argMax, argMin) have no value over an empty
 * axis: an error naming the axis and the shape, as PyTorch ("Expected reduction dim 0 to
 * have non-zero size") and NumPy do. Nothing is reduced when the output is itself empty.
 * sum of nothing is 0 and mean of nothing is NaN (0 / 0), as in PyTorch and NumPy.
 */
function assertNonEmptyAxes(op: string, x: Tensor, axes: readonly number[]): void {
  const empty = axes.find((a) => x.shape[a] === 0);
  if (empty === undefined) return;
  const outSize = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
  if (outSize === 0) return;
  throw new RangeError(
    `${op}: axis ${empty} of x (shape ${fmtShape(x.shape)}) has size 0; ${op} of an empty axis has no value ` +
      '(only sum, 0, and mean, NaN, are defined over nothing)',
  );
}

function expandBack(g: Tensor, x: Tensor, axes: number[]): Tensor {
  // Put the reduced axes back as size 1, then broadcast to x's shape.
  const kept = shareStorage(g, reducedShape(x.shape, axes, true));
  return outputOf(BroadcastTo, [kept], { shape: [...x.shape] });
}

/** Sum over axes. Gradient: dy broadcast back over the reduced axes. */
export function sum(x: Tensor, opts: ReduceOpts = {}): Tensor {
  assertTensor('sum', 'x', x);
  const axes = normAxes(opts.axes, x.rank, 'sum');
  const y = outputOf(Sum, [x], { axes, keepDims: !!opts.keepDims });
  return record('sum', [x], y, (dy) => [expandBack(dy, x, axes)]);
}

/** Mean over axes. An int32 input gives a float32 mean (NumPy), never a truncated one. */
export function mean(x: Tensor, opts: ReduceOpts = {}): Tensor {
  assertTensor('mean', 'x', x);
  if (x.dtype === 'int32') x = cast(x, 'float32');
  const axes = normAxes(opts.axes, x.rank, 'mean');
  const n = sizeOf(axes.map((a) => x.shape[a]));
  return div(sum(x, { axes, keepDims: opts.keepDims }), n);
}

function extremum(kernel: typeof Max | typeof Min, op: 'max' | 'min', x: Tensor, opts: ReduceOpts): Tensor {
  assertTensor(op, 'x', x);
  const axes = normAxes(opts.axes, x.rank, op);
  assertNonEmptyAxes(op, x, axes);
  const y = outputOf(kernel, [x], { axes, keepDims: !!opts.keepDims });
  // The gradient is shared equally among tied extrema (as PyTorch's amax/amin do).
  return record(op, [x], y, (dy) => {
    const mask = equal(x, expandBack(y, x, axes));
    const count = outputOf(Sum, [mask], { axes, keepDims: true });
    return [mul(expandBack(dy, x, axes), div(mask, outputOf(BroadcastTo, [count], { shape: [...x.shape] })))];
  });
}
export const max = (x: Tensor, opts: ReduceOpts = {}) => extremum(Max, 'max', x, opts);
export const min = (x: Tensor, opts: ReduceOpts = {}) => extremum(Min, 'min', x, opts);

/** Index of the largest value along `axis` (int32; first index at ties). */
export function argMax(x: Tensor, axis = -1, keepDims = false): Tensor {
  assertTensor('argMax', 'x', x);
  const [a] = normAxes(axis, x.rank, 'argMax');
  assertNonEmptyAxes('argMax', x, [a]);
  return outputOf(ArgMax, [x], { axis: a, keepDims });
}
export function argMin(x: Tensor, axis = -1, keepDims = false): Tensor {
  assertTensor('argMin', 'x', x);
  const [a] = normAxes(axis, x.rank, 'argMin');
  assertNonEmptyAxes('argMin', x, [a]);
  return outputOf(ArgMin, [x], { axis: a, keepDims });
}

/** Variance over axes; biased (divide by n) unless `unbiased` (divide by n - 1). int32 gives float32. */
export function variance(x: Tensor, opts: ReduceOpts & { unbiased?: boolean } = {}): Tensor {
  assertTensor('variance', 'x', x);
  if (x.dtype === 'int32') x = cast(x, 'float32');
  const axes = normAxes(opts.axes, x.rank, 'variance');
  const n = sizeOf(axes.map((a) => x.shape[a]));
  const d = sub(x, mean(x, { axes, keepDims: true }));
  return div(sum(mul(d, d), { axes, keepDims: opts.keepDims }), opts.unbiased ? n - 1 : n);
}

/** log(sum(exp(x))) computed stably by subtracting the max first. */
export function logSumExp(x: Tensor, opts: ReduceOpts = {}): Tensor {
  assertTensor('logSumExp', 'x', x);
  const axes = normAxes(opts.axes, x.rank, 'logSumExp');
  // A constant shift (no gradient needed); an infinite max shifts by 0 instead, so that a
  // slice of all -Infinity gives -Infinity and one holding +Infinity gives +Infinity, not
  // NaN from inf - inf (PyTorch's logsumexp does the same). Over an empty axis: -Infinity.
  const mx = outputOf(Max, [x], { axes, keepDims: true });
  const inf = outputOf(Fill, [], { shape: [], dtype: x.dtype, value: Infinity });
  const zero = outputOf(Fill, [], { shape: [], dtype: x.dtype, value: 0 });
  const m = outputOf(Where, [outputOf(Equal, [outputOf(Abs, [mx]), inf]), zero, mx]);
  const s = log(sum(exp(sub(x, m)), { axes, keepDims: true }));
  const y = add(s, m);
  return opts.keepDims ? y : reshapeTo(y, reducedShape(x.shape, axes, false));
}

function reshapeTo(x: Tensor, shape: number[]): Tensor {
  return record('reshape', [x], shareStorage(x, shape), (dy) => [shareStorage(dy, x.shape)]);
}
