/**
 * Shape and data-movement ops: reshape, transpose, slice, concat, stack, pad, flip,
 * gather, one-hot. Each gradient is the adjoint movement (transpose back, pad the
 * slice, slice the concat, ...).
 */
import { record } from '../autograd/reverse_mode.js';
import { BroadcastTo, Concat, Gather, GatherGrad, OneHot, Pad, Reverse, Slice, Transpose } from '../kernels/shape.js';
import { outputOf } from '../registry/dispatch.js';
import { shareStorage } from '../registry/storage.js';
import type { DType } from '../tensor/dtype.js';
import { assertValidShape, fmtShape, normAxes, shapesEqual, sizeOf, broadcastShapes } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/describe.js';
import { unbroadcast } from './elementwise.js';
import { assertTensor, assertTensorList } from './arg_checks.js';

/** Same values, new shape (one dimension may be -1). Shares storage: no copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('reshape', 'x', x);
  if (!Array.isArray(shape as unknown)) throw new TypeError(`reshape: shape must be an array of integers, received ${describeValue(shape)}`);
  const s = [...shape];
  const free = s.indexOf(-1);
  if (free !== -1) {
    if (s.indexOf(-1, free + 1) !== -1) throw new RangeError(`reshape: only one dimension may be -1, received ${fmtShape(shape)}`);
    const known = sizeOf(s.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    s[free] = x.size / known;
  }
  assertValidShape(s, 'reshape: shape');
  if (sizeOf(s) !== x.size) throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${sizeOf(s)} elements)`);
  return record('reshape', [x], shareStorage(x, s), (dy) => [shareStorage(dy, x.shape)]);
}

/** Keep the first `startAxis` dims and flatten the rest (Keras Flatten: startAxis 1). */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  assertTensor('flatten', 'x', x);
  return reshape(x, [...x.shape.slice(0, startAxis), sizeOf(x.shape.slice(startAxis))]);
}

export function expandDims(x: Tensor, axis = 0): Tensor {
  assertTensor('expandDims', 'x', x);
  const a = axis < 0 ? x.rank + 1 + axis : axis;
  if (a < 0 || a > x.rank) throw new RangeError(`expandDims: axis ${axis} is out of range for rank ${x.rank}`);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Drop size-1 dims (all, or the given axes, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | number[]): Tensor {
  assertTensor('squeeze', 'x', x);
  const ax = axes === undefined ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normAxes(axes, x.rank, 'squeeze');
  for (const a of ax) if (x.shape[a] !== 1) throw new RangeError(`squeeze: axis ${a} has size ${x.shape[a]}, not 1 (shape ${fmtShape(x.shape)})`);
  return reshape(x, x.shape.filter((_, i) => !ax.includes(i)));
}

/** Permute axes (default: reverse them). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  assertTensor('transpose', 'x', x);
  if (perm !== undefined && !Array.isArray(perm as unknown)) throw new TypeError(`transpose: perm must be an array of axes, received ${describeValue(perm)}`);
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new RangeError(`transpose: perm ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return record('transpose', [x], outputOf(Transpose, [x], { perm: p }), (dy) => [outputOf(Transpose, [dy], { perm: inv })]);
}
export const permute = transpose;

/** Slice `size` elements from `begin` on each axis (size -1: to the end). */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  assertTensor('slice', 'x', x);
  if (!Array.isArray(begin as unknown)) throw new TypeError(`slice: begin must be an array of integers, received ${describeValue(begin)}`);
  if (begin.length !== x.rank) throw new RangeError(`slice: begin has ${begin.length} entries, expected ${x.rank} for shape ${fmtShape(x.shape)}`);
  const sz = x.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - begin[i] : s;
  });
  x.shape.forEach((d, i) => {
    if (!Number.isInteger(begin[i]) || begin[i] < 0 || !Number.isInteger(sz[i]) || sz[i] < 0 || begin[i] + sz[i] > d) {
      throw new RangeError(`slice: begin ${fmtShape(begin)} size ${fmtShape(sz)} is out of bounds for shape ${fmtShape(x.shape)} (axis ${i})`);
    }
  });
  const y = outputOf(Slice, [x], { begin: [...begin], size: sz });
  return record('slice', [x], y, (dy) => [
    outputOf(Pad, [dy], { paddings: x.shape.map((d, i): [number, number] => [begin[i], d - begin[i] - sz[i]]), value: 0 }),
  ]);
}

/** Join tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (Array.isArray(xs) && xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  assertTensorList('concat', 'xs', xs);
  const [a] = normAxes(axis, xs[0].rank, 'concat');
  xs.forEach((t, i) => {
    if (t.rank !== xs[0].rank || t.shape.some((d, j) => j !== a && d !== xs[0].shape[j])) {
      throw new RangeError(`concat: tensor ${i} has shape ${fmtShape(t.shape)}, which does not match ${fmtShape(xs[0].shape)} outside axis ${a}`);
    }
    if (t.dtype !== xs[0].dtype) throw new TypeError(`concat: tensor ${i} is ${t.dtype}, tensor 0 is ${xs[0].dtype}`);
  });
  // One tensor: a view that still carries the gradient (torch.cat([x]) is differentiable).
  if (xs.length === 1) return record('concat', xs, shareStorage(xs[0], xs[0].shape), (dy) => [shareStorage(dy, dy.shape)]);
  const y = outputOf(Concat, xs, { axis: a });
  return record('concat', xs, y, (dy) => {
    let off = 0;
    return xs.map((t) => {
      const begin = t.shape.map((_, j) => (j === a ? off : 0));
      off += t.shape[a];
      return outputOf(Slice, [dy], { begin, size: [...t.shape] });
    });
  });
}

/** Join tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (Array.isArray(xs) && xs.length === 0) throw new RangeError('stack: needs at least one tensor');
  assertTensorList('stack', 'xs', xs);
  xs.forEach((t, i) => {
    if (!shapesEqual(t.shape, xs[0].shape)) throw new RangeError(`stack: tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(xs[0].shape)}`);
  });
  const a = axis < 0 ? xs[0].rank + 1 + axis : axis;
  if (!Number.isInteger(axis) || a < 0 || a > xs[0].rank) {
    throw new RangeError(`stack: axis ${axis} is out of range for stacking tensors of rank ${xs[0].rank} (valid: ${-xs[0].rank - 1} to ${xs[0].rank})`);
  }
  const expanded = xs.map((t) => reshape(t, [...t.shape.slice(0, a), 1, ...t.shape.slice(a)]));
  return concat(expanded, a);
}

/** Split into pieces of the given sizes (or n equal pieces) along `axis`. */
export function split(x: Tensor, sizesOrCount: number | number[], axis = 0): Tensor[] {
  assertTensor('split', 'x', x);
  const [a] = normAxes(axis, x.rank, 'split');
  const sizes = typeof sizesOrCount === 'number' ? new Array(sizesOrCount).fill(x.shape[a] / sizesOrCount) : sizesOrCount;
  if (sizes.some((s) => !Number.isInteger(s)) || sizes.reduce((p, q) => p + q, 0) !== x.shape[a]) {
    throw new RangeError(`split: sizes ${JSON.stringify(sizesOrCount)} do not divide axis ${a} of ${fmtShape(x.shape)}`);
  }
  let off = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, j) => (j === a ? off : 0));
    off += s;
    return slice(x, begin, x.shape.map((d, j) => (j === a ? s : d)));
  });
}

export function unstack(x: Tensor, axis = 0): Tensor[] {
  assertTensor('unstack', 'x', x);
  const [a] = normAxes(axis, x.rank, 'unstack');
  return split(x, x.shape[a], a).map((t) => squeeze(t, a));
}

/** Constant padding; paddings[i] = [before, after] for axis i. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  assertTensor('pad', 'x', x);
  if (!Array.isArray(paddings as unknown)) throw new TypeError(`pad: paddings must be an array of [before, after] pairs, received ${describeValue(paddings)}`);
  if (paddings.length !== x.rank) throw new RangeError(`pad: paddings has ${paddings.length} entries, expected ${x.rank} for shape ${fmtShape(x.shape)}`);
  for (const p of paddings) if (!p.every((v) => Number.isInteger(v) && v >= 0)) throw new RangeError(`pad: paddings must be non-negative integers, received ${JSON.stringify(paddings)}`);
  const y = outputOf(Pad, [x], { paddings: paddings.map((p): [number, number] => [p[0], p[1]]), value });
  return record('pad', [x], y, (dy) => [outputOf(Slice, [dy], { begin: paddings.map((p) => p[0]), size: [...x.shape] })]);
}

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('broadcastTo', 'x', x);
  assertValidShape(shape, 'broadcastTo: shape');
  const s = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (!shapesEqual(s, shape)) throw new RangeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  return record('broadcastTo', [x], outputOf(BroadcastTo, [x], { shape: [...shape] }), (dy) => [unbroadcast(dy, x.shape)]);
}

/** Reverse the element order along `axes`. */
export function reverse(x: Tensor, axes: number | number[]): Tensor {
  assertTensor('reverse', 'x', x);
  const ax = normAxes(axes, x.rank, 'reverse');
  return record('reverse', [x], outputOf(Reverse, [x], { axes: ax }), (dy) => [outputOf(Reverse, [dy], { axes: ax })]);
}
export const flip = reverse;

/** Take entries of `x` along `axis` at int32 `indices`. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  assertTensor('gather', 'x', x);
  assertTensor('gather', 'indices', indices);
  if (indices.dtype !== 'int32') throw new TypeError(`gather: indices must be int32, received ${indices.dtype}`);
  const [a] = normAxes(axis, x.rank, 'gather');
  const y = outputOf(Gather, [x, indices], { axis: a });
  return record('gather', [x], y, (dy) => [outputOf(GatherGrad, [dy, indices], { axis: a, shape: [...x.shape] })]);
}

/** One-hot encode int32 class indices: shape [...indices.shape, depth]. */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  assertTensor('oneHot', 'indices', indices);
  if (!Number.isInteger(depth) || depth <= 0) throw new RangeError(`oneHot: depth must be a positive integer, received ${depth}`);
  return outputOf(OneHot, [indices], { depth, dtype });
}
