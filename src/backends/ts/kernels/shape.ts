/**
 * Data-movement kernels on `ts`: transpose, slice, concat, pad, broadcastTo, reverse,
 * gather and one-hot. Each walks output indices and reads the matching input element.
 */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray, type DType } from '../../../tensor/dtype.js';
import { sizeOf, stridesOf } from '../../../tensor/shape.js';
import { out, vals } from '../backend.js';
import { broadcastIndex } from './elementwise.js';

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

registerKernel({
  kernelName: 'Transpose',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const perm = attrs.perm as number[];
    const shape = perm.map((p) => x.shape[p]);
    const xs = stridesOf(x.shape);
    const xv = vals(x);
    const y = allocArray(x.dtype, xv.length);
    forEachIndex(shape, (i, idx) => {
      let src = 0;
      for (let d = 0; d < perm.length; d++) src += idx[d] * xs[perm[d]];
      y[i] = xv[src];
    });
    return out(be, y, shape, x.dtype);
  },
});

registerKernel({
  kernelName: 'Slice',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const begin = attrs.begin as number[], size = attrs.size as number[];
    const xs = stridesOf(x.shape);
    const xv = vals(x);
    const y = allocArray(x.dtype, sizeOf(size));
    forEachIndex(size, (i, idx) => {
      let src = 0;
      for (let d = 0; d < size.length; d++) src += (idx[d] + begin[d]) * xs[d];
      y[i] = xv[src];
    });
    return out(be, y, size, x.dtype);
  },
});

registerKernel({
  kernelName: 'Concat',
  backendName: 'ts',
  kernelFunc: (xs, attrs, be) => {
    const axis = attrs.axis as number;
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    const y = allocArray(xs[0].dtype, sizeOf(shape));
    // Copy each input as blocks: outer = product of dims before axis.
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    let offset = 0;
    for (const t of xs) {
      const tv = vals(t);
      const block = t.shape[axis] * inner;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < block; j++) y[o * shape[axis] * inner + offset + j] = tv[o * block + j];
      }
      offset += block;
    }
    return out(be, y, shape, xs[0].dtype);
  },
});

/** Constant padding: paddings[d] = [before, after]. */
registerKernel({
  kernelName: 'Pad',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const pads = attrs.paddings as [number, number][];
    const value = (attrs.value as number) ?? 0;
    const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    const y = allocArray(x.dtype, sizeOf(shape)).fill(value);
    const ys = stridesOf(shape);
    const xv = vals(x);
    forEachIndex(x.shape, (i, idx) => {
      let dst = 0;
      for (let d = 0; d < idx.length; d++) dst += (idx[d] + pads[d][0]) * ys[d];
      y[dst] = xv[i];
    });
    return out(be, y, shape, x.dtype);
  },
});

registerKernel({
  kernelName: 'BroadcastTo',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const shape = attrs.shape as number[];
    const { ia } = broadcastIndex(x.shape, shape);
    const xv = vals(x);
    const y = allocArray(x.dtype, ia.length);
    for (let i = 0; i < ia.length; i++) y[i] = xv[ia[i]];
    return out(be, y, shape, x.dtype);
  },
});

/** Reverse the order of elements along `axes` (used to flip kernels for true convolution). */
registerKernel({
  kernelName: 'Reverse',
  backendName: 'ts',
  kernelFunc: ([x], attrs, be) => {
    const axes = attrs.axes as number[];
    const xs = stridesOf(x.shape);
    const xv = vals(x);
    const y = allocArray(x.dtype, xv.length);
    forEachIndex(x.shape, (i, idx) => {
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += (axes.includes(d) ? x.shape[d] - 1 - idx[d] : idx[d]) * xs[d];
      y[i] = xv[src];
    });
    return out(be, y, x.shape, x.dtype);
  },
});

/** y = x.take(indices, axis): indices is int32 of any shape; out shape x[:axis] + idx + x[axis+1:]. */
registerKernel({
  kernelName: 'Gather',
  backendName: 'ts',
  kernelFunc: ([x, indices], attrs, be) => {
    const axis = attrs.axis as number;
    const iv = vals(indices);
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const n = x.shape[axis];
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const xv = vals(x);
    const y = allocArray(x.dtype, sizeOf(shape));
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < iv.length; k++) {
        const src = iv[k];
        if (!(src >= 0 && src < n)) throw new RangeError(`gather: index ${src} is out of range [0, ${n})`);
        for (let j = 0; j < inner; j++) y[(o * iv.length + k) * inner + j] = xv[(o * n + src) * inner + j];
      }
    }
    return out(be, y, shape, x.dtype);
  },
});

/** Scatter-add, the adjoint of Gather: y has shape attrs.shape, zeros plus dy at gathered rows. */
registerKernel({
  kernelName: 'GatherGrad',
  backendName: 'ts',
  kernelFunc: ([dy, indices], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = attrs.shape as number[];
    const iv = vals(indices);
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const n = shape[axis];
    const dv = vals(dy);
    const y = allocArray(dy.dtype, sizeOf(shape));
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < iv.length; k++) {
        for (let j = 0; j < inner; j++) y[(o * n + iv[k]) * inner + j] += dv[(o * iv.length + k) * inner + j];
      }
    }
    return out(be, y, shape, dy.dtype);
  },
});

registerKernel({
  kernelName: 'OneHot',
  backendName: 'ts',
  kernelFunc: ([indices], attrs, be) => {
    const depth = attrs.depth as number;
    const dtype = attrs.dtype as DType;
    const iv = vals(indices);
    const y = allocArray(dtype, iv.length * depth);
    for (let i = 0; i < iv.length; i++) {
      const c = iv[i];
      if (!(Number.isInteger(c) && c >= 0 && c < depth)) throw new RangeError(`oneHot: label ${c} at position ${i} is not in [0, ${depth})`);
      y[i * depth + c] = 1;
    }
    return out(be, y, [...indices.shape, depth], dtype);
  },
});
