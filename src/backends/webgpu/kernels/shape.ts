/**
 * Data-movement kernels on `webgpu`: transpose, slice, concat, pad, broadcastTo, reverse,
 * gather (+ its scatter-add gradient) and one-hot.
 *
 * Moves copy 32-bit patterns, so one program serves float32 and int32. Most are a
 * strided gather `y[i] = x[base + sum_d idx_d * stride_d]` over the output's indices:
 * transpose permutes the strides, slice offsets the base, broadcastTo uses stride 0 and
 * reverse uses negative strides (u32 arithmetic wraps, so a negative stride written as
 * its 32-bit pattern walks backwards correctly). Concat and pad write each input into
 * its region of the output with the mirror-image strided scatter.
 *
 * Out-of-range indices cannot raise an error from inside a GPU program: Gather writes
 * NaN (float32) or 0 (int32) for them and OneHot writes a row of zeros. The ts kernels
 * throw instead; ops validate indices when they can read them.
 */
import { BroadcastTo, Concat, type ConcatAttrs, Gather, GatherGrad, OneHot, Pad, Reverse, Slice, Transpose, concatShape, gatherShape, padShape, transposeShape } from '../../../kernels/shape.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { sizeOf, stridesOf } from '../../../tensor/shape.js';
import { gpu, type GpuData, type WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, wgslType, type ProgramDef } from '../program.js';
import { bitsOf, fill } from './elementwise.js';
import { broadcastStrides, checkRank, collapse, register, walkCode, walkParams, walkValues } from './util.js';

const GATHER_WALK: ProgramDef = {
  key: 'strided-gather',
  buffers: [
    { name: 'x', type: 'u32', access: 'read' },
    { name: 'y', type: 'u32', access: 'read_write' },
  ],
  params: [{ name: 'n', type: 'u32' }, { name: 'base', type: 'u32' }, ...walkParams(1)],
  body: `${MAIN_1D}\n  if (i >= u.n) { return; }\n${walkCode(1)}\n  y[i] = x[u.base + o0];\n}`,
};

const SCATTER_WALK: ProgramDef = {
  key: 'strided-scatter',
  buffers: [
    { name: 'x', type: 'u32', access: 'read' },
    { name: 'y', type: 'u32', access: 'read_write' },
  ],
  params: [{ name: 'n', type: 'u32' }, { name: 'base', type: 'u32' }, ...walkParams(1)],
  body: `${MAIN_1D}\n  if (i >= u.n) { return; }\n${walkCode(1)}\n  y[u.base + o0] = x[i];\n}`,
};

/** y[i] = x[base + walk(i)] for every index i of `shape`. */
export function stridedGather(be: WebGPUBackend, kernel: string, x: GpuData, y: GpuData, shape: readonly number[], strides: readonly number[], base: number): void {
  const n = sizeOf(shape);
  const plan = collapse(shape, [strides]);
  checkRank(kernel, plan);
  be.run(GATHER_WALK, [x, y], { n, base, ...walkValues(plan) }, grid1d(n));
}

/** y[base + walk(i)] = x[i] for every index i of `shape` (x's shape). */
function stridedScatter(be: WebGPUBackend, kernel: string, x: GpuData, y: GpuData, shape: readonly number[], strides: readonly number[], base: number): void {
  const n = sizeOf(shape);
  const plan = collapse(shape, [strides]);
  checkRank(kernel, plan);
  be.run(SCATTER_WALK, [x, y], { n, base, ...walkValues(plan) }, grid1d(n));
}

/** Transpose `x` by `perm` into new storage. */
export function transpose(be: WebGPUBackend, x: TensorInfo, perm: readonly number[]): TensorInfo {
  const shape = transposeShape(x.shape, perm);
  const xs = stridesOf(x.shape);
  const y = be.output(shape, x.dtype);
  stridedGather(be, Transpose.name, gpu(x), y.dataId, shape, perm.map((p) => xs[p]), 0);
  return y;
}

register(Transpose, ([x], { perm }, be) => transpose(be, x, perm));

register(Slice, ([x], { begin, size }, be) => {
  const xs = stridesOf(x.shape);
  const y = be.output(size, x.dtype);
  stridedGather(be, Slice.name, gpu(x), y.dataId, size, xs, begin.reduce((s, b, d) => s + b * xs[d], 0));
  return y;
});

register(BroadcastTo, ([x], { shape }, be) => {
  const y = be.output(shape, x.dtype);
  stridedGather(be, BroadcastTo.name, gpu(x), y.dataId, shape, broadcastStrides(x.shape, shape), 0);
  return y;
});

register(Reverse, ([x], { axes }, be) => {
  const xs = stridesOf(x.shape);
  const y = be.output(x.shape, x.dtype);
  const strides = xs.map((s, d) => (axes.includes(d) ? -s : s));
  const base = axes.reduce((b, d) => b + (x.shape[d] > 0 ? (x.shape[d] - 1) * xs[d] : 0), 0);
  stridedGather(be, Reverse.name, gpu(x), y.dataId, x.shape, strides, base);
  return y;
});

/** Concat: each input scattered into its place in y (FusedConv2DConcat uses it too). */
export function concatOnGpu(xs: readonly TensorInfo[], { axis }: ConcatAttrs, be: WebGPUBackend): TensorInfo {
  const shape = concatShape(xs.map((t) => t.shape), axis);
  const y = be.output(shape, xs[0].dtype);
  const ys = stridesOf(shape);
  let offset = 0;
  for (const t of xs) {
    stridedScatter(be, Concat.name, gpu(t), y.dataId, t.shape, ys, offset * ys[axis]);
    offset += t.shape[axis];
  }
  return y;
}
register(Concat, (xs, attrs, be) => concatOnGpu(xs, attrs, be));

register(Pad, ([x], { paddings: pads, value }, be) => {
  const shape = padShape(x.shape, pads);
  const y = fill(be, shape, x.dtype, value ?? 0);
  const ys = stridesOf(shape);
  stridedScatter(be, Pad.name, gpu(x), gpu(y), x.shape, ys, pads.reduce((s, p, d) => s + p[0] * ys[d], 0));
  return y;
});

// ------------------------------------------------------------------ gather, one-hot

const GATHER: ProgramDef = {
  key: 'gather',
  buffers: [
    { name: 'x', type: 'u32', access: 'read' },
    { name: 'idx', type: 'i32', access: 'read' },
    { name: 'y', type: 'u32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, { name: 'k', type: 'u32' }, { name: 'inner', type: 'u32' }, { name: 'n', type: 'u32' }, { name: 'oob', type: 'u32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  let j = i % u.inner;
  let k = (i / u.inner) % u.k;
  let o = i / (u.inner * u.k);
  let src = idx[k];
  if (src < 0 || u32(src) >= u.n) { y[i] = u.oob; return; }
  y[i] = x[(o * u.n + u32(src)) * u.inner + j];
}`,
};

register(Gather, ([x, indices], { axis }, be) => {
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const k = sizeOf(indices.shape);
  const shape = gatherShape(x.shape, indices.shape, axis);
  const y = be.output(shape, x.dtype);
  const total = outer * k * inner;
  const oob = x.dtype === 'float32' ? 0x7fc00000 : 0;
  be.run(GATHER, [gpu(x), gpu(indices), y.dataId], { total, k: Math.max(k, 1), inner: Math.max(inner, 1), n: x.shape[axis], oob }, grid1d(total));
  return y;
});

const gatherGradPrograms = new Map<string, ProgramDef>();
register(GatherGrad, ([dy, indices], { axis, shape }, be) => {
  const t = wgslType(dy.dtype);
  let prog = gatherGradPrograms.get(t);
  if (!prog) {
    // Each output element sums the dy rows whose index points at it: a gather-style
    // scatter-add, with no atomics (WGSL has no float atomics).
    prog = {
      key: `gather-grad:${t}`,
      buffers: [
        { name: 'dy', type: t, access: 'read' },
        { name: 'idx', type: 'i32', access: 'read' },
        { name: 'y', type: t, access: 'read_write' },
      ],
      params: [{ name: 'total', type: 'u32' }, { name: 'k', type: 'u32' }, { name: 'inner', type: 'u32' }, { name: 'n', type: 'u32' }],
      body: `${MAIN_1D}
  if (i >= u.total) { return; }
  let j = i % u.inner;
  let r = (i / u.inner) % u.n;
  let o = i / (u.inner * u.n);
  var acc: ${t} = ${t}(0);
  for (var k = 0u; k < u.k; k++) {
    if (idx[k] == i32(r)) { acc += dy[(o * u.k + k) * u.inner + j]; }
  }
  y[i] = acc;
}`,
    };
    gatherGradPrograms.set(t, prog);
  }
  const inner = sizeOf(shape.slice(axis + 1));
  const n = shape[axis];
  const y = be.output(shape, dy.dtype);
  const total = sizeOf(shape);
  be.run(prog, [gpu(dy), gpu(indices), y.dataId], { total, k: sizeOf(indices.shape), inner: Math.max(inner, 1), n: Math.max(n, 1) }, grid1d(total));
  return y;
});

const ONE_HOT: ProgramDef = {
  key: 'one-hot',
  buffers: [
    { name: 'idx', type: 'i32', access: 'read' },
    { name: 'y', type: 'u32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, { name: 'depth', type: 'u32' }, { name: 'one', type: 'u32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  let c = i % u.depth;
  y[i] = select(0u, u.one, idx[i / u.depth] == i32(c));
}`,
};

register(OneHot, ([indices], { depth, dtype }, be) => {
  if (indices.dtype !== 'int32') throw new TypeError(`OneHot on webgpu: indices must be int32, received ${indices.dtype}`);
  if (dtype === 'float64') throw new TypeError("OneHot on webgpu: float64 is not stored on the GPU; use dtype 'float32'");
  const y = be.output([...indices.shape, depth], dtype);
  const total = sizeOf(indices.shape) * depth;
  be.run(ONE_HOT, [gpu(indices), y.dataId], { total, depth: Math.max(depth, 1), one: bitsOf(1, dtype) }, grid1d(total));
  return y;
});
