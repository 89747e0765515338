/**
 * Convolution layers (channels last, HWIO kernels): Conv1D, Conv2D, Conv3D,
 * DepthwiseConv2D, SeparableConv2D and Conv2DTranspose.
 *
 * Parameters: (C/groups * prod(kernel) + 1) * F, i.e. (cin*kh*kw + 1)*cout for a plain
 * 2D convolution with bias. Output size per axis floor((n + 2p - d(k-1) - 1)/s) + 1.
 * MACs per example (bias not counted): prod(output spatial) * F * prod(kernel) * C/groups;
 * for the transpose, prod(INPUT spatial) * C * prod(kernel) * F/groups (each input
 * pixel is scattered through the kernel once).
 */
import { activationFn, checkActivation, convWithActivation, type ActivationName } from './activations.js';
import { type InitializerSpec, serializeInitializer } from './initializers.js';
import { type InputSpec, Layer, type LayerArgs, type LayerConfig, type Shape, type LayerClass } from './layer.js';
import { type RegularizerSpec, checkRegularizer } from './regularizers.js';
import { checkDataFormat, type DataFormat } from './options.js';
import {
  computeConv1DInfo, computeConv2DInfo, computeConv2DTransposeInfo, computeConv3DInfo, perAxis, type Padding,
} from '../kernels/conv_info.js';
import { conv1d, conv2d, conv2dTranspose, conv3d, depthwiseConv2d } from '../ops/conv.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ConvLayerArgs extends LayerArgs {
  /** Number of output channels F. */
  filters: number;
  /** Kernel size, one number for every spatial axis or one per axis. */
  kernelSize: number | readonly number[];
  strides?: number | readonly number[];
  /** 'valid' (default), 'same', a number, or [before, after] pairs per spatial axis. */
  padding?: Padding;
  dilationRate?: number | readonly number[];
  groups?: number;
  useBias?: boolean;
  activation?: ActivationName;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec;
  biasRegularizer?: RegularizerSpec;
}

const LAYOUTS: Record<number, string> = { 1: 'N, L, C', 2: 'N, H, W, C', 3: 'N, D, H, W, C' };

function checkPadding(p: unknown, label: string): Padding {
  if (p === 'valid' || p === 'same') return p;
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return p;
  if (Array.isArray(p) && p.every((q) => Array.isArray(q) && q.length === 2)) return p.map((q) => [q[0], q[1]] as [number, number]);
  throw new RangeError(`${label}: padding must be 'valid', 'same', a non-negative integer or [before, after] pairs, received ${JSON.stringify(p)}`);
}

/** Shared options and bookkeeping of the convolutions with `rank` spatial axes. */
abstract class ConvBase extends Layer {
  static readonly argKeys = ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'groups', 'useBias', 'activation', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer'];
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dilationRate: number[];
  readonly groups: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly kernelRegularizer?: RegularizerSpec;
  readonly biasRegularizer?: RegularizerSpec;

  constructor(readonly spatialRank: number, args: ConvLayerArgs) {
    super(args);
    const f = args?.filters;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1) throw new RangeError(`${this.label}: filters must be a positive integer, received ${JSON.stringify(f)}`);
    this.filters = f;
    if (args.kernelSize === undefined) throw new RangeError(`${this.label}: kernelSize is required`);
    this.kernelSize = perAxis(this.label, 'kernelSize', args.kernelSize, spatialRank, 1);
    this.strides = perAxis(this.label, 'strides', args.strides, spatialRank, 1);
    this.dilationRate = perAxis(this.label, 'dilationRate', args.dilationRate, spatialRank, 1);
    this.padding = checkPadding(args.padding ?? 'valid', this.label);
    const g = args.groups ?? 1;
    if (!Number.isInteger(g) || g < 1 || f % g !== 0) throw new RangeError(`${this.label}: groups must be a positive integer dividing filters (${f}), received ${JSON.stringify(g)}`);
    this.groups = g;
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(args.activation ?? 'linear', `${this.label}: activation`);
    this.kernelInitializer = args.kernelInitializer ?? 'glorotUniform';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
    if (args.kernelRegularizer) this.kernelRegularizer = checkRegularizer(args.kernelRegularizer, `${this.label}: kernelRegularizer`);
    if (args.biasRegularizer) this.biasRegularizer = checkRegularizer(args.biasRegularizer, `${this.label}: biasRegularizer`);
  }

  protected inputSpec(): InputSpec {
    return { rank: this.spatialRank + 2, layout: LAYOUTS[this.spatialRank], lastAxis: 'channels' };
  }

  /** Kernel shape for `inC` input channels. */
  protected kernelShape(inC: number): number[] {
    return [...this.kernelSize, inC / this.groups, this.filters];
  }

  protected createWeights(inputShape: number[]): void {
    const c = inputShape[inputShape.length - 1];
    if (c % this.groups !== 0) throw new RangeError(`groups (${this.groups}) must divide the input channels (${c})`);
    this.addWeight('kernel', this.kernelShape(c), this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer, { regularizer: this.biasRegularizer });
  }

  protected convOpts(): { strides: number[]; padding: Padding; dilations: number[]; groups: number; bias?: Tensor } {
    return {
      strides: this.strides,
      padding: this.padding,
      dilations: this.dilationRate,
      groups: this.groups,
      ...(this.useBias ? { bias: this.ownWeights[1].value } : {}),
    };
  }

  /** Output spatial sizes for an input (no batch axis); validates the geometry. */
  protected abstract outSpatial(inputShape: Shape): number[];

  computeOutputShape(inputShape: Shape): number[] {
    return [...this.outSpatial(inputShape), this.filters];
  }

  macs(inputShape: Shape): number {
    const c = inputShape[inputShape.length - 1];
    return sizeOf(this.outSpatial(inputShape)) * this.filters * sizeOf(this.kernelSize) * (c / this.groups);
  }

  protected finish(y: Tensor): Tensor {
    return activationFn(this.activation)(y);
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      groups: this.groups,
      useBias: this.useBias,
      activation: this.activation,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}

/** 1D convolution over [N, L, C] (signals, e.g. an ECG); kernel [K, C/groups, F]. */
export class Conv1D extends ConvBase {
  static readonly className = 'Conv1D';
  static readonly namePrefix = 'conv1d';
  constructor(args: ConvLayerArgs) {
    super(1, args);
  }
  protected outSpatial(s: Shape): number[] {
    const info = computeConv1DInfo('conv1d', [1, ...s], this.kernelShape(s[s.length - 1]), { strides: this.strides, padding: this.padding, dilations: this.dilationRate, groups: this.groups });
    return [info.outW];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return this.finish(conv1d(x as Tensor, this.ownWeights[0].value, this.convOpts()));
  }
}

/** 2D convolution over [N, H, W, C]; kernel [KH, KW, C/groups, F]. */
export class Conv2D extends ConvBase {
  static readonly className = 'Conv2D';
  static readonly namePrefix = 'conv2d';
  constructor(args: ConvLayerArgs) {
    super(2, args);
  }
  protected outSpatial(s: Shape): number[] {
    const info = computeConv2DInfo('conv2d', [1, ...s], this.kernelShape(s[s.length - 1]), { strides: this.strides, padding: this.padding, dilations: this.dilationRate, groups: this.groups });
    return [info.outH, info.outW];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return convWithActivation(this.activation, (a) => conv2d(x as Tensor, this.ownWeights[0].value, { ...this.convOpts(), ...a }));
  }
}

/** 3D convolution over [N, D, H, W, C] (volumes such as CT scans); kernel [KD, KH, KW, C/groups, F]. */
export class Conv3D extends ConvBase {
  static readonly className = 'Conv3D';
  static readonly namePrefix = 'conv3d';
  constructor(args: ConvLayerArgs) {
    super(3, args);
  }
  protected outSpatial(s: Shape): number[] {
    const info = computeConv3DInfo('conv3d', [1, ...s], this.kernelShape(s[s.length - 1]), { strides: this.strides, padding: this.padding, dilations: this.dilationRate, groups: this.groups });
    return [info.outD, info.outH, info.outW];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return this.finish(conv3d(x as Tensor, this.ownWeights[0].value, this.convOpts()));
  }
}

export interface DepthwiseConv2DArgs extends Omit<ConvLayerArgs, 'filters' | 'groups' | 'kernelInitializer' | 'kernelRegularizer'> {
  /** Filters per input channel M (default 1): output channels C * M. */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerSpec;
  depthwiseRegularizer?: RegularizerSpec;
}

/** The depthwise step's geometry, shared by DepthwiseConv2D and SeparableConv2D: parsed and checked once. */
interface DepthwiseGeometry {
  kernelSize: number[];
  strides: number[];
  dilationRate: number[];
  padding: Padding;
  depthMultiplier: number;
}

function depthwiseGeometry(label: string, args: DepthwiseConv2DArgs): DepthwiseGeometry {
  if (args?.kernelSize === undefined) throw new RangeError(`${label}: kernelSize is required`);
  const kernelSize = perAxis(label, 'kernelSize', args.kernelSize, 2, 1);
  const strides = perAxis(label, 'strides', args.strides, 2, 1);
  const dilationRate = perAxis(label, 'dilationRate', args.dilationRate, 2, 1);
  const padding = checkPadding(args.padding ?? 'valid', label);
  const m = args.depthMultiplier ?? 1;
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`${label}: depthMultiplier must be a positive integer, received ${JSON.stringify(m)}`);
  return { kernelSize, strides, dilationRate, padding, depthMultiplier: m };
}

/** [OH, OW] of the depthwise step over an [H, W, C] input. */
function depthwiseOutSpatial(op: string, s: Shape, g: DepthwiseGeometry): number[] {
  const c = s[2];
  const info = computeConv2DInfo(op, [1, ...s], [...g.kernelSize, 1, c * g.depthMultiplier], {
    strides: g.strides, padding: g.padding, dilations: g.dilationRate, groups: c,
  });
  return [info.outH, info.outW];
}

/**
 * Depthwise convolution: each channel filtered by its own M kernels, kernel [KH, KW, C, M].
 * Parameters KH*KW*C*M (+ C*M bias); MACs OH*OW*C*M*KH*KW.
 */
export class DepthwiseConv2D extends Layer {
  static readonly className = 'DepthwiseConv2D';
  static readonly namePrefix = 'depthwise_conv2d';
  static readonly argKeys = ['kernelSize', 'strides', 'padding', 'dilationRate', 'depthMultiplier', 'useBias', 'activation', 'depthwiseInitializer', 'biasInitializer', 'depthwiseRegularizer', 'biasRegularizer'];
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dilationRate: number[];
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly depthwiseInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly depthwiseRegularizer?: RegularizerSpec;
  readonly biasRegularizer?: RegularizerSpec;

  constructor(args: DepthwiseConv2DArgs) {
    super(args);
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding, depthMultiplier: this.depthMultiplier } =
      depthwiseGeometry(this.label, args));
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(args.activation ?? 'linear', `${this.label}: activation`);
    this.depthwiseInitializer = args.depthwiseInitializer ?? 'glorotUniform';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
    if (args.depthwiseRegularizer) this.depthwiseRegularizer = checkRegularizer(args.depthwiseRegularizer, `${this.label}: depthwiseRegularizer`);
    if (args.biasRegularizer) this.biasRegularizer = checkRegularizer(args.biasRegularizer, `${this.label}: biasRegularizer`);
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: LAYOUTS[2], lastAxis: 'channels' };
  }
  protected createWeights(inputShape: number[]): void {
    const c = inputShape[2];
    this.addWeight('kernel', [...this.kernelSize, c, this.depthMultiplier], this.depthwiseInitializer, { regularizer: this.depthwiseRegularizer });
    if (this.useBias) this.addWeight('bias', [c * this.depthMultiplier], this.biasInitializer, { regularizer: this.biasRegularizer });
  }
  private outSpatial(s: Shape): number[] {
    return depthwiseOutSpatial('depthwiseConv2d', s, this);
  }
  computeOutputShape(s: Shape): number[] {
    return [...this.outSpatial(s), s[2] * this.depthMultiplier];
  }
  macs(s: Shape): number {
    return sizeOf(this.outSpatial(s)) * s[2] * this.depthMultiplier * sizeOf(this.kernelSize);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return convWithActivation(this.activation, (a) => depthwiseConv2d(x as Tensor, this.ownWeights[0].value, {
      strides: this.strides, padding: this.padding, dilations: this.dilationRate,
      ...(this.useBias ? { bias: this.ownWeights[1].value } : {}),
      ...a,
    }));
  }
  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      depthMultiplier: this.depthMultiplier,
      useBias: this.useBias,
      activation: this.activation,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      ...(this.depthwiseRegularizer ? { depthwiseRegularizer: this.depthwiseRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}

export interface Conv2DTransposeArgs extends ConvLayerArgs {
  /** Extra rows/columns at the end of the output (each < the stride). */
  outputPadding?: number | readonly number[];
}

/**
 * Transposed convolution ("deconvolution"), kernel [KH, KW, F/groups, C] (Keras layout).
 * Output size (n-1)*s - 2p + d(k-1) + outputPadding + 1; 'same' gives n*s.
 */
export class Conv2DTranspose extends ConvBase {
  static readonly className = 'Conv2DTranspose';
  static readonly namePrefix = 'conv2d_transpose';
  static readonly argKeys = ['outputPadding'];
  readonly outputPadding?: number[];
  constructor(args: Conv2DTransposeArgs) {
    super(2, args);
    if (args.outputPadding !== undefined) {
      const op = typeof args.outputPadding === 'number' ? [args.outputPadding, args.outputPadding] : [...args.outputPadding];
      if (op.length !== 2 || op.some((v) => !Number.isInteger(v) || v < 0)) {
        throw new RangeError(`${this.label}: outputPadding must be a non-negative integer or two of them, received ${JSON.stringify(args.outputPadding)}`);
      }
      this.outputPadding = op;
    }
  }
  protected kernelShape(inC: number): number[] {
    return [...this.kernelSize, this.filters / this.groups, inC];
  }
  private info(s: Shape) {
    return computeConv2DTransposeInfo('conv2dTranspose', [1, ...s], this.kernelShape(s[2]), {
      strides: this.strides, padding: this.padding, dilations: this.dilationRate, groups: this.groups,
      ...(this.outputPadding ? { outputPadding: this.outputPadding } : {}),
    });
  }
  protected outSpatial(s: Shape): number[] {
    const info = this.info(s);
    return [info.inH, info.inW];
  }
  macs(s: Shape): number {
    return s[0] * s[1] * s[2] * sizeOf(this.kernelSize) * (this.filters / this.groups);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const opts = this.convOpts();
    return this.finish(conv2dTranspose(x as Tensor, this.ownWeights[0].value, { ...opts, ...(this.outputPadding ? { outputPadding: this.outputPadding } : {}) }));
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), ...(this.outputPadding ? { outputPadding: this.outputPadding } : {}) };
  }
}

export interface SeparableConv2DArgs extends Omit<ConvLayerArgs, 'groups' | 'kernelInitializer' | 'kernelRegularizer'> {
  /** Depthwise filters per input channel M (default 1): the pointwise step sees C * M channels. */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerSpec;
  pointwiseInitializer?: InitializerSpec;
  depthwiseRegularizer?: RegularizerSpec;
  pointwiseRegularizer?: RegularizerSpec;
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/**
 * Depthwise separable convolution (Keras SeparableConv2D, MobileNet/Xception): a depthwise
 * convolution (each channel filtered by its own M kernels, with the layer's strides, padding
 * and dilationRate) followed by a 1x1 convolution mixing the C * M channels into `filters`,
 * then the bias and the activation. Weights as Keras: depthwiseKernel [KH, KW, C, M],
 * pointwiseKernel [1, 1, C * M, F], bias [F]. Parameters KH*KW*C*M + C*M*F (+ F); MACs
 * OH*OW*C*M*(KH*KW + F). The same as DepthwiseConv2D (no bias) then Conv2D 1x1 with these
 * weights; the gradient comes from those two ops.
 */
export class SeparableConv2D extends Layer {
  static readonly className = 'SeparableConv2D';
  static readonly namePrefix = 'separable_conv2d';
  static readonly argKeys = [
    'filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'depthMultiplier', 'useBias', 'activation',
    'depthwiseInitializer', 'pointwiseInitializer', 'biasInitializer', 'depthwiseRegularizer', 'pointwiseRegularizer', 'biasRegularizer', 'dataFormat',
  ];
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dilationRate: number[];
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly depthwiseInitializer: InitializerSpec;
  readonly pointwiseInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly depthwiseRegularizer?: RegularizerSpec;
  readonly pointwiseRegularizer?: RegularizerSpec;
  readonly biasRegularizer?: RegularizerSpec;
  readonly dataFormat: 'channelsLast';

  constructor(args: SeparableConv2DArgs) {
    super(args);
    const f = args?.filters;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1) throw new RangeError(`${this.label}: filters must be a positive integer, received ${JSON.stringify(f)}`);
    this.filters = f;
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding, depthMultiplier: this.depthMultiplier } =
      depthwiseGeometry(this.label, args));
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(args.activation ?? 'linear', `${this.label}: activation`);
    this.depthwiseInitializer = args.depthwiseInitializer ?? 'glorotUniform';
    this.pointwiseInitializer = args.pointwiseInitializer ?? 'glorotUniform';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
    if (args.depthwiseRegularizer) this.depthwiseRegularizer = checkRegularizer(args.depthwiseRegularizer, `${this.label}: depthwiseRegularizer`);
    if (args.pointwiseRegularizer) this.pointwiseRegularizer = checkRegularizer(args.pointwiseRegularizer, `${this.label}: pointwiseRegularizer`);
    if (args.biasRegularizer) this.biasRegularizer = checkRegularizer(args.biasRegularizer, `${this.label}: biasRegularizer`);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: LAYOUTS[2], lastAxis: 'channels' };
  }
  protected createWeights(inputShape: number[]): void {
    const c = inputShape[2], cm = c * this.depthMultiplier;
    this.addWeight('depthwiseKernel', [...this.kernelSize, c, this.depthMultiplier], this.depthwiseInitializer, { regularizer: this.depthwiseRegularizer });
    this.addWeight('pointwiseKernel', [1, 1, cm, this.filters], this.pointwiseInitializer, { regularizer: this.pointwiseRegularizer });
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer, { regularizer: this.biasRegularizer });
  }
  private outSpatial(s: Shape): number[] {
    return depthwiseOutSpatial('separableConv2d', s, this);
  }
  computeOutputShape(s: Shape): number[] {
    return [...this.outSpatial(s), this.filters];
  }
  macs(s: Shape): number {
    return sizeOf(this.outSpatial(s)) * s[2] * this.depthMultiplier * (sizeOf(this.kernelSize) + this.filters);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const [dw, pw, bias] = this.ownWeights;
    const d = depthwiseConv2d(x as Tensor, dw.value, { strides: this.strides, padding: this.padding, dilations: this.dilationRate });
    return convWithActivation(this.activation, (a) => conv2d(d, pw.value, { ...(this.useBias ? { bias: bias.value } : {}), ...a }));
  }
  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      depthMultiplier: this.depthMultiplier,
      useBias: this.useBias,
      activation: this.activation,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      pointwiseInitializer: serializeInitializer(this.pointwiseInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      ...(this.depthwiseRegularizer ? { depthwiseRegularizer: this.depthwiseRegularizer } : {}),
      ...(this.pointwiseRegularizer ? { pointwiseRegularizer: this.pointwiseRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
      dataFormat: this.dataFormat,
    };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const CONV_LAYERS: readonly LayerClass[] = [Conv1D, Conv2D, Conv3D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose];
