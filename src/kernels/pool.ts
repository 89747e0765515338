/**
 * Pooling kernels over NHWC images. The geometry (window, strides, dilations, padding,
 * output size) is a Pool2DInfo the op computes and validates (computePool2DInfo in
 * ./conv_info.ts: every window holds at least one real cell). A window is the kH x kW cells
 *   ih = oh*sh - padTop + kh*dh,  iw = ow*sw - padLeft + kw*dw,
 * visited in row-major order (kh outer, kw inner); cells outside x are padding.
 *
 *   MaxPool2D      y = max over the window's real cells (padding never wins; NaN wins).
 *   MaxPool2DGrad  dy goes to ONE cell per window: the first maximum in row-major window
 *                  order (the first NaN if the window holds one), accumulated over windows.
 *   AvgPool2D      y = sum of real cells / divisor, the divisor being kH*kW when
 *                  countIncludePad, else the number of real cells in the window.
 *   AvgPool2DGrad  each real cell of a window receives dy / divisor.
 *
 * x is [batch, inH, inW, channels] and y (dy) [batch, outH, outW, channels]: poolInShape and
 * poolOutShape, the one copy every backend allocates with. 1D and 3D pooling and the
 * global pools are composites in src/ops/pool.ts (views and separable 2D pools, reductions).
 */
import { allocArray, type TypedArray } from '../tensor/dtype.js';
import type { Pool2DInfo } from './conv_info.js';
import { defineKernel, expectSameDtype, expectShape, type HostTensor } from './kernel.js';

export type { Pool2DInfo } from './conv_info.js';

export interface MaxPool2DAttrs {
  pool: Pool2DInfo;
}
export interface AvgPool2DAttrs {
  pool: Pool2DInfo;
  /** Divide by the full window kH*kW (padding included) instead of the real cells. */
  countIncludePad: boolean;
}

/** Shape of x (and of the input gradient dx): [batch, inH, inW, channels]. */
export function poolInShape(p: Pool2DInfo): number[] {
  return [p.batch, p.inH, p.inW, p.channels];
}
/** Shape of y (and of the output gradient dy): [batch, outH, outW, channels]. */
export function poolOutShape(p: Pool2DInfo): number[] {
  return [p.batch, p.outH, p.outW, p.channels];
}

/**
 * Flat index into x of the winning cell of window (n, oh, ow, ch): the first NaN, else
 * the first strict maximum. The geometry guarantees a window holds at least one real cell.
 */
function maxCell(xv: TypedArray, p: Pool2DInfo, n: number, oh: number, ow: number, ch: number): number {
  let best = -1;
  let bestVal = 0;
  forEachCell(p, n, oh, ow, ch, (i) => {
    const v = xv[i];
    if (best < 0 || (!Number.isNaN(bestVal) && (Number.isNaN(v) || v > bestVal))) {
      best = i;
      bestVal = v;
    }
  });
  return best;
}

/** Number of real (unpadded) cells in window (oh, ow). */
function realCells(p: Pool2DInfo, oh: number, ow: number): number {
  let rows = 0, cols = 0;
  for (let kh = 0; kh < p.kH; kh++) {
    const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
    if (ih >= 0 && ih < p.inH) rows++;
  }
  for (let kw = 0; kw < p.kW; kw++) {
    const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
    if (iw >= 0 && iw < p.inW) cols++;
  }
  return rows * cols;
}

/** Visit every (n, oh, ow, ch) output position with its flat output index. */
function forEachWindow(p: Pool2DInfo, f: (o: number, n: number, oh: number, ow: number, ch: number) => void): void {
  let o = 0;
  for (let n = 0; n < p.batch; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        for (let ch = 0; ch < p.channels; ch++) f(o++, n, oh, ow, ch);
      }
    }
  }
}

/** Visit the flat x index of every real (unpadded) cell of window (n, oh, ow, ch), in row-major window order. */
function forEachCell(p: Pool2DInfo, n: number, oh: number, ow: number, ch: number, visit: (i: number) => void): void {
  const { inH: H, inW: W, channels: C } = p;
  for (let kh = 0; kh < p.kH; kh++) {
    const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
    if (ih < 0 || ih >= H) continue;
    for (let kw = 0; kw < p.kW; kw++) {
      const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
      if (iw < 0 || iw >= W) continue;
      visit(((n * H + ih) * W + iw) * C + ch);
    }
  }
}

/** A gradient accumulated in float64, returned in `dtype`. */
function fromFloat64(acc: Float64Array, like: HostTensor, shape: number[]): HostTensor {
  const r = allocArray(like.dtype, acc.length, shape);
  r.set(acc);
  return { values: r, shape, dtype: like.dtype };
}

export const MaxPool2D = defineKernel<MaxPool2DAttrs>({
  name: 'MaxPool2D',
  inputs: ['x'],
  check([x], { pool }) {
    expectShape('MaxPool2D', 'x', x, poolInShape(pool));
  },
  reference([x], { pool: p }) {
    const xv = x.values;
    const shape = poolOutShape(p);
    const y = allocArray(x.dtype, p.batch * p.outH * p.outW * p.channels, shape);
    forEachWindow(p, (o, n, oh, ow, ch) => {
      y[o] = xv[maxCell(xv, p, n, oh, ow, ch)];
    });
    return { values: y, shape, dtype: x.dtype };
  },
});

export const MaxPool2DGrad = defineKernel<MaxPool2DAttrs>({
  name: 'MaxPool2DGrad',
  inputs: ['dy', 'x'],
  check([dy, x], { pool }) {
    expectShape('MaxPool2DGrad', 'dy', dy, poolOutShape(pool));
    expectShape('MaxPool2DGrad', 'x', x, poolInShape(pool));
    expectSameDtype('MaxPool2DGrad', ['dy', 'x'], [dy, x]);
  },
  reference([dy, x], { pool: p }) {
    const xv = x.values, dyv = dy.values;
    const dx = new Float64Array(xv.length);
    forEachWindow(p, (o, n, oh, ow, ch) => {
      dx[maxCell(xv, p, n, oh, ow, ch)] += dyv[o];
    });
    return fromFloat64(dx, dy, poolInShape(p));
  },
});

export const AvgPool2D = defineKernel<AvgPool2DAttrs>({
  name: 'AvgPool2D',
  inputs: ['x'],
  check([x], { pool }) {
    expectShape('AvgPool2D', 'x', x, poolInShape(pool));
  },
  reference([x], { pool: p, countIncludePad }) {
    const C = p.channels;
    const xv = x.values;
    const shape = poolOutShape(p);
    const y = allocArray(x.dtype, p.batch * p.outH * p.outW * C, shape);
    forEachWindow(p, (o, n, oh, ow, ch) => {
      let acc = 0;
      forEachCell(p, n, oh, ow, ch, (i) => {
        acc += xv[i];
      });
      y[o] = acc / (countIncludePad ? p.kH * p.kW : realCells(p, oh, ow));
    });
    return { values: y, shape, dtype: x.dtype };
  },
});

export const AvgPool2DGrad = defineKernel<AvgPool2DAttrs>({
  name: 'AvgPool2DGrad',
  inputs: ['dy'],
  check([dy], { pool }) {
    expectShape('AvgPool2DGrad', 'dy', dy, poolOutShape(pool));
  },
  reference([dy], { pool: p, countIncludePad }) {
    const { inH: H, inW: W, channels: C } = p;
    const dyv = dy.values;
    const dx = new Float64Array(p.batch * H * W * C);
    forEachWindow(p, (o, n, oh, ow, ch) => {
      const g = dyv[o] / (countIncludePad ? p.kH * p.kW : realCells(p, oh, ow));
      forEachCell(p, n, oh, ow, ch, (i) => {
        dx[i] += g;
      });
    });
    return fromFloat64(dx, dy, poolInShape(p));
  },
});
