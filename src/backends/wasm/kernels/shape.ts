/**
 * Data-movement kernels on `wasm` (assembly/shape_f32.ts): Transpose (a SIMD 4x4-block
 * kernel for 2D and batched-2D perms such as NHWC <-> NCHW, a strided copy otherwise),
 * Slice, Concat, Pad, BroadcastTo and Reverse as strided copies, and OneHot of float32
 * labels (int32 labels run on `ts`: this backend stores float32 only).
 */
import { BroadcastTo, Concat, OneHot, Pad, Reverse, Slice, Transpose, concatShape, padShape, transposeShape } from '../../../kernels/shape.js';
import { sizeOf, stridesOf } from '../../../tensor/shape.js';
import { FLOPS_PER_FLOAT_MOVED, wasmKernel, type WasmBackend } from '../backend.js';
import { broadcastStrides, collapse, forEachBox, runBox } from './strided.js';

/**
 * dst[dstOff + dstStrides . i] = src[srcOff + srcStrides . i] for every index i of
 * `shape` (offsets and strides in elements; source strides may be 0 or negative).
 */
export function copyWalk(
  be: WasmBackend,
  src: number, srcOff: number, srcStrides: readonly number[],
  dst: number, dstOff: number, dstStrides: readonly number[],
  shape: readonly number[],
): void {
  if (sizeOf(shape) === 0) return;
  const walk = collapse(shape, [srcStrides, dstStrides]);
  forEachBox(walk, (off, d, s) => {
    runBox(be, 'copy_strided_f32', [src + 4 * (srcOff + off[0]), dst + 4 * (dstOff + off[1]), d[0], d[1], d[2], d[3], ...s[0], ...s[1]], 2, [0, 1], s, 2);
  });
}

wasmKernel(Transpose, ([x], { perm }, be) => {
  const shape = transposeShape(x.shape, perm);
  const y = be.alloc(shape);
  if (sizeOf(shape) === 0) return y;
  const xs = stridesOf(x.shape);
  const src = perm.map((p) => xs[p]);
  const dst = stridesOf(shape);
  const w = collapse(shape, [src, dst]);
  const [S] = w.strides;
  // out [C, R] from x [R, C] (strides [1, C]), or batched: out [Bt, C, R] (strides [R*C, 1, C])
  if (w.shape.length === 2 && S[0] === 1 && S[1] === w.shape[0]) {
    be.wasm.transpose2d_f32(be.ptr(x), be.ptr(y), 1, w.shape[1], w.shape[0]);
  } else if (w.shape.length === 3 && S[1] === 1 && S[2] === w.shape[1] && S[0] === w.shape[1] * w.shape[2]) {
    const [batch, R, C] = [w.shape[0], w.shape[2], w.shape[1]];
    const plane = 4 * R * C;
    be.parallelSplit('transpose2d_f32', [be.ptr(x), be.ptr(y), batch, R, C], { nArg: 2, strides: [[0, plane], [1, plane]], align: 1 }, 2 * FLOPS_PER_FLOAT_MOVED * batch * R * C);
  } else {
    copyWalk(be, be.ptr(x), 0, src, be.ptr(y), 0, dst, shape);
  }
  return y;
});

wasmKernel(Slice, ([x], { begin, size }, be) => {
  const y = be.alloc(size);
  const xs = stridesOf(x.shape);
  const off = begin.reduce((acc, b, d) => acc + b * xs[d], 0);
  copyWalk(be, be.ptr(x), off, xs, be.ptr(y), 0, stridesOf(size), size);
  return y;
});

wasmKernel(Concat, (xs, { axis }, be) => {
  const shape = concatShape(xs.map((t) => t.shape), axis);
  const y = be.alloc(shape);
  const ys = stridesOf(shape);
  let at = 0;
  for (const t of xs) {
    copyWalk(be, be.ptr(t), 0, stridesOf(t.shape), be.ptr(y), at * ys[axis], ys, t.shape);
    at += t.shape[axis];
  }
  return y;
});

wasmKernel(Pad, ([x], { paddings: pads, value }, be) => {
  const shape = padShape(x.shape, pads);
  const y = be.alloc(shape);
  const n = sizeOf(shape);
  if (n) be.wasm.fill_f32(be.ptr(y), n, value ?? 0);
  const ys = stridesOf(shape);
  const off = pads.reduce((acc, p, d) => acc + p[0] * ys[d], 0);
  copyWalk(be, be.ptr(x), 0, stridesOf(x.shape), be.ptr(y), off, ys, x.shape);
  return y;
});

wasmKernel(BroadcastTo, ([x], { shape }, be) => {
  const y = be.alloc(shape);
  copyWalk(be, be.ptr(x), 0, broadcastStrides(x.shape, shape), be.ptr(y), 0, stridesOf(shape), shape);
  return y;
});

wasmKernel(Reverse, ([x], { axes }, be) => {
  const y = be.alloc(x.shape);
  const xs = stridesOf(x.shape);
  // walk x backwards along the reversed axes: start at their last index, negative strides
  const src = xs.map((s, d) => (axes.includes(d) ? -s : s));
  const off = xs.reduce((acc, s, d) => acc + (axes.includes(d) && x.shape[d] > 0 ? (x.shape[d] - 1) * s : 0), 0);
  copyWalk(be, be.ptr(x), off, src, be.ptr(y), 0, stridesOf(x.shape), x.shape);
  return y;
});

wasmKernel(OneHot, ([indices], { depth }, be) => {
  const n = sizeOf(indices.shape);
  const y = be.zeros([...indices.shape, depth]);
  const bad = n && depth ? be.wasm.one_hot_f32(be.ptr(indices), be.ptr(y), n, depth) : -1;
  if (bad < 0 && n && !depth) {
    // depth 0: every label is out of range
    const v = be.f32()[be.ptr(indices) / 4];
    be.disposeData(y.dataId);
    throw new RangeError(`oneHot: label ${v} at position 0 is not in [0, 0)`);
  }
  if (bad >= 0) {
    const v = be.f32()[be.ptr(indices) / 4 + bad];
    be.disposeData(y.dataId);
    throw new RangeError(`oneHot: label ${v} at position ${bad} is not in [0, ${depth})`);
  }
  return y;
});
