/**
 * Convolution kernels: Conv2D / Conv3D and their input and filter gradients, channels
 * last. x is [N,(D,)H,W,C], w is [(KD,)KH,KW,C/groups,F], y is [N,(OD,)OH,OW,F]; the
 * geometry (sizes, strides, dilations, paddings, groups) travels in attrs as a
 * Conv2DInfo or Conv3DInfo, computed and validated by the op (conv_info.ts).
 *
 * With g = f div (F/groups) the group of filter f, Cg = C/groups, and
 * ih = oh*sh - padTop + kh*dh, iw = ow*sw - padLeft + kw*dw (taps outside x read zero):
 *
 *   Conv2D               y[n,oh,ow,f]  = sum_{kh,kw,ci} x[n,ih,iw,g*Cg+ci] * w[kh,kw,ci,f]
 *   Conv2DBackpropInput  dx[n,ih,iw,g*Cg+ci] += dy[n,oh,ow,f] * w[kh,kw,ci,f]   (each tap sends back)
 *   Conv2DBackpropFilter dw[kh,kw,ci,f] = sum_{n,oh,ow} x[n,ih,iw,g*Cg+ci] * dy[n,oh,ow,f]
 *
 * and the same with a depth axis for Conv3D (id = od*sd - padFront + kd*dd). A 2-D
 * convolution is a 3-D one with depth 1 (conv2dAs3d), so the references below are one
 * set of three loops, and the wasm and webgpu backends share the same view. The op
 * (src/ops/conv.ts) records dx = Conv2DBackpropInput(dy, w), dw = Conv2DBackpropFilter(x, dy).
 */
import { allocArray, type DType, type TypedArray } from '../tensor/dtype.js';
import type { Conv2DInfo, Conv3DInfo } from './conv_info.js';
import type { TensorInfo } from '../tensor/backend.js';
import { fmtShape } from '../tensor/shape.js';
import { defineKernel, expectSameDtype, expectShape, type HostTensor, type Kernel } from './kernel.js';
import { EPILOGUE_MODE } from './wasm_abi.js';

export interface Conv2DAttrs {
  conv: Conv2DInfo;
}
export interface Conv3DAttrs {
  conv: Conv3DInfo;
}

/** A Conv2DInfo as the Conv3DInfo of depth 1 (every 2-D kernel runs on the 3-D code). */
export function conv2dAs3d(c: Conv2DInfo): Conv3DInfo {
  return {
    batch: c.batch, inD: 1, inH: c.inH, inW: c.inW, inC: c.inC,
    outD: 1, outH: c.outH, outW: c.outW, outC: c.outC,
    kD: 1, kH: c.kH, kW: c.kW, strideD: 1, strideH: c.strideH, strideW: c.strideW,
    dilationD: 1, dilationH: c.dilationH, dilationW: c.dilationW,
    padFront: 0, padBack: 0, padTop: c.padTop, padBottom: c.padBottom, padLeft: c.padLeft, padRight: c.padRight,
    groups: c.groups,
  };
}

/** The 3-D view of either geometry. */
export function asConv3d(c: Conv2DInfo | Conv3DInfo): Conv3DInfo {
  return 'inD' in c ? c : conv2dAs3d(c);
}

/** Shapes of x, w and y for a geometry, in its own rank (a Conv2DInfo has no depth axes). */
export interface ConvShapes {
  x: number[];
  w: number[];
  y: number[];
}

/** x, w and y shapes of a convolution geometry (the one copy: checks, references and backends use it). */
export function convShapes(c: Conv2DInfo | Conv3DInfo): ConvShapes {
  const d3 = 'inD' in c;
  const sp = (d: number, h: number, w: number) => (d3 ? [d, h, w] : [h, w]);
  const g = asConv3d(c);
  return {
    x: [g.batch, ...sp(g.inD, g.inH, g.inW), g.inC],
    w: [...sp(g.kD, g.kH, g.kW), g.inC / g.groups, g.outC],
    y: [g.batch, ...sp(g.outD, g.outH, g.outW), g.outC],
  };
}

/** Copy float64 accumulators into a fresh array of the output dtype. */
function rounded(acc: Float64Array, dtype: DType, shape: readonly number[]): TypedArray {
  const y = allocArray(dtype, acc.length, shape);
  y.set(acc);
  return y;
}

// ---------------------------------------------------------------- reference loops
// Loop order: output position outermost, filters innermost, so that w and dy are read
// contiguously (w's last axis is F). Each output still sums its terms in (kd, kh, kw, ci)
// order. Sums run in float64 (JS numbers) and are rounded once into the output dtype, so
// the float32 oracle does not drift.

/**
 * The taps of output position (n, od, oh, ow) that land inside x: writes `taps` pairs of
 * (offset of x[n,id,ih,iw,0], offset of w[kd,kh,kw,0,0]) into xAt/wAt in (kd, kh, kw)
 * order and returns `taps`. Each kernel walks the output positions itself and calls this
 * (a small monomorphic function the JIT inlines), so the inner loops make no calls.
 */
function tapsAt(c: Conv3DInfo, n: number, od: number, oh: number, ow: number, xAt: Offsets, wAt: Offsets): number {
  const { inD: D, inH: H, inW: W, inC: C, outC: F, kD: KD, kH: KH, kW: KW } = c;
  const CgF = (C / c.groups) * F;
  let taps = 0;
  for (let kd = 0; kd < KD; kd++) {
    const id = od * c.strideD - c.padFront + kd * c.dilationD;
    if (id < 0 || id >= D) continue;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
        if (iw < 0 || iw >= W) continue;
        xAt[taps] = (((n * D + id) * H + ih) * W + iw) * C;
        wAt[taps++] = ((kd * KH + kh) * KW + kw) * CgF;
      }
    }
  }
  return taps;
}

type Offsets = Int32Array | Float64Array;

/** Scratch for tapsAt: one entry per filter tap (exact float64 offsets past 2^31 elements). */
function tapScratch(c: Conv3DInfo): [Offsets, Offsets] {
  const taps = c.kD * c.kH * c.kW;
  const largest = Math.max(c.batch * c.inD * c.inH * c.inW * c.inC, taps * (c.inC / c.groups) * c.outC);
  return largest < 2 ** 31 ? [new Int32Array(taps), new Int32Array(taps)] : [new Float64Array(taps), new Float64Array(taps)];
}

/** y = conv(x, w). */
function convForward(x: HostTensor, w: HostTensor, conv: Conv2DInfo | Conv3DInfo): HostTensor {
  const c = asConv3d(conv);
  const s = convShapes(conv);
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const xv = x.values, wv = w.values;
  const y = allocArray(x.dtype, c.batch * c.outD * c.outH * c.outW * F, s.y);
  const acc = new Float64Array(F);
  const [xAt, wAt] = tapScratch(c);
  let yAt = 0;
  for (let n = 0; n < c.batch; n++) for (let od = 0; od < c.outD; od++) for (let oh = 0; oh < c.outH; oh++) for (let ow = 0; ow < c.outW; ow++, yAt += F) {
    const taps = tapsAt(c, n, od, oh, ow, xAt, wAt);
    acc.fill(0);
    for (let t = 0; t < taps; t++) {
      for (let g = 0; g < G; g++) {
        for (let ci = 0; ci < Cg; ci++) {
          const xval = xv[xAt[t] + g * Cg + ci];
          const wi = wAt[t] + ci * F + g * Fg;
          for (let j = 0; j < Fg; j++) acc[g * Fg + j] += xval * wv[wi + j];
        }
      }
    }
    y.set(acc, yAt);
  }
  return { values: y, shape: s.y, dtype: x.dtype };
}

/** dx = d conv / dx applied to dy. */
function convBackpropInput(dy: HostTensor, w: HostTensor, conv: Conv2DInfo | Conv3DInfo): HostTensor {
  const c = asConv3d(conv);
  const s = convShapes(conv);
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const dyv = dy.values, wv = w.values;
  const dx = new Float64Array(c.batch * c.inD * c.inH * c.inW * c.inC);
  const [xAt, wAt] = tapScratch(c);
  let yAt = 0;
  for (let n = 0; n < c.batch; n++) for (let od = 0; od < c.outD; od++) for (let oh = 0; oh < c.outH; oh++) for (let ow = 0; ow < c.outW; ow++, yAt += F) {
    const taps = tapsAt(c, n, od, oh, ow, xAt, wAt);
    // Each tap sends dy back to the input cell it read: dx += sum_f dy[f] * w[kd,kh,kw,ci,f].
    for (let t = 0; t < taps; t++) {
      for (let g = 0; g < G; g++) {
        for (let ci = 0; ci < Cg; ci++) {
          const wi = wAt[t] + ci * F + g * Fg;
          let sum = 0;
          for (let j = 0; j < Fg; j++) sum += dyv[yAt + g * Fg + j] * wv[wi + j];
          dx[xAt[t] + g * Cg + ci] += sum;
        }
      }
    }
  }
  return { values: rounded(dx, dy.dtype, s.x), shape: s.x, dtype: dy.dtype };
}

/** dw = d conv / dw applied to dy. */
function convBackpropFilter(x: HostTensor, dy: HostTensor, conv: Conv2DInfo | Conv3DInfo): HostTensor {
  const c = asConv3d(conv);
  const s = convShapes(conv);
  const G = c.groups, Cg = c.inC / G, Fg = c.outC / G, F = c.outC;
  const xv = x.values, dyv = dy.values;
  const dw = new Float64Array(c.kD * c.kH * c.kW * Cg * F);
  const [xAt, wAt] = tapScratch(c);
  let yAt = 0;
  for (let n = 0; n < c.batch; n++) for (let od = 0; od < c.outD; od++) for (let oh = 0; oh < c.outH; oh++) for (let ow = 0; ow < c.outW; ow++, yAt += F) {
    const taps = tapsAt(c, n, od, oh, ow, xAt, wAt);
    // dw[kd,kh,kw,ci,f] += x[n,id,ih,iw,g*Cg+ci] * dy[n,od,oh,ow,f], summed over every output position.
    for (let t = 0; t < taps; t++) {
      for (let g = 0; g < G; g++) {
        for (let ci = 0; ci < Cg; ci++) {
          const xval = xv[xAt[t] + g * Cg + ci];
          const wi = wAt[t] + ci * F + g * Fg;
          for (let j = 0; j < Fg; j++) dw[wi + j] += xval * dyv[yAt + g * Fg + j];
        }
      }
    }
  }
  return { values: rounded(dw, x.dtype, s.w), shape: s.w, dtype: x.dtype };
}

// ---------------------------------------------------------------- contracts

/** Which computation each convolution kernel is: the forward pass, the input gradient or the filter gradient. */
export type ConvRole = 'forward' | 'input' | 'filter';

/** Per role: the inputs' names, the geometry shapes they must have, and the reference loop. */
const ROLES: Record<ConvRole, { inputs: readonly [string, string]; shapes: readonly [keyof ConvShapes, keyof ConvShapes]; reference: typeof convForward }> = {
  forward: { inputs: ['x', 'w'], shapes: ['x', 'w'], reference: convForward },
  input: { inputs: ['dy', 'w'], shapes: ['y', 'w'], reference: convBackpropInput },
  filter: { inputs: ['x', 'dy'], shapes: ['x', 'y'], reference: convBackpropFilter },
};

/** A convolution contract: its two inputs checked against the shapes the geometry gives them. */
function convKernel<A extends { conv: Conv2DInfo | Conv3DInfo }>(name: string, role: ConvRole) {
  const r = ROLES[role];
  return defineKernel<A>({
    name,
    inputs: r.inputs,
    check(inputs, { conv }) {
      const s = convShapes(conv);
      expectShape(name, r.inputs[0], inputs[0], s[r.shapes[0]]);
      expectShape(name, r.inputs[1], inputs[1], s[r.shapes[1]]);
      expectSameDtype(name, r.inputs, inputs);
    },
    reference: ([a, b], { conv }) => r.reference(a, b, conv),
  });
}

export const Conv2D = convKernel<Conv2DAttrs>('Conv2D', 'forward');
export const Conv2DBackpropInput = convKernel<Conv2DAttrs>('Conv2DBackpropInput', 'input');
export const Conv2DBackpropFilter = convKernel<Conv2DAttrs>('Conv2DBackpropFilter', 'filter');
export const Conv3D = convKernel<Conv3DAttrs>('Conv3D', 'forward');
export const Conv3DBackpropInput = convKernel<Conv3DAttrs>('Conv3DBackpropInput', 'input');
export const Conv3DBackpropFilter = convKernel<Conv3DAttrs>('Conv3DBackpropFilter', 'filter');

// ---------------------------------------------------------------- fused forward

/**
 * The activations FusedConv2D applies after the bias: the ones inference graphs put after
 * a convolution (and a folded batch norm). 'leakyRelu' takes `leakyReluAlpha` (>= 0);
 * 'hardSigmoid' is PyTorch's (min(max(z/6 + 1/2, 0), 1), the hardSigmoid op's default),
 * 'hardSwish' z times it (MobileNetV3) and 'swish' z sigmoid(z) (PyTorch's SiLU: EfficientNet,
 * YOLOv5 and later).
 */
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'leakyRelu' | 'hardSigmoid' | 'hardSwish' | 'swish';
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'];

export interface FusedConv2DAttrs extends Conv2DAttrs {
  activation: FusedActivation;
  /** The slope below zero of 'leakyRelu' (>= 0; ignored by the others). */
  leakyReluAlpha?: number;
}

/**
 * An activation as the epilogue every backend runs: mode clamp is y = min(max(leaky(z), lo),
 * hi) with leaky(z) = z < 0 ? alpha z : z; modes hardSigmoid and hardSwish are
 * h = min(max(z/6 + 1/2, 0), 1) and z h, mode swish z sigmoid(z) (assembly/epilogue_f32.ts).
 */
export function fusedEpilogue(attrs: FusedConv2DAttrs): { alpha: number; lo: number; hi: number; mode: number } {
  const clamp = (alpha: number, lo: number, hi: number) => ({ alpha, lo, hi, mode: EPILOGUE_MODE.clamp });
  switch (attrs.activation) {
    case 'linear': return clamp(1, -Infinity, Infinity);
    case 'relu': return clamp(1, 0, Infinity);
    case 'relu6': return clamp(1, 0, 6);
    case 'leakyRelu': return clamp(attrs.leakyReluAlpha ?? 0.01, -Infinity, Infinity);
    case 'hardSigmoid': return { ...clamp(1, -Infinity, Infinity), mode: EPILOGUE_MODE.hardSigmoid };
    case 'hardSwish': return { ...clamp(1, -Infinity, Infinity), mode: EPILOGUE_MODE.hardSwish };
    case 'swish': return { ...clamp(1, -Infinity, Infinity), mode: EPILOGUE_MODE.swish };
  }
}

/**
 * FusedConv2D: y[n,oh,ow,f] = act(Conv2D(x, w)[n,oh,ow,f] + bias[f]) in one kernel, so the
 * bias and the activation cost no extra pass over y (TF.js's fused conv2d). The op
 * (src/ops/conv.ts, conv2d with an `activation`) records its gradient from the output:
 * dz = dy * act'(z), read from y (y > 0 exactly where z > 0 for relu, relu6 and leaky relu
 * with alpha >= 0; relu6 also needs y < 6; hard sigmoid's slope 1/6 where 0 < y < 1), then
 * the Conv2D gradients of dz and db = sum dz. Hard swish's and swish's slopes need z, so the
 * op runs them unfused when a gradient is recorded.
 */
export const FusedConv2D = defineKernel<FusedConv2DAttrs>({
  name: 'FusedConv2D',
  inputs: ['x', 'w', 'bias'],
  check: (inputs, attrs) => checkFused('FusedConv2D', '', inputs, attrs),
  reference: ([x, w, bias], attrs) => fusedReference(x, w, bias, attrs),
});

/** FusedConv2D's checks; `at` names the branch in FusedConv2DConcat's messages ('' for FusedConv2D). */
function checkFused(kernel: string, at: string, inputs: readonly TensorInfo[], attrs: FusedConv2DAttrs): void {
  const s = convShapes(attrs.conv);
  const names = ['x', 'w', 'bias'].map((n) => `${at}${n}`);
  expectShape(kernel, names[0], inputs[0], s.x);
  expectShape(kernel, names[1], inputs[1], s.w);
  expectShape(kernel, names[2], inputs[2], [attrs.conv.outC]);
  expectSameDtype(kernel, names, inputs);
  if (!FUSED_ACTIVATIONS.includes(attrs.activation)) {
    throw new RangeError(`${kernel}: ${at}activation must be one of ${FUSED_ACTIVATIONS.join(', ')}, received ${JSON.stringify(attrs.activation)}`);
  }
  const a = attrs.leakyReluAlpha;
  if (a !== undefined && !(Number.isFinite(a) && a >= 0)) throw new RangeError(`${kernel}: ${at}leakyReluAlpha must be a finite number >= 0, received ${a}`);
}

/** FusedConv2D's reference: the convolution in float64, then bias and activation per element. */
function fusedReference(x: HostTensor, w: HostTensor, bias: HostTensor, attrs: FusedConv2DAttrs): HostTensor {
  const y = convForward(x, w, attrs.conv);
  const { alpha, lo, hi, mode } = fusedEpilogue(attrs);
  const v = y.values, b = bias.values, F = attrs.conv.outC;
  for (let i = 0; i < v.length; i++) {
    v[i] += b[i % F];
    let z = v[i];
    if (mode === EPILOGUE_MODE.swish) {
      // z sigmoid(z), the sigmoid through exp(-|z|) (no overflow)
      const e = Math.exp(-Math.abs(z));
      v[i] = z * (z >= 0 ? 1 / (1 + e) : e / (1 + e));
      continue;
    }
    if (mode !== EPILOGUE_MODE.clamp) {
      const h = Number.isNaN(z) ? z : Math.min(Math.max(z / 6 + 0.5, 0), 1);
      v[i] = mode === EPILOGUE_MODE.hardSwish ? z * h : h;
      continue;
    }
    if (z < 0) z *= alpha;
    v[i] = Math.min(Math.max(z, lo), hi);
  }
  return y;
}

export interface FusedConv2DConcatAttrs {
  /** One FusedConv2D per branch, in the order of the concatenation. */
  branches: FusedConv2DAttrs[];
}

/**
 * FusedConv2DConcat: y = concat along channels of FusedConv2D(x_i, w_i, bias_i), inputs
 * [x_0, w_0, bias_0, x_1, ...], every branch of one batch, height and width. wasm writes each
 * convolution into its slice of y (no copy). Inference only: the op (conv2dConcat) runs the
 * separate convolutions and a concat when a gradient is recorded.
 */
export const FusedConv2DConcat = defineKernel<FusedConv2DConcatAttrs>({
  name: 'FusedConv2DConcat',
  inputs: ['x_0', 'w_0', 'bias_0', '...'],
  check(inputs, { branches }) {
    if (!Array.isArray(branches) || branches.length === 0) throw new RangeError(`FusedConv2DConcat: branches must be a non-empty array, received ${JSON.stringify(branches)}`);
    if (inputs.length !== 3 * branches.length) {
      throw new RangeError(`FusedConv2DConcat: expected 3 inputs (x, w, bias) for each of the ${branches.length} branches, ${3 * branches.length} in all, received ${inputs.length}`);
    }
    const [n, oh, ow] = convShapes(branches[0].conv).y;
    branches.forEach((b, i) => {
      checkFused('FusedConv2DConcat', `branch ${i}: `, inputs.slice(3 * i, 3 * i + 3), b);
      const y = convShapes(b.conv).y;
      if (y.length !== 4 || y[0] !== n || y[1] !== oh || y[2] !== ow) {
        throw new RangeError(`FusedConv2DConcat: branch ${i} gives an output of shape ${fmtShape(y)}, but branch 0 gives batch ${n}, height ${oh} and width ${ow}: the branches must agree on those`);
      }
    });
    expectSameDtype('FusedConv2DConcat', branches.map((_, i) => `x_${i}`), branches.map((_, i) => inputs[3 * i]));
  },
  reference(inputs, { branches }) {
    const ys = branches.map((b, i) => fusedReference(inputs[3 * i], inputs[3 * i + 1], inputs[3 * i + 2], b));
    const [n, oh, ow] = ys[0].shape;
    const F = branches.reduce((acc, b) => acc + b.conv.outC, 0);
    const shape = [n, oh, ow, F];
    const out = allocArray(ys[0].dtype, n * oh * ow * F, shape);
    let at = 0;
    for (const y of ys) {
      const f = y.shape[3];
      for (let p = 0; p < n * oh * ow; p++) for (let j = 0; j < f; j++) out[p * F + at + j] = y.values[p * f + j];
      at += f;
    }
    return { values: out, shape, dtype: ys[0].dtype };
  },
});

/** Every convolution kernel with its role (backends register them from this one list). */
export const CONV_KERNELS: readonly (readonly [Kernel<Conv2DAttrs> | Kernel<Conv3DAttrs>, ConvRole])[] = [
  [Conv2D, 'forward'], [Conv2DBackpropInput, 'input'], [Conv2DBackpropFilter, 'filter'],
  [Conv3D, 'forward'], [Conv3DBackpropInput, 'input'], [Conv3DBackpropFilter, 'filter'],
];
