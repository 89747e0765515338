/**
 * Core layers: Dense, Flatten, Reshape, Dropout and SpatialDropout1D/2D/3D, Rescaling, the
 * activation layers and ZeroPadding2D (the other Keras reshaping layers, Cropping1D/2D,
 * UpSampling2D and ZeroPadding1D, are in reshaping.ts).
 */
import { activationFn, checkActivation, type ActivationName } from './activations.js';
import { constant, type InitializerSpec, serializeInitializer } from './initializers.js';
import { type CallOpts, type InputSpec, Layer, type LayerArgs, type LayerConfig, type Shape, fmtDims, type LayerClass } from './layer.js';
import { type RegularizerSpec, checkRegularizer } from './regularizers.js';
import { add, minimum, mul } from '../ops/elementwise.js';
import { tensor } from '../ops/creation.js';
import { matmul } from '../ops/matmul.js';
import { pad, reshape } from '../ops/shape.js';
import { dropout } from '../ops/norm.js';
import { elu, leakyRelu, prelu, relu, softmax } from '../ops/activation.js';
import { Rng } from '../ops/random.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkDataFormat, type DataFormat } from './options.js';

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, received ${JSON.stringify(v)}`);
  return v;
}

function one(x: Tensor | Tensor[], label: string): Tensor {
  if (Array.isArray(x)) throw new RangeError(`${label}: expects one input tensor, received ${x.length}`);
  return x;
}

// ---------------------------------------------------------------- Dense

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec;
  biasRegularizer?: RegularizerSpec;
}

/**
 * Fully connected: y = activation(x W + b), W [nIn, units]. Parameters (nIn + 1) * units.
 * Inputs of rank > 2 ([N, T, nIn]) apply W to the last axis. MACs: nIn * units per row.
 */
export class Dense extends Layer {
  static readonly className = 'Dense';
  static readonly namePrefix = 'dense';
  static readonly argKeys = ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer'];
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly kernelRegularizer?: RegularizerSpec;
  readonly biasRegularizer?: RegularizerSpec;

  constructor(args: DenseArgs) {
    super(args);
    this.units = positiveInt(args?.units, `${this.label}: units`);
    this.activation = checkActivation(args.activation ?? 'linear', `${this.label}: activation`);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? 'glorotUniform';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
    if (args.kernelRegularizer) this.kernelRegularizer = checkRegularizer(args.kernelRegularizer, `${this.label}: kernelRegularizer`);
    if (args.biasRegularizer) this.biasRegularizer = checkRegularizer(args.biasRegularizer, `${this.label}: biasRegularizer`);
  }

  protected inputSpec(): InputSpec {
    return { lastAxis: 'features' };
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 2) throw new RangeError(`${this.label}: expected input of rank 2 or more (N, features), received shape ${fmtDims(shape)}`);
    super.checkInput(shape);
  }

  protected createWeights(inputShape: number[]): void {
    const nIn = inputShape[inputShape.length - 1];
    this.addWeight('kernel', [nIn, this.units], this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.addWeight('bias', [this.units], this.biasInitializer, { regularizer: this.biasRegularizer });
  }

  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape.slice(0, -1), this.units];
  }

  macs(inputShape: Shape): number {
    return sizeOf(inputShape) * this.units;
  }

  protected forward(xIn: Tensor | Tensor[]): Tensor {
    const x = one(xIn, this.label);
    const [kernel, bias] = this.ownWeights;
    const nIn = x.shape[x.rank - 1];
    const flat = x.rank === 2 ? x : reshape(x, [-1, nIn]);
    let y = matmul(flat, kernel.value);
    if (this.useBias) y = add(y, bias.value);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return activationFn(this.activation)(y);
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}

// ---------------------------------------------------------------- Flatten / Reshape

/** [N, d1, d2, ...] -> [N, d1 * d2 * ...]. No parameters. */
export class Flatten extends Layer {
  static readonly className = 'Flatten';
  static readonly namePrefix = 'flatten';
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 2) throw new RangeError(`${this.label}: expected input of rank 2 or more (N, ...), received shape ${fmtDims(shape)}`);
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [sizeOf(inputShape)];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    return reshape(t, [t.shape[0], sizeOf(t.shape.slice(1))]);
  }
}

export interface ReshapeArgs extends LayerArgs {
  /** Shape of one example (no batch axis); one entry may be -1. */
  targetShape: readonly number[];
}

export class Reshape extends Layer {
  static readonly className = 'Reshape';
  static readonly namePrefix = 'reshape';
  static readonly argKeys = ['targetShape'];
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args);
    if (!Array.isArray(args?.targetShape)) throw new TypeError(`${this.label}: targetShape must be an array (no batch axis), received ${JSON.stringify(args?.targetShape)}`);
    this.targetShape = [...args.targetShape];
    const free = this.targetShape.filter((d) => d === -1).length;
    if (free > 1 || this.targetShape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 1))) {
      throw new RangeError(`${this.label}: targetShape must be positive integers with at most one -1, received ${fmtDims(this.targetShape)}`);
    }
  }
  computeOutputShape(inputShape: Shape): number[] {
    const n = sizeOf(inputShape);
    const known = sizeOf(this.targetShape.filter((d) => d !== -1));
    const out = this.targetShape.map((d) => (d === -1 ? n / known : d));
    if (sizeOf(out) !== n || out.some((d) => !Number.isInteger(d))) {
      throw new RangeError(`cannot reshape an example of shape ${fmtDims(inputShape)} (${n} values) to ${fmtDims(this.targetShape)}`);
    }
    return out;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    return reshape(t, [t.shape[0], ...this.computeOutputShape(t.shape.slice(1))]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

// ---------------------------------------------------------------- Dropout

export interface DropoutArgs extends LayerArgs {
  /** Fraction of inputs dropped in training, in [0, 1). */
  rate: number;
}

/**
 * Inverted dropout in training calls (kept values scaled by 1/(1 - rate)); the identity at
 * inference. Masks come from a generator seeded by the layer's seed, so runs repeat.
 */
export class Dropout extends Layer {
  static readonly className = 'Dropout';
  static readonly namePrefix = 'dropout';
  static readonly argKeys = ['rate'];
  readonly rate: number;
  private rng: Rng;
  constructor(args: DropoutArgs) {
    super(args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`${this.label}: rate must be in [0, 1), received ${JSON.stringify(rate)}`);
    this.rate = rate;
    this.rng = new Rng(this.seed);
  }
  /** A new seed restarts the mask sequence. */
  setSeed(seed: number): void {
    super.setSeed(seed);
    this.rng = new Rng(this.seed);
  }
  protected forward(x: Tensor | Tensor[], opts: CallOpts): Tensor {
    const t = one(x, this.label);
    if (!opts.training || this.rate === 0) return t;
    return dropout(t, this.rate, { rng: this.rng, training: true });
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate };
  }
}

// ---------------------------------------------------------------- SpatialDropout

export interface SpatialDropoutArgs extends LayerArgs {
  /** Fraction of channels dropped in training, in [0, 1). */
  rate: number;
  /** Keras's option (SpatialDropout2D/3D); only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/**
 * Dropout of whole channels (Keras SpatialDropout1D/2D/3D, Tompson et al. 2015): in training
 * calls each (example, channel) pair is kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), or zeroed over the whole signal, image or volume; the identity at inference.
 * The mask [N, 1, ..., 1, C] is a constant broadcast by a product, so the gradient is that of
 * the product. Masks come from a generator seeded by the layer's `seed`, so runs repeat.
 */
abstract class SpatialDropoutBase extends Layer {
  static readonly argKeys = ['rate', 'dataFormat'];
  readonly rate: number;
  readonly dataFormat: 'channelsLast';
  private rng: Rng;
  protected abstract readonly spatialRank: number;
  constructor(args: SpatialDropoutArgs) {
    super(args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`${this.label}: rate must be a number in [0, 1), received ${JSON.stringify(rate)}`);
    this.rate = rate;
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
    this.rng = new Rng(this.seed);
  }
  /** A new seed restarts the mask sequence. */
  setSeed(seed: number): void {
    super.setSeed(seed);
    this.rng = new Rng(this.seed);
  }
  protected inputSpec(): InputSpec {
    return { rank: this.spatialRank + 2, layout: ['N, L, C', 'N, H, W, C', 'N, D, H, W, C'][this.spatialRank - 1] };
  }
  protected forward(x: Tensor | Tensor[], opts: CallOpts): Tensor {
    const t = one(x, this.label);
    if (!opts.training || this.rate === 0) return t;
    const n = t.shape[0], c = t.shape[t.rank - 1];
    const scale = 1 / (1 - this.rate);
    const mask = new Float64Array(n * c);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() >= this.rate ? scale : 0;
    return mul(t, tensor(mask, [n, ...new Array<number>(t.rank - 2).fill(1), c], t.dtype));
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, dataFormat: this.dataFormat };
  }
}

/** Drops whole channels of signals [N, L, C] in training (see SpatialDropoutBase). */
export class SpatialDropout1D extends SpatialDropoutBase {
  static readonly className = 'SpatialDropout1D';
  static readonly namePrefix = 'spatial_dropout1d';
  protected readonly spatialRank = 1;
}

/** Drops whole channels of images [N, H, W, C] in training (feature maps, not pixels). */
export class SpatialDropout2D extends SpatialDropoutBase {
  static readonly className = 'SpatialDropout2D';
  static readonly namePrefix = 'spatial_dropout2d';
  protected readonly spatialRank = 2;
}

/** Drops whole channels of volumes [N, D, H, W, C] in training. */
export class SpatialDropout3D extends SpatialDropoutBase {
  static readonly className = 'SpatialDropout3D';
  static readonly namePrefix = 'spatial_dropout3d';
  protected readonly spatialRank = 3;
}

// ---------------------------------------------------------------- Rescaling

export interface RescalingArgs extends LayerArgs {
  /** Multiplier, e.g. 1 / 255 to map bytes to [0, 1]. */
  scale: number;
  /** Added after scaling (default 0): scale 1 / 127.5 with offset -1 maps bytes to [-1, 1]. */
  offset?: number;
}

/** y = x * scale + offset elementwise (Keras Rescaling, a preprocessing step inside the model). No parameters. */
export class Rescaling extends Layer {
  static readonly className = 'Rescaling';
  static readonly namePrefix = 'rescaling';
  static readonly argKeys = ['scale', 'offset'];
  readonly scale: number;
  readonly offset: number;
  constructor(args: RescalingArgs) {
    super(args);
    for (const k of ['scale', 'offset'] as const) {
      const v = args?.[k];
      if (!(v === undefined && k === 'offset') && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new TypeError(`${this.label}: ${k} must be a finite number, received ${JSON.stringify(v)}`);
      }
    }
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const y = mul(one(x, this.label), this.scale);
    return this.offset === 0 ? y : add(y, this.offset);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

// ---------------------------------------------------------------- activations

export interface ActivationArgs extends LayerArgs {
  activation: ActivationName;
}

/** Applies a named activation elementwise (softmax and logSoftmax along the last axis). */
export class Activation extends Layer {
  static readonly className = 'Activation';
  static readonly namePrefix = 'activation';
  static readonly argKeys = ['activation'];
  readonly activation: ActivationName;
  constructor(args: ActivationArgs) {
    super(args);
    this.activation = checkActivation(args?.activation, `${this.label}: activation`);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return activationFn(this.activation)(one(x, this.label));
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), activation: this.activation };
  }
}

export interface ReLUArgs extends LayerArgs {
  /** Clip the output at this value (6 gives ReLU6). */
  maxValue?: number;
}

export class ReLU extends Layer {
  static readonly className = 'ReLU';
  static readonly namePrefix = 're_lu';
  static readonly argKeys = ['maxValue'];
  readonly maxValue?: number;
  constructor(args: ReLUArgs = {}) {
    super(args);
    if (args.maxValue !== undefined) {
      if (typeof args.maxValue !== 'number' || !(args.maxValue > 0)) throw new RangeError(`${this.label}: maxValue must be a number > 0, received ${JSON.stringify(args.maxValue)}`);
      this.maxValue = args.maxValue;
    }
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const y = relu(one(x, this.label));
    return this.maxValue === undefined ? y : minimum(y, this.maxValue);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), ...(this.maxValue !== undefined ? { maxValue: this.maxValue } : {}) };
  }
}

export interface AlphaArgs extends LayerArgs {
  alpha?: number;
}

/**
 * x > 0 ? x : alpha x, alpha default 0.3 as in Keras's and TF.js's LeakyReLU layer (the
 * op `ck.leakyRelu(x, alpha)` keeps PyTorch's 0.01; saved models store alpha).
 */
export class LeakyReLU extends Layer {
  static readonly className = 'LeakyReLU';
  static readonly namePrefix = 'leaky_re_lu';
  static readonly argKeys = ['alpha'];
  readonly alpha: number;
  constructor(args: AlphaArgs = {}) {
    super(args);
    this.alpha = args.alpha ?? 0.3;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return leakyRelu(one(x, this.label), this.alpha);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** x > 0 ? x : alpha (exp(x) - 1), alpha default 1. */
export class ELU extends Layer {
  static readonly className = 'ELU';
  static readonly namePrefix = 'elu';
  static readonly argKeys = ['alpha'];
  readonly alpha: number;
  constructor(args: AlphaArgs = {}) {
    super(args);
    this.alpha = args.alpha ?? 1;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return elu(one(x, this.label), this.alpha);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

export interface PReLUArgs extends LayerArgs {
  /** Initial slope (default constant 0.25, as PyTorch). */
  alphaInitializer?: InitializerSpec;
  alphaRegularizer?: RegularizerSpec;
}

/** Parametric ReLU with one learnable slope per channel (last axis): C parameters. */
export class PReLU extends Layer {
  static readonly className = 'PReLU';
  static readonly namePrefix = 'p_re_lu';
  static readonly argKeys = ['alphaInitializer', 'alphaRegularizer'];
  readonly alphaInitializer: InitializerSpec;
  readonly alphaRegularizer?: RegularizerSpec;
  constructor(args: PReLUArgs = {}) {
    super(args);
    this.alphaInitializer = args.alphaInitializer ?? constant(0.25);
    if (args.alphaRegularizer) this.alphaRegularizer = checkRegularizer(args.alphaRegularizer, `${this.label}: alphaRegularizer`);
  }
  protected inputSpec(): InputSpec {
    return { lastAxis: 'channels' };
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 2) throw new RangeError(`${this.label}: expected input of rank 2 or more with channels last, received shape ${fmtDims(shape)}`);
    super.checkInput(shape);
  }
  protected createWeights(inputShape: number[]): void {
    this.addWeight('alpha', [inputShape[inputShape.length - 1]], this.alphaInitializer, { regularizer: this.alphaRegularizer });
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return prelu(one(x, this.label), this.ownWeights[0].value);
  }
  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      alphaInitializer: serializeInitializer(this.alphaInitializer),
      ...(this.alphaRegularizer ? { alphaRegularizer: this.alphaRegularizer } : {}),
    };
  }
}

export interface SoftmaxArgs extends LayerArgs {
  axis?: number;
}

export class Softmax extends Layer {
  static readonly className = 'Softmax';
  static readonly namePrefix = 'softmax';
  static readonly argKeys = ['axis'];
  readonly axis: number;
  constructor(args: SoftmaxArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return softmax(one(x, this.label), this.axis);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }
}

// ---------------------------------------------------------------- ZeroPadding2D

export interface ZeroPadding2DArgs extends LayerArgs {
  /** p (all sides), [ph, pw] (top/bottom, left/right) or [[top, bottom], [left, right]]. Default 1. */
  padding?: number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];
}

export class ZeroPadding2D extends Layer {
  static readonly className = 'ZeroPadding2D';
  static readonly namePrefix = 'zero_padding2d';
  static readonly argKeys = ['padding'];
  readonly padding: [[number, number], [number, number]];
  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    const p = args.padding ?? 1;
    let pads: [[number, number], [number, number]];
    if (typeof p === 'number') pads = [[p, p], [p, p]];
    else if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'number') pads = [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
    else if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) && Array.isArray(p[1])) pads = [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
    else throw new RangeError(`${this.label}: padding must be p, [ph, pw] or [[top, bottom], [left, right]], received ${JSON.stringify(p)}`);
    if (pads.flat().some((v) => !Number.isInteger(v) || v < 0)) throw new RangeError(`${this.label}: padding must be non-negative integers, received ${JSON.stringify(p)}`);
    this.padding = pads;
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: 'N, H, W, C' };
  }
  computeOutputShape(inputShape: Shape): number[] {
    const [h, w, c] = inputShape;
    return [h + this.padding[0][0] + this.padding[0][1], w + this.padding[1][0] + this.padding[1][1], c];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return pad(one(x, this.label), [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const CORE_LAYERS: readonly LayerClass[] = [Dense, Flatten, Reshape, Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, Rescaling, Activation, ReLU, LeakyReLU, ELU, PReLU, Softmax, ZeroPadding2D];
