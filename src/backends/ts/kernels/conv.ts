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
import type { Backend, TensorInfo } from '../../../registry/backend.js';
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

function conv2d(x: TensorInfo, w: TensorInfo, c: Conv2DInfo, be: Backend): TensorInfo {
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv2D', 'x', x, [N, H, W, C]);
  expectShape('Conv2D', 'w', w, [KH, KW, Cg, F]);
  const xv = vals(x), wv = vals(w);
  const y = allocArray(x.dtype, N * OH * OW * F);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let f = 0; f < F; f++) {
          const c0 = Math.floor(f / Fg) * Cg;
          let acc = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < Cg; ci++) {
                acc += xv[((n * H + ih) * W + iw) * C + c0 + ci] * wv[((kh * KW + kw) * Cg + ci) * F + f];
              }
            }
          }
          y[((n * OH + oh) * OW + ow) * F + f] = acc;
        }
      }
    }
  }
  return out(be, y, [N, OH, OW, F], x.dtype);
}

function conv2dBackpropInput(dy: TensorInfo, w: TensorInfo, c: Conv2DInfo, be: Backend): TensorInfo {
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv2DBackpropInput', 'dy', dy, [N, OH, OW, F]);
  expectShape('Conv2DBackpropInput', 'w', w, [KH, KW, Cg, F]);
  const dyv = vals(dy), wv = vals(w);
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let f = 0; f < F; f++) {
          const c0 = Math.floor(f / Fg) * Cg;
          const g = dyv[((n * OH + oh) * OW + ow) * F + f];
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < Cg; ci++) {
                dx[((n * H + ih) * W + iw) * C + c0 + ci] += g * wv[((kh * KW + kw) * Cg + ci) * F + f];
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
  const { batch: N, inH: H, inW: W, inC: C, outH: OH, outW: OW, outC: F, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv2DBackpropFilter', 'x', x, [N, H, W, C]);
  expectShape('Conv2DBackpropFilter', 'dy', dy, [N, OH, OW, F]);
  const xv = vals(x), dyv = vals(dy);
  const dw = allocArray(x.dtype, KH * KW * Cg * F);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let ci = 0; ci < Cg; ci++) {
        for (let f = 0; f < F; f++) {
          const c0 = Math.floor(f / Fg) * Cg;
          let acc = 0;
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
              if (ih < 0 || ih >= H) continue;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
                if (iw < 0 || iw >= W) continue;
                acc += xv[((n * H + ih) * W + iw) * C + c0 + ci] * dyv[((n * OH + oh) * OW + ow) * F + f];
              }
            }
          }
          dw[((kh * KW + kw) * Cg + ci) * F + f] = acc;
        }
      }
    }
  }
  return out(be, dw, [KH, KW, Cg, F], x.dtype);
}

// ---------------------------------------------------------------- 3D

function conv3d(x: TensorInfo, w: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const { batch: N, inD: D, inH: H, inW: W, inC: C, outD: OD, outH: OH, outW: OW, outC: F, kD: KD, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv3D', 'x', x, [N, D, H, W, C]);
  expectShape('Conv3D', 'w', w, [KD, KH, KW, Cg, F]);
  const xv = vals(x), wv = vals(w);
  const y = allocArray(x.dtype, N * OD * OH * OW * F);
  for (let n = 0; n < N; n++) {
    for (let od = 0; od < OD; od++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          for (let f = 0; f < F; f++) {
            const c0 = Math.floor(f / Fg) * Cg;
            let acc = 0;
            for (let kd = 0; kd < KD; kd++) {
              const id = od * c.strideD - c.padFront + kd * c.dilationD;
              if (id < 0 || id >= D) continue;
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
                  if (iw < 0 || iw >= W) continue;
                  for (let ci = 0; ci < Cg; ci++) {
                    acc += xv[(((n * D + id) * H + ih) * W + iw) * C + c0 + ci] * wv[(((kd * KH + kh) * KW + kw) * Cg + ci) * F + f];
                  }
                }
              }
            }
            y[(((n * OD + od) * OH + oh) * OW + ow) * F + f] = acc;
          }
        }
      }
    }
  }
  return out(be, y, [N, OD, OH, OW, F], x.dtype);
}

function conv3dBackpropInput(dy: TensorInfo, w: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const { batch: N, inD: D, inH: H, inW: W, inC: C, outD: OD, outH: OH, outW: OW, outC: F, kD: KD, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv3DBackpropInput', 'dy', dy, [N, OD, OH, OW, F]);
  expectShape('Conv3DBackpropInput', 'w', w, [KD, KH, KW, Cg, F]);
  const dyv = vals(dy), wv = vals(w);
  const dx = new Float64Array(N * D * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let od = 0; od < OD; od++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          for (let f = 0; f < F; f++) {
            const c0 = Math.floor(f / Fg) * Cg;
            const g = dyv[(((n * OD + od) * OH + oh) * OW + ow) * F + f];
            for (let kd = 0; kd < KD; kd++) {
              const id = od * c.strideD - c.padFront + kd * c.dilationD;
              if (id < 0 || id >= D) continue;
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
                  if (iw < 0 || iw >= W) continue;
                  for (let ci = 0; ci < Cg; ci++) {
                    dx[(((n * D + id) * H + ih) * W + iw) * C + c0 + ci] += g * wv[(((kd * KH + kh) * KW + kw) * Cg + ci) * F + f];
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return out(be, rounded(dx, dy.dtype), [N, D, H, W, C], dy.dtype);
}

function conv3dBackpropFilter(x: TensorInfo, dy: TensorInfo, c: Conv3DInfo, be: Backend): TensorInfo {
  const { batch: N, inD: D, inH: H, inW: W, inC: C, outD: OD, outH: OH, outW: OW, outC: F, kD: KD, kH: KH, kW: KW } = c;
  const Cg = C / c.groups, Fg = F / c.groups;
  expectShape('Conv3DBackpropFilter', 'x', x, [N, D, H, W, C]);
  expectShape('Conv3DBackpropFilter', 'dy', dy, [N, OD, OH, OW, F]);
  const xv = vals(x), dyv = vals(dy);
  const dw = allocArray(x.dtype, KD * KH * KW * Cg * F);
  for (let kd = 0; kd < KD; kd++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        for (let ci = 0; ci < Cg; ci++) {
          for (let f = 0; f < F; f++) {
            const c0 = Math.floor(f / Fg) * Cg;
            let acc = 0;
            for (let n = 0; n < N; n++) {
              for (let od = 0; od < OD; od++) {
                const id = od * c.strideD - c.padFront + kd * c.dilationD;
                if (id < 0 || id >= D) continue;
                for (let oh = 0; oh < OH; oh++) {
                  const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
                  if (ih < 0 || ih >= H) continue;
                  for (let ow = 0; ow < OW; ow++) {
                    const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
                    if (iw < 0 || iw >= W) continue;
                    acc += xv[(((n * D + id) * H + ih) * W + iw) * C + c0 + ci] * dyv[(((n * OD + od) * OH + oh) * OW + ow) * F + f];
                  }
                }
              }
            }
            dw[(((kd * KH + kh) * KW + kw) * Cg + ci) * F + f] = acc;
          }
        }
      }
    }
  }
  return out(be, dw, [KD, KH, KW, Cg, F], x.dtype);
}

// ---------------------------------------------------------------- registration

registerKernel({ kernelName: 'Conv2D', backendName: 'ts', kernelFunc: ([x, w], a, be) => conv2d(x, w, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'ts', kernelFunc: ([dy, w], a, be) => conv2dBackpropInput(dy, w, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'ts', kernelFunc: ([x, dy], a, be) => conv2dBackpropFilter(x, dy, a.conv as Conv2DInfo, be) });
registerKernel({ kernelName: 'Conv3D', backendName: 'ts', kernelFunc: ([x, w], a, be) => conv3d(x, w, a.conv as Conv3DInfo, be) });
registerKernel({ kernelName: 'Conv3DBackpropInput', backendName: 'ts', kernelFunc: ([dy, w], a, be) => conv3dBackpropInput(dy, w, a.conv as Conv3DInfo, be) });
registerKernel({ kernelName: 'Conv3DBackpropFilter', backendName: 'ts', kernelFunc: ([x, dy], a, be) => conv3dBackpropFilter(x, dy, a.conv as Conv3DInfo, be) });
