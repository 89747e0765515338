/**
 * Pooling kernels on `ts` (the oracle). A window is the kH x kW cells
 * ih = oh*sh - padTop + kh*dh, iw = ow*sw - padLeft + kw*dw, visited in row-major order
 * (kh outer, kw inner); cells outside x are padding.
 *
 *   MaxPool2D      y = max over the window's real cells (padding never wins; NaN wins).
 *   MaxPool2DGrad  dy goes to ONE cell per window: the first maximum in row-major window
 *                  order (the first NaN if the window holds one), accumulated over windows.
 *   AvgPool2D      y = sum of real cells / divisor, the divisor being kH*kW when
 *                  countIncludePad, else the number of real cells in the window.
 *   AvgPool2DGrad  each real cell of a window receives dy / divisor.
 */
import type { Backend, TensorInfo } from '../../../tensor/backend.js';
import { registerKernel } from '../../../registry/kernels.js';
import type { Pool2DInfo } from '../../../kernels/conv_info.js';
import { allocArray } from '../../../tensor/dtype.js';
import type { TypedArray } from '../../../tensor/dtype.js';
import { out, vals } from '../backend.js';
import { expectShape } from '../../../kernels/kernel.js';

/**
 * Flat index into x of the winning cell of window (n, oh, ow, ch): the first NaN, else
 * the first strict maximum. The geometry guarantees a window holds at least one real cell.
 */
function maxCell(xv: TypedArray, p: Pool2DInfo, n: number, oh: number, ow: number, ch: number): number {
  const { inH: H, inW: W, channels: C } = p;
  let best = -1;
  let bestVal = 0;
  for (let kh = 0; kh < p.kH; kh++) {
    const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
    if (ih < 0 || ih >= H) continue;
    for (let kw = 0; kw < p.kW; kw++) {
      const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
      if (iw < 0 || iw >= W) continue;
      const i = ((n * H + ih) * W + iw) * C + ch;
      const v = xv[i];
      if (best < 0 || (!Number.isNaN(bestVal) && (Number.isNaN(v) || v > bestVal))) {
        best = i;
        bestVal = v;
      }
    }
  }
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

const inShape = (p: Pool2DInfo) => [p.batch, p.inH, p.inW, p.channels];
const outShape = (p: Pool2DInfo) => [p.batch, p.outH, p.outW, p.channels];

function maxPool(x: TensorInfo, p: Pool2DInfo, be: Backend): TensorInfo {
  expectShape('MaxPool2D', 'x', x, inShape(p));
  const xv = vals(x);
  const y = allocArray(x.dtype, p.batch * p.outH * p.outW * p.channels);
  forEachWindow(p, (o, n, oh, ow, ch) => {
    y[o] = xv[maxCell(xv, p, n, oh, ow, ch)];
  });
  return out(be, y, outShape(p), x.dtype);
}

function maxPoolGrad(dy: TensorInfo, x: TensorInfo, p: Pool2DInfo, be: Backend): TensorInfo {
  expectShape('MaxPool2DGrad', 'dy', dy, outShape(p));
  expectShape('MaxPool2DGrad', 'x', x, inShape(p));
  const xv = vals(x), dyv = vals(dy);
  const dx = new Float64Array(xv.length);
  forEachWindow(p, (o, n, oh, ow, ch) => {
    dx[maxCell(xv, p, n, oh, ow, ch)] += dyv[o];
  });
  const r = allocArray(dy.dtype, dx.length);
  r.set(dx);
  return out(be, r, inShape(p), dy.dtype);
}

function avgPool(x: TensorInfo, p: Pool2DInfo, countIncludePad: boolean, be: Backend): TensorInfo {
  expectShape('AvgPool2D', 'x', x, inShape(p));
  const { inH: H, inW: W, channels: C } = p;
  const xv = vals(x);
  const y = allocArray(x.dtype, p.batch * p.outH * p.outW * C);
  forEachWindow(p, (o, n, oh, ow, ch) => {
    let acc = 0;
    for (let kh = 0; kh < p.kH; kh++) {
      const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < p.kW; kw++) {
        const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
        if (iw < 0 || iw >= W) continue;
        acc += xv[((n * H + ih) * W + iw) * C + ch];
      }
    }
    y[o] = acc / (countIncludePad ? p.kH * p.kW : realCells(p, oh, ow));
  });
  return out(be, y, outShape(p), x.dtype);
}

function avgPoolGrad(dy: TensorInfo, p: Pool2DInfo, countIncludePad: boolean, be: Backend): TensorInfo {
  expectShape('AvgPool2DGrad', 'dy', dy, outShape(p));
  const { inH: H, inW: W, channels: C } = p;
  const dyv = vals(dy);
  const dx = new Float64Array(p.batch * H * W * C);
  forEachWindow(p, (o, n, oh, ow, ch) => {
    const g = dyv[o] / (countIncludePad ? p.kH * p.kW : realCells(p, oh, ow));
    for (let kh = 0; kh < p.kH; kh++) {
      const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < p.kW; kw++) {
        const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
        if (iw < 0 || iw >= W) continue;
        dx[((n * H + ih) * W + iw) * C + ch] += g;
      }
    }
  });
  const r = allocArray(dy.dtype, dx.length);
  r.set(dx);
  return out(be, r, inShape(p), dy.dtype);
}

registerKernel({ kernelName: 'MaxPool2D', backendName: 'ts', kernelFunc: ([x], a, be) => maxPool(x, a.pool as Pool2DInfo, be) });
registerKernel({ kernelName: 'MaxPool2DGrad', backendName: 'ts', kernelFunc: ([dy, x], a, be) => maxPoolGrad(dy, x, a.pool as Pool2DInfo, be) });
registerKernel({ kernelName: 'AvgPool2D', backendName: 'ts', kernelFunc: ([x], a, be) => avgPool(x, a.pool as Pool2DInfo, !!a.countIncludePad, be) });
registerKernel({ kernelName: 'AvgPool2DGrad', backendName: 'ts', kernelFunc: ([dy], a, be) => avgPoolGrad(dy, a.pool as Pool2DInfo, !!a.countIncludePad, be) });
