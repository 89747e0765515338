/**
 * Convolution kernels on `ts`: the oracle every other backend is checked against, so
 * they are the definitions written out as direct loops, with no im2col and no tiling.
 *
 * With g = f div (F/groups) the group of filter f, Cg = C/groups, and
 * ih = oh*sh - padTop + kh*dh, iw = ow*sw - padLeft + kw*dw (taps outside x read zero):
 *
 *   Conv2D               y[n,oh,ow,f]  = sum_{kh,kw,ci} x[n,ih,iw,g*Cg+ci] * w[kh,kw,ci,f]
 *   Conv2DBackpropInput  dx[n,ih,iw,g*Cg+ci] += dy[n,oh,ow,f] * w[kh,kw,ci,f]   (each tap sends back)
 *   Conv2DBackpropFilter dw[kh,kw,ci,f] = sum_{n,oh,ow} x[n,ih,iw,g*Cg+ci] * dy[n,oh,ow,f]
 *
 * and the same with a depth axis for Conv3D. Sums run in float64 (JS numbers) and are
 * rounded once into the output dtype, so the float32 oracle does not drift.
 */
import type { Backend, TensorInfo } from '../../../tensor/backend.js';
import { registerKernel } from '../../../registry/kernels.js';
import type { Conv2DInfo, Conv3DInfo } from '../../../kernels/conv_info.js';
import { allocArray, type DType } from '../../../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../../../tensor/shape.js';
import { out, vals } from '../backend.js';

/** Kernels trust the op's geometry, but a wrong input shape must not read out of bounds. */
export function expectShape(kernel: string, arg: string, t: TensorInfo, expected: readonly number[]): void {
  if (!shapesEqual(t.shape, expected)) {
    throw new RangeError(`${kernel}: ${arg} has shape ${fmtShape(t.shape)}, but the geometry in attrs expects ${fmtShape(expected)}`);
  }
}

/** Copy float64 accumulators into a fresh array of the output dtype. */
function rounded(acc: Float64Array, dtype: DType) {
  const y = allocArray(dtype, acc.length);
  y.set(acc);
  return y;
}

// ---------------------------------------------------------------- 2D
// Loop order: output position outermost, filters innermost, so that w and dy are read
// contiguously (w's last axis is F). Each output still sums its terms in (kh, kw, ci) order.

function conv2d(x: TensorInfo, w: TensorInfo, c: Conv2DInfo, be: Backend): TensorInfo {
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW, groups: G } = c;
  const Cg = C / G, Fg = F / G;
  expectShape('Conv2D', 'x', x, [N, H, W, C]);
  expectShape('Conv2D', 'w', w, [KH, KW, Cg, F]);
  const xv = vals(x), wv = vals(w);
  const y = allocArray(x.dtype, N * OH * OW * F, [N, OH, OW, F]);
  const acc = new Float64Array(F);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        acc.fill(0);
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
            if (iw < 0 || iw >= W) continue;
            const xAt = ((n * H + ih) * W + iw) * C;
            for (let g = 0; g < G; g++) {
              for (let ci = 0; ci < Cg; ci++) {
                const xval = xv[xAt + g * Cg + ci];
                const wAt = ((kh * KW + kw) * Cg + ci) * F + g * Fg;
                for (let j = 0; j < Fg; j++) acc[g * Fg + j] += xval * wv[wAt + j];
              }
            }
          }
        }
        y.set(acc, ((n * OH + oh) * OW + ow) * F);
      }
    }
  }
  return out(be, y, [N, OH, OW, F], x.dtype);
}

function conv2dBackpropInput(dy: TensorInfo, w: TensorInfo, c: Conv2DInfo, be: Backend): TensorInfo {
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW, groups: G } = c;
  const Cg = C / G, Fg = F / G;
  expectShape('Conv2DBackpropInput', 'dy', dy, [N, OH, OW, F]);
  expectShape('Conv2DBackpropInput', 'w', w, [KH, KW, Cg, F]);
  const dyv = vals(dy), wv = vals(w);
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyAt = ((n * OH + oh) * OW + ow) * F;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
            if (iw < 0 || iw >= W) continue;
            const xAt = ((n * H + ih) * W + iw) * C;
            // Each tap sends dy back to the input cell it read: dx += sum_f dy[f] * w[kh,kw,ci,f].
            for (let g = 0; g < G; g++) {
              for (let ci = 0; ci < Cg; ci++) {
                const wAt = ((kh * KW + kw) * Cg + ci) * F + g * Fg;
                let s = 0;
                for (let j = 0; j < Fg; j++) s += dyv[dyAt + g * Fg + j] * wv[wAt + j];
                dx[xAt + g * Cg + ci] += s;
              }
            }
          }
        }
      }
    }
  }
  return out(be, rounded(dx, dy.dtype), [N, H, W, C], dy.dtype);
}

function conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, c: Conv2DInfo, be: Backend): TensorInfo {
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW, groups: G } = c;
  const Cg = C / G, Fg = F / G;
  expectShape('Conv2DBackpropFilter', 'x', x, [N, H, W, C]);
  expectShape('Conv2DBackpropFilter', 'dy', dy, [N, OH, OW, F]);
  const xv = vals(x), dyv = vals(dy);
  const dw = new Float64Array(KH * KW * Cg * F);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyAt = ((n * OH + oh) * OW + ow) * F;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
            if (iw < 0 || iw >= W) continue;
            const xAt = ((n * H + ih) * W + iw) * C;
            // dw[kh,kw,ci,f] += x[n,ih,iw,g*Cg+ci] * dy[n,oh,ow,f], summed over every output position.
            for (let g = 0; g < G; g++) {
              for (let ci = 0; ci < Cg; ci++) {
                const xval = xv[xAt + g * Cg + ci];
                const wAt = ((kh * KW + kw) * Cg + ci) * F + g * Fg;
                for (let j = 0; j < Fg; j++) dw[wAt + j] += xval * dyv[dyAt + g * Fg + j];
              }
            }
          }
        }
      }
    }
  }
  return out(be, rounded(dw, x.dtype), [KH, KW, Cg, F], x.dtype);
}

// ---------------------------------------------------------------- 3D
// The 2D loops with a depth axis in front of the height axis.

/** Visit every valid tap of every 3D output position: (output offset, input offset, weight offset of ci=0,f=0). */
function forEachTap3D(c: Conv3DInfo, visit: (yAt: number, xAt: number, wAt: number) => void): void {
  const { batch: N, inD: D, inH: H, inW: W, inC: C, outD: OD, outH: OH, outW: OW, outC: F, kD: KD, kH: KH, kW: KW } = c;
  const Cg = C / c.groups;
  for (let n = 0; n < N; n++) {
    for (let od = 0; od < OD; od++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const yAt = (((n * OD + od) * OH + oh) * OW + ow) * F;
          for (let kd = 0; kd < KD; kd++) {
            const id = od * c.strideD - c.padFront + kd * c.dilationD;
            if (id < 0 || id >= D) continue;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
                if (iw < 0 || iw >= W) continue;
                visit(yAt, (((n * D + id) * H + ih) * W + iw) * C, ((kd * KH + kh) * KW + kw) * Cg * F);
              }
            }
          }
        }
      }
    }
  }
}

const shapes3D = (c: Conv3DInfo) => ({
  x: [c.batch, c.inD, c.inH, c.inW, c.inC],
  w: [c.kD, c.kH, c.kW, c.inC / c.groups, c.outC],
  y: [c.batch, c.outD, c.outH, c.outW, c.outC],
});

function conv3d(x: TensorInfo, w: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const s = shapes3D(c);
  expectShape('Conv3D', 'x', x, s.x);
  expectShape('Conv3D', 'w', w, s.w);
  const xv = vals(x), wv = vals(w);
  const acc = new Float64Array(c.batch * c.outD * c.outH * c.outW * F);
  forEachTap3D(c, (yAt, xAt, wAt0) => {
    for (let g = 0; g < G; g++) {
      for (let ci = 0; ci < Cg; ci++) {
        const xval = xv[xAt + g * Cg + ci];
        const wAt = wAt0 + ci * F + g * Fg;
        for (let j = 0; j < Fg; j++) acc[yAt + g * Fg + j] += xval * wv[wAt + j];
      }
    }
  });
  return out(be, rounded(acc, x.dtype), s.y, x.dtype);
}

function conv3dBackpropInput(dy: TensorInfo, w: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const s = shapes3D(c);
  expectShape('Conv3DBackpropInput', 'dy', dy, s.y);
  expectShape('Conv3DBackpropInput', 'w', w, s.w);
  const dyv = vals(dy), wv = vals(w);
  const dx = new Float64Array(c.batch * c.inD * c.inH * c.inW * c.inC);
  forEachTap3D(c, (yAt, xAt, wAt0) => {
    for (let g = 0; g < G; g++) {
      for (let ci = 0; ci < Cg; ci++) {
        const wAt = wAt0 + ci * F + g * Fg;
        let sum = 0;
        for (let j = 0; j < Fg; j++) sum += dyv[yAt + g * Fg + j] * wv[wAt + j];
        dx[xAt + g * Cg + ci] += sum;
      }
    }
  });
  return out(be, rounded(dx, dy.dtype), s.x, dy.dtype);
}

function conv3dBackpropFilter(x: TensorInfo, dy: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const s = shapes3D(c);
  expectShape('Conv3DBackpropFilter', 'x', x, s.x);
  expectShape('Conv3DBackpropFilter', 'dy', dy, s.y);
  const xv = vals(x), dyv = vals(dy);
  const dw = new Float64Array(c.kD * c.kH * c.kW * Cg * F);
  forEachTap3D(c, (yAt, xAt, wAt0) => {
    for (let g = 0; g < G; g++) {
      for (let ci = 0; ci < Cg; ci++) {
        const xval = xv[xAt + g * Cg + ci];
        const wAt = wAt0 + ci * F + g * Fg;
        for (let j = 0; j < Fg; j++) dw[wAt + j] += xval * dyv[yAt + g * Fg + j];
      }
    }
  });
  return out(be, rounded(dw, x.dtype), s.w, x.dtype);
}

// ---------------------------------------------------------------- registration

registerKernel({ kernelName: 'Conv2D', backendName: 'ts', kernelFunc: ([x, w], a, be) => conv2d(x, w, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'ts', kernelFunc: ([dy, w], a, be) => conv2dBackpropInput(dy, w, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'ts', kernelFunc: ([x, dy], a, be) => conv2dBackpropFilter(x, dy, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv3D', backendName: 'ts', kernelFunc: ([x, w], a, be) => conv3d(x, w, a.conv as Conv3DInfo, be) });
registerKernel({ kernelName: 'Conv3DBackpropInput', backendName: 'ts', kernelFunc: ([dy, w], a, be) => conv3dBackpropInput(dy, w, a.conv as Conv3DInfo, be) });
registerKernel({ kernelName: 'Conv3DBackpropFilter', backendName: 'ts', kernelFunc: ([x, dy], a, be) => conv3dBackpropFilter(x, dy, a.conv as Conv3DInfo, be) });
