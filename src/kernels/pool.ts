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
 * Visit every window (n, oh, ow) once with the offsets of its real (unpadded) cells,
 * x[n, ih, iw, 0], in row-major window order (kh outer, kw inner); `o` is the offset of
 * y[n, oh, ow, 0] and channel ch of a cell is at cells[t] + ch. One call per window (not
 * per cell) keeps the kernels' inner loops free of calls.
 */
function forEachWindow(p: Pool2DInfo, visit: (o: number, cells: Float64Array, count: number) => void): void {
  const { inH: H, inW: W, channels: C } = p;
  const cells = new Float64Array(p.kH * p.kW);
  for (let n = 0; n < p.batch; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        let count = 0;
        for (let kh = 0; kh < p.kH; kh++) {
          const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < p.kW; kw++) {
            const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
            if (iw >= 0 && iw < W) cells[count++] = ((n * H + ih) * W + iw) * C;
          }
        }
        visit(((n * p.outH + oh) * p.outW + ow) * C, cells, count);
      }
    }
  }
}

/**
 * Flat index into x of the winning cell of a window, channel ch: the first NaN, else the
 * first strict maximum. The geometry guarantees a window holds at least one real cell.
 */
function maxCell(xv: TypedArray, cells: Float64Array, count: number, ch: number): number {
  let best = cells[0] + ch;
  let bestVal = xv[best];
  for (let t = 1; t < count && !Number.isNaN(bestVal); t++) {
    const i = cells[t] + ch;
    const v = xv[i];
    if (Number.isNaN(v) || v > bestVal) {
      best = i;
      bestVal = v;
    }
  }
  return best;
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
    forEachWindow(p, (o, cells, count) => {
      for (let ch = 0; ch < p.channels; ch++) y[o + ch] = xv[maxCell(xv, cells, count, ch)];
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
    forEachWindow(p, (o, cells, count) => {
      for (let ch = 0; ch < p.channels; ch++) dx[maxCell(xv, cells, count, ch)] += dyv[o + ch];
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
    forEachWindow(p, (o, cells, count) => {
      const divisor = countIncludePad ? p.kH * p.kW : count;
      for (let ch = 0; ch < C; ch++) {
        let acc = 0;
        for (let t = 0; t < count; t++) acc += xv[cells[t] + ch];
        y[o + ch] = acc / divisor;
      }
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
    forEachWindow(p, (o, cells, count) => {
      const divisor = countIncludePad ? p.kH * p.kW : count;
      for (let ch = 0; ch < C; ch++) {
        const g = dyv[o + ch] / divisor;
        for (let t = 0; t < count; t++) dx[cells[t] + ch] += g;
      }
    });
    return fromFloat64(dx, dy, poolInShape(p));
  },
});
