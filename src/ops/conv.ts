/**
 * Convolutions (channels-last activations, HWIO filters, as in Keras and TF.js).
 *
 * Deep-learning "convolution" is cross-correlation: y[n,oh,ow,f] = b[f] + sum over
 * kh, kw and the channels of f's group of x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c] * w[kh,kw,c,f].
 * Output size per axis: floor((n + before + after - d*(k-1) - 1) / s) + 1, i.e.
 * floor((n + 2p - f)/s + 1). `convolve2d` is the true (flipped-kernel) convolution.
 *
 * Gradients (written beside each forward): dx = Conv2DBackpropInput(dy, w),
 * dw = Conv2DBackpropFilter(x, dy), db = dy summed over N and the spatial axes (the
 * adjoint of the bias broadcast). conv1d and depthwiseConv2d are views onto conv2d;
 * conv2dTranspose is Conv2DBackpropInput run forwards, so its gradient uses Conv2D.
 */
import {
  computeConv1DInfo, computeConv2DInfo, computeConv2DTransposeInfo, computeConv3DInfo,
  type Conv2DInfo, type ConvOpts, type ConvTransposeOpts,
} from '../kernels/conv_info.js';
import {
  Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, Conv3D, Conv3DBackpropFilter, Conv3DBackpropInput,
  FUSED_ACTIVATIONS, FusedConv2D, FusedConv2DConcat, type FusedActivation, type FusedConv2DAttrs,
} from '../kernels/conv.js';
import { LeakyReluGrad, ReluGrad } from '../kernels/activation.js';
import { outputOf } from '../registry/dispatch.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { add, affine, less, where } from './elementwise.js';
import { hardSwish, swish } from './activation.js';
import { isGradEnabled, record } from '../autograd/reverse_mode.js';
import { sum } from './reduce.js';
import { zeros } from './creation.js';
import { concat, reshape, reverse } from './shape.js';
import { assertTensor } from './arg_checks.js';

export type { Padding, ConvOpts, ConvTransposeOpts } from '../kernels/conv_info.js';
export type { FusedActivation } from '../kernels/conv.js';

export interface ConvOptions extends ConvOpts {
  /** Per-filter bias [F], broadcast over every output position. */
  bias?: Tensor;
}
/** conv2d and depthwiseConv2d also take an activation, fused with the bias into the convolution. */
export interface Conv2DOptions extends ConvOptions {
  /**
   * Applied to conv + bias in the same kernel (TF.js's fused conv2d): 'linear' (default),
   * 'relu', 'relu6', 'leakyRelu' (slope `leakyReluAlpha`), 'hardSigmoid' (PyTorch's, the
   * hardSigmoid op's default), 'hardSwish' or 'swish' (x sigmoid(x), PyTorch's SiLU). The result and gradients equal those of the
   * activation op applied to the convolution's output.
   */
  activation?: FusedActivation;
  /** The slope below zero for activation 'leakyRelu' (default 0.01, as leakyRelu; must be >= 0). */
  leakyReluAlpha?: number;
}

export interface ConvTransposeOptions extends ConvTransposeOpts {
  bias?: Tensor;
}

function checkTensors(op: string, x: unknown, w: unknown): asserts x is Tensor {
  assertTensor(op, 'x', x);
  assertTensor(op, 'w', w);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: x must be float32 or float64, received ${x.dtype}`);
  if (w.dtype !== x.dtype) throw new TypeError(`${op}: dtypes differ (x is ${x.dtype}, w is ${w.dtype}); cast one of them first`);
}

/** y + bias over the last (channel) axis; the broadcast add's gradient is db = sum of dy over N and space. */
function withBias(op: string, y: Tensor, bias: Tensor | undefined): Tensor {
  if (bias === undefined) return y;
  const F = y.shape[y.rank - 1];
  assertTensor(op, 'bias', bias);
  if (bias.rank !== 1 || bias.shape[0] !== F) {
    throw new RangeError(`${op}: bias must have shape [${F}] (one value per filter), received shape ${fmtShape(bias.shape)}`);
  }
  if (bias.dtype !== y.dtype) throw new TypeError(`${op}: bias is ${bias.dtype} but x and w are ${y.dtype}`);
  return add(y, bias);
}

/** The Conv2D primitive and its gradient, for a geometry already validated. */
function conv2dCore(op: string, x: Tensor, w: Tensor, conv: Conv2DInfo): Tensor {
  const y = outputOf(Conv2D, [x, w], { conv });
  return record(op, [x, w], y, (dy) => [
    x.requiresGrad ? outputOf(Conv2DBackpropInput, [dy, w], { conv }) : null,
    w.requiresGrad ? outputOf(Conv2DBackpropFilter, [x, dy], { conv }) : null,
  ]);
}

/**
 * act(conv + bias) as one FusedConv2D kernel. Gradient, from the output y: dz = dy where
 * the activation passes (y > 0 for relu, 0 < y < 6 for relu6, dy / 6 where 0 < y < 1 for
 * hard sigmoid; slope alpha where y <= 0 for leaky relu, alpha >= 0, so y > 0 exactly where
 * z > 0), then dx and dw are the Conv2D gradients of dz and db = dz summed over N and space.
 * Hard swish's and swish's slopes need z, which y does not give back: with a gradient to
 * record they run as the fused linear kernel and the hardSwish or swish op.
 */
function fusedConv2dCore(op: string, x: Tensor, w: Tensor, conv: Conv2DInfo, opts: Conv2DOptions): Tensor {
  const { attrs, bias: b } = fusedArgs(op, x, conv, opts);
  const { activation, leakyReluAlpha: alpha } = attrs;
  if ((activation === 'hardSwish' || activation === 'swish') && isGradEnabled() && [x, w, b].some((t) => t.requiresGrad)) {
    const z = fusedConv2dCore(op, x, w, conv, { ...opts, bias: b, activation: 'linear' });
    return activation === 'hardSwish' ? hardSwish(z) : swish(z);
  }
  const y = outputOf(FusedConv2D, [x, w, b], attrs);
  return record(op, [x, w, b], y, (dy) => {
    const dz = activation === 'linear' ? dy
      : activation === 'relu' ? outputOf(ReluGrad, [dy, y])
      : activation === 'leakyRelu' ? outputOf(LeakyReluGrad, [dy, y], { alpha })
      : activation === 'hardSigmoid' ? affine(where(less(y, 1), outputOf(ReluGrad, [dy, y]), 0), 1 / 6)
      : where(less(y, 6), outputOf(ReluGrad, [dy, y]), 0);
    return [
      x.requiresGrad ? outputOf(Conv2DBackpropInput, [dz, w], { conv }) : null,
      w.requiresGrad ? outputOf(Conv2DBackpropFilter, [x, dz], { conv }) : null,
      b.requiresGrad ? sum(dz, { axes: [0, 1, 2] }) : null,
    ];
  });
}

/** FusedConv2D's attrs and bias (zeros when none) from conv2d's options, each checked. */
function fusedArgs(op: string, x: Tensor, conv: Conv2DInfo, opts: Conv2DOptions): { attrs: FusedConv2DAttrs & { leakyReluAlpha: number }; bias: Tensor } {
  const F = conv.outC;
  const activation = opts.activation ?? 'linear';
  if (!FUSED_ACTIVATIONS.includes(activation)) {
    throw new RangeError(`${op}: activation must be one of ${FUSED_ACTIVATIONS.join(', ')}, received ${JSON.stringify(opts.activation)} (apply other activations to the result)`);
  }
  const alpha = opts.leakyReluAlpha ?? 0.01;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new RangeError(`${op}: leakyReluAlpha must be a finite number >= 0, received ${String(opts.leakyReluAlpha)} (apply leakyRelu to the result for other slopes)`);
  }
  let bias = opts.bias;
  if (bias === undefined) bias = zeros([F], x.dtype);
  else {
    assertTensor(op, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== F) {
      throw new RangeError(`${op}: bias must have shape [${F}] (one value per filter), received shape ${fmtShape(bias.shape)}`);
    }
    if (bias.dtype !== x.dtype) throw new TypeError(`${op}: bias is ${bias.dtype} but x and w are ${x.dtype}`);
  }
  return { attrs: { conv, activation, leakyReluAlpha: alpha }, bias };
}

/** The plain Conv2D kernel, or the fused one when there is a bias or an activation. */
function conv2dWith(op: string, x: Tensor, w: Tensor, conv: Conv2DInfo, opts: Conv2DOptions): Tensor {
  const fused = opts.bias !== undefined || (opts.activation !== undefined && opts.activation !== 'linear');
  return fused ? fusedConv2dCore(op, x, w, conv, opts) : conv2dCore(op, x, w, conv);
}

/**
 * 2D convolution (cross-correlation). x [N,H,W,C], w [KH,KW,C/groups,F] -> [N,OH,OW,F].
 * Options: strides, padding ('valid' default, 'same', a number, or [[t,b],[l,r]]),
 * dilations, groups, bias [F], and an activation applied in the same kernel
 * ('relu', 'relu6', 'leakyRelu' with leakyReluAlpha, 'hardSigmoid', 'hardSwish').
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2DOptions = {}): Tensor {
  checkTensors('conv2d', x, w);
  const conv = computeConv2DInfo('conv2d', x.shape, w.shape, opts);
  return conv2dWith('conv2d', x, w, conv, opts);
}

/** One branch of conv2dConcat: conv2d's arguments. */
export interface Conv2DBranch {
  x: Tensor;
  w: Tensor;
  options?: Conv2DOptions;
}

/**
 * concat([conv2d(x_0, w_0, options_0), ...], -1) as one kernel (FusedConv2DConcat): the
 * branches must give one batch, height and width; on wasm each convolution writes into its
 * slice of the result. With a gradient recorded it runs as separate conv2d ops and concat.
 */
export function conv2dConcat(branches: readonly Conv2DBranch[]): Tensor {
  if (!Array.isArray(branches) || branches.length === 0) throw new RangeError(`conv2dConcat: branches must be a non-empty array of { x, w, options }, received ${Array.isArray(branches) ? '[]' : typeof branches}`);
  const made = branches.map(({ x, w, options = {} }, i) => {
    const op = `conv2dConcat (branch ${i})`;
    checkTensors(op, x, w);
    const conv = computeConv2DInfo(op, x.shape, w.shape, options);
    return { x, w, ...fusedArgs(op, x, conv, options) };
  });
  if (isGradEnabled() && made.some((m) => m.x.requiresGrad || m.w.requiresGrad || m.bias.requiresGrad)) {
    return concat(made.map((m) => fusedConv2dCore('conv2dConcat', m.x, m.w, m.attrs.conv, { ...m.attrs, bias: m.bias })), -1);
  }
  return outputOf(FusedConv2DConcat, made.flatMap((m) => [m.x, m.w, m.bias]), { branches: made.map((m) => m.attrs) });
}

/**
 * 1D convolution for signals: x [N,L,C], w [KL,C/groups,F] -> [N,OL,F]. Padding is
 * 'valid', 'same', a number or [[before, after]]. Runs on the 2D kernels with H = 1.
 */
export function conv1d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  checkTensors('conv1d', x, w);
  const conv = computeConv1DInfo('conv1d', x.shape, w.shape, opts);
  const x4 = reshape(x, [conv.batch, 1, conv.inW, conv.inC]);
  const w4 = reshape(w, [1, conv.kW, conv.inC / conv.groups, conv.outC]);
  const y = reshape(conv2dCore('conv1d', x4, w4, conv), [conv.batch, conv.outW, conv.outC]);
  return withBias('conv1d', y, opts.bias);
}

/** 3D convolution for volumes: x [N,D,H,W,C], w [KD,KH,KW,C/groups,F] -> [N,OD,OH,OW,F]. */
export function conv3d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  checkTensors('conv3d', x, w);
  const conv = computeConv3DInfo('conv3d', x.shape, w.shape, opts);
  const y = outputOf(Conv3D, [x, w], { conv });
  const z = record('conv3d', [x, w], y, (dy) => [
    x.requiresGrad ? outputOf(Conv3DBackpropInput, [dy, w], { conv }) : null,
    w.requiresGrad ? outputOf(Conv3DBackpropFilter, [x, dy], { conv }) : null,
  ]);
  return withBias('conv3d', z, opts.bias);
}

/**
 * Depthwise convolution: each input channel c is filtered by its own M filters.
 * x [N,H,W,C], w [KH,KW,C,M] -> [N,OH,OW,C*M], output channel c*M + m (TF order).
 * It is conv2d with groups = C and w viewed as [KH,KW,1,C*M].
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, opts: Omit<Conv2DOptions, 'groups'> = {}): Tensor {
  checkTensors('depthwiseConv2d', x, w);
  if (x.rank !== 4) throw new RangeError(`depthwiseConv2d: x must have rank 4 (N,H,W,C), received shape ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new RangeError(`depthwiseConv2d: w must have rank 4 (KH,KW,C,M), received shape ${fmtShape(w.shape)}`);
  if ((opts as ConvOpts).groups !== undefined) throw new RangeError('depthwiseConv2d: groups is fixed to the channel count; use conv2d for other groupings');
  const [kH, kW, wC, M] = w.shape;
  if (wC !== x.shape[3]) {
    throw new RangeError(`depthwiseConv2d: channel mismatch: w of shape ${fmtShape(w.shape)} (KH,KW,C,M) has C = ${wC}, x of shape ${fmtShape(x.shape)} has C = ${x.shape[3]}`);
  }
  const wg = reshape(w, [kH, kW, 1, wC * M]);
  let conv: Conv2DInfo;
  try {
    conv = computeConv2DInfo('depthwiseConv2d', x.shape, wg.shape, { ...opts, groups: wC });
  } catch (e) {
    // Name the filter as the caller passed it, not the grouped view the geometry sees.
    if (e instanceof RangeError) throw new RangeError(e.message.split(`w shape ${fmtShape(wg.shape)}`).join(`w shape ${fmtShape(w.shape)} (KH,KW,C,M)`));
    throw e;
  }
  return conv2dWith('depthwiseConv2d', x, wg, conv, opts);
}

/**
 * Transposed convolution ("deconvolution"), the adjoint of conv2d with the same
 * geometry: x [N,H,W,C], w [KH,KW,F/groups,C] (Keras layout) -> [N,OH,OW,F] with
 * OH = (H-1)*sh - t - b + dh*(KH-1) + oh + 1, where padding [[t,b],[l,r]] is removed from the
 * full output and outputPadding [oh,ow] (< strides) adds rows/columns at the end.
 * padding 'same' gives OH = H*sh.
 */
export function conv2dTranspose(x: Tensor, w: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  checkTensors('conv2dTranspose', x, w);
  const conv = computeConv2DTransposeInfo('conv2dTranspose', x.shape, w.shape, opts);
  // The forward convolution described by `conv` maps [N,OH,OW,F] to x's shape; we run its input-gradient.
  const y = outputOf(Conv2DBackpropInput, [x, w], { conv });
  const z = record('conv2dTranspose', [x, w], y, (dy) => [
    x.requiresGrad ? outputOf(Conv2D, [dy, w], { conv }) : null,
    w.requiresGrad ? outputOf(Conv2DBackpropFilter, [dy, x], { conv }) : null,
  ]);
  return withBias('conv2dTranspose', z, opts.bias);
}

/**
 * True 2D convolution (the kernel flipped in both spatial axes, as in signal processing
 * and classic image filtering): conv2d with w reversed along KH and KW. Same shapes and
 * options as conv2d.
 */
export function convolve2d(x: Tensor, k: Tensor, opts: ConvOptions = {}): Tensor {
  checkTensors('convolve2d', x, k);
  if (k.rank !== 4) throw new RangeError(`convolve2d: k must have rank 4 (KH,KW,C/groups,F), received shape ${fmtShape(k.shape)}`);
  const flipped = reverse(k, [0, 1]);
  const conv = computeConv2DInfo('convolve2d', x.shape, flipped.shape, opts);
  return withBias('convolve2d', conv2dCore('convolve2d', x, flipped, conv), opts.bias);
}
