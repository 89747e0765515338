/**
 * Data-movement kernels: each output element is one input element (or a constant), read
 * at an index computed from the output's index. No arithmetic on values, so every
 * backend must reproduce the reference bit for bit.
 *
 *   Transpose    y[i_0..i_r] = x[i_perm^-1...]: y.shape[d] = x.shape[perm[d]], and output axis d
 *                walks input axis perm[d].
 *   Slice        y[i] = x[i + begin], y.shape = size.
 *   Concat       y = the inputs laid end to end along `axis` (other dims equal).
 *   Pad          y = `value` everywhere, x copied in at offset paddings[d][0] on each axis d;
 *                y.shape[d] = x.shape[d] + before + after.
 *   BroadcastTo  y[i] = x[i with broadcast axes set to 0] (NumPy broadcasting, x aligned right).
 *   Reverse      y[i] = x[i with i_d -> n_d - 1 - i_d on each axis d in `axes`].
 *   Gather       y = x.take(indices, axis): y.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
 *   GatherGrad   the adjoint of Gather (scatter-add): zeros of `shape`, plus each dy row added
 *                at the row its index names (repeated indices accumulate).
 *   OneHot       y[..., c] = 1 where c = indices[...], else 0; y.shape = indices.shape + [depth].
 *
 * The ops (src/ops/shape.ts) write the gradients as the adjoint movements: transpose by the
 * inverse permutation, pad the slice, slice the concat and the pad, reverse again, and
 * GatherGrad for Gather.
 */
import { allocArray, type DType } from '../tensor/dtype.js';
import { fmtShape, sizeOf, stridesOf } from '../tensor/shape.js';
import { defineKernel, expectSameDtype } from './kernel.js';

export interface TransposeAttrs {
  /** Output axis d is input axis perm[d]. */
  perm: readonly number[];
}
export interface SliceAttrs {
  begin: readonly number[];
  size: readonly number[];
}
export interface ConcatAttrs {
  axis: number;
}
export interface PadAttrs {
  /** [before, after] per axis. */
  paddings: readonly (readonly [number, number])[];
  /** The constant written in the padding (default 0). */
  value?: number;
}
export interface BroadcastToAttrs {
  shape: readonly number[];
}
export interface ReverseAttrs {
  axes: readonly number[];
}
export interface GatherAttrs {
  axis: number;
}
export interface GatherGradAttrs {
  axis: number;
  /** Shape of the gathered-from tensor (the gradient's shape). */
  shape: readonly number[];
}
export interface OneHotAttrs {
  depth: number;
  /** Dtype of the output. */
  dtype: DType;
}

// ---------------------------------------------------------------- output shapes (one copy)

/** Shape of x transposed by `perm`. */
export function transposeShape(xShape: readonly number[], perm: readonly number[]): number[] {
  return perm.map((p) => xShape[p]);
}

/** Shape of the inputs joined along `axis`. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): number[] {
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((s, t) => s + t[axis], 0);
  return shape;
}

/** Shape of x padded by `paddings`. */
export function padShape(xShape: readonly number[], paddings: PadAttrs['paddings']): number[] {
  return xShape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
}

/** Shape of Gather's output: x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export function gatherShape(xShape: readonly number[], indicesShape: readonly number[], axis: number): number[] {
  return [...xShape.slice(0, axis), ...indicesShape, ...xShape.slice(axis + 1)];
}

// ---------------------------------------------------------------- shared checks

function expectAxis(kernel: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new RangeError(`${kernel}: axis ${axis} is out of range for rank ${rank}`);
}

function expectInt32(kernel: string, arg: string, t: { dtype: DType }): void {
  if (t.dtype !== 'int32') throw new TypeError(`${kernel}: ${arg} must be int32, received ${t.dtype}`);
}

/** Call f(flatOut, multiIndex) for every index of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], f: (i: number, idx: number[]) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    f(i, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------- kernels

export const Transpose = defineKernel<TransposeAttrs>({
  name: 'Transpose',
  inputs: ['x'],
  check([x], { perm }) {
    const seen = new Set(perm);
    if (perm.length !== x.shape.length || seen.size !== perm.length || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= perm.length)) {
      throw new RangeError(`Transpose: perm ${JSON.stringify(perm)} is not a permutation of the ${x.shape.length} axes of ${fmtShape(x.shape)}`);
    }
  },
  reference([x], { perm }) {
    const shape = transposeShape(x.shape, perm);
    const xs = stridesOf(x.shape);
    const xv = x.values;
    const y = allocArray(x.dtype, xv.length, shape);
    forEachIndex(shape, (i, idx) => {
      let src = 0;
      for (let d = 0; d < perm.length; d++) src += idx[d] * xs[perm[d]];
      y[i] = xv[src];
    });
    return { values: y, shape, dtype: x.dtype };
  },
});

export const Slice = defineKernel<SliceAttrs>({
  name: 'Slice',
  inputs: ['x'],
  check([x], { begin, size }) {
    const ok = begin.length === x.shape.length && size.length === x.shape.length &&
      x.shape.every((d, i) => Number.isInteger(begin[i]) && begin[i] >= 0 && Number.isInteger(size[i]) && size[i] >= 0 && begin[i] + size[i] <= d);
    if (!ok) throw new RangeError(`Slice: begin ${fmtShape(begin)} size ${fmtShape(size)} is out of bounds for x of shape ${fmtShape(x.shape)}`);
  },
  reference([x], { begin, size }) {
    const xs = stridesOf(x.shape);
    const xv = x.values;
    const y = allocArray(x.dtype, sizeOf(size), size);
    forEachIndex(size, (i, idx) => {
      let src = 0;
      for (let d = 0; d < size.length; d++) src += (idx[d] + begin[d]) * xs[d];
      y[i] = xv[src];
    });
    return { values: y, shape: [...size], dtype: x.dtype };
  },
});

/** Concat takes any number (one or more) of inputs, named xs[0], xs[1], ... */
export const Concat = defineKernel<ConcatAttrs>({
  name: 'Concat',
  inputs: ['xs'],
  check(xs, { axis }) {
    if (xs.length === 0) throw new RangeError('Concat: needs at least one input');
    expectAxis('Concat', axis, xs[0].shape.length);
    xs.forEach((t, i) => {
      if (t.shape.length !== xs[0].shape.length || t.shape.some((d, j) => j !== axis && d !== xs[0].shape[j])) {
        throw new RangeError(`Concat: xs[${i}] has shape ${fmtShape(t.shape)}, which does not match xs[0] ${fmtShape(xs[0].shape)} outside axis ${axis}`);
      }
    });
    expectSameDtype('Concat', xs.map((_, i) => `xs[${i}]`), xs);
  },
  reference(xs, { axis }) {
    const shape = concatShape(xs.map((t) => t.shape), axis);
    const y = allocArray(xs[0].dtype, sizeOf(shape), shape);
    // Copy each input as blocks: outer = product of dims before axis.
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    let offset = 0;
    for (const t of xs) {
      const tv = t.values;
      const block = t.shape[axis] * inner;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < block; j++) y[o * shape[axis] * inner + offset + j] = tv[o * block + j];
      }
      offset += block;
    }
    return { values: y, shape, dtype: xs[0].dtype };
  },
});

/** Constant padding: paddings[d] = [before, after]. */
export const Pad = defineKernel<PadAttrs>({
  name: 'Pad',
  inputs: ['x'],
  check([x], { paddings }) {
    if (paddings.length !== x.shape.length || !paddings.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) {
      throw new RangeError(`Pad: paddings ${JSON.stringify(paddings)} must be ${x.shape.length} pairs of non-negative integers for x of shape ${fmtShape(x.shape)}`);
    }
  },
  reference([x], { paddings, value }) {
    const shape = padShape(x.shape, paddings);
    const y = allocArray(x.dtype, sizeOf(shape), shape).fill(value ?? 0);
    const ys = stridesOf(shape);
    const xv = x.values;
    forEachIndex(x.shape, (i, idx) => {
      let dst = 0;
      for (let d = 0; d < idx.length; d++) dst += (idx[d] + paddings[d][0]) * ys[d];
      y[dst] = xv[i];
    });
    return { values: y, shape, dtype: x.dtype };
  },
});

export const BroadcastTo = defineKernel<BroadcastToAttrs>({
  name: 'BroadcastTo',
  inputs: ['x'],
  check([x], { shape }) {
    const lead = shape.length - x.shape.length;
    if (lead < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
      throw new RangeError(`BroadcastTo: x of shape ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
    }
  },
  reference([x], { shape }) {
    // Strides of x aligned right on `shape`, 0 on the axes it is broadcast along.
    const lead = shape.length - x.shape.length;
    const xs = stridesOf(x.shape);
    const st = shape.map((_, d) => (d < lead || x.shape[d - lead] === 1 ? 0 : xs[d - lead]));
    const xv = x.values;
    const y = allocArray(x.dtype, sizeOf(shape), shape);
    forEachIndex(shape, (i, idx) => {
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += idx[d] * st[d];
      y[i] = xv[src];
    });
    return { values: y, shape: [...shape], dtype: x.dtype };
  },
});

/** Reverse the order of elements along `axes` (used to flip kernels for true convolution). */
export const Reverse = defineKernel<ReverseAttrs>({
  name: 'Reverse',
  inputs: ['x'],
  check([x], { axes }) {
    for (const a of axes) expectAxis('Reverse', a, x.shape.length);
  },
  reference([x], { axes }) {
    const xs = stridesOf(x.shape);
    const xv = x.values;
    const y = allocArray(x.dtype, xv.length, x.shape);
    forEachIndex(x.shape, (i, idx) => {
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += (axes.includes(d) ? x.shape[d] - 1 - idx[d] : idx[d]) * xs[d];
      y[i] = xv[src];
    });
    return { values: y, shape: [...x.shape], dtype: x.dtype };
  },
});

/**
 * y = x.take(indices, axis): indices is int32 of any shape. An index outside
 * [0, x.shape[axis]) is a RangeError here; GPU backends cannot throw from a program and
 * write NaN (float32) or 0 (int32) instead (the op validates indices when it can read them).
 */
export const Gather = defineKernel<GatherAttrs>({
  name: 'Gather',
  inputs: ['x', 'indices'],
  check([x, indices], { axis }) {
    expectAxis('Gather', axis, x.shape.length);
    expectInt32('Gather', 'indices', indices);
  },
  reference([x, indices], { axis }) {
    const iv = indices.values;
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const n = x.shape[axis];
    const shape = gatherShape(x.shape, indices.shape, axis);
    const xv = x.values;
    const y = allocArray(x.dtype, sizeOf(shape), shape);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < iv.length; k++) {
        const src = iv[k];
        if (!(src >= 0 && src < n)) throw new RangeError(`gather: index ${src} is out of range [0, ${n})`);
        for (let j = 0; j < inner; j++) y[(o * iv.length + k) * inner + j] = xv[(o * n + src) * inner + j];
      }
    }
    return { values: y, shape, dtype: x.dtype };
  },
});

/** Scatter-add, the adjoint of Gather: y has shape attrs.shape, zeros plus dy at gathered rows. */
export const GatherGrad = defineKernel<GatherGradAttrs>({
  name: 'GatherGrad',
  inputs: ['dy', 'indices'],
  check([dy, indices], { axis, shape }) {
    expectAxis('GatherGrad', axis, shape.length);
    expectInt32('GatherGrad', 'indices', indices);
    const want = gatherShape(shape, indices.shape, axis);
    if (dy.shape.length !== want.length || dy.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(`GatherGrad: dy has shape ${fmtShape(dy.shape)}, but gathering ${fmtShape(indices.shape)} indices on axis ${axis} of ${fmtShape(shape)} gives ${fmtShape(want)}`);
    }
  },
  reference([dy, indices], { axis, shape }) {
    const iv = indices.values;
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const n = shape[axis];
    const dv = dy.values;
    const y = allocArray(dy.dtype, sizeOf(shape), shape);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < iv.length; k++) {
        for (let j = 0; j < inner; j++) y[(o * n + iv[k]) * inner + j] += dv[(o * iv.length + k) * inner + j];
      }
    }
    return { values: y, shape: [...shape], dtype: dy.dtype };
  },
});

/**
 * One-hot rows of class indices. Indices are int32, or integer-valued floats (the wasm
 * backend stores float32 only); a label outside [0, depth) or not an integer is a RangeError.
 */
export const OneHot = defineKernel<OneHotAttrs>({
  outputDtype: ({ dtype }) => dtype,
  name: 'OneHot',
  inputs: ['indices'],
  check(_inputs, { depth }) {
    if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`OneHot: depth must be a non-negative integer, received ${depth}`);
  },
  reference([indices], { depth, dtype }) {
    const iv = indices.values;
    const shape = [...indices.shape, depth];
    const y = allocArray(dtype, iv.length * depth, shape);
    for (let i = 0; i < iv.length; i++) {
      const c = iv[i];
      if (!(Number.isInteger(c) && c >= 0 && c < depth)) throw new RangeError(`oneHot: label ${c} at position ${i} is not in [0, ${depth})`);
      y[i * depth + c] = 1;
    }
    return { values: y, shape, dtype };
  },
});
