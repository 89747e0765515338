/**
 * Building blocks of the classic architectures, as layers that contain layers:
 *
 * - ResidualBlock (He et al. 2015/2016): 'basic' (two 3x3 convolutions) or 'bottleneck'
 *   (1x1 reduce, 3x3, 1x1 expand by `expansion`, default 4), with an identity shortcut
 *   or a projection (1x1 convolution + batch norm) where the shape changes. The default
 *   post-activation form is torchvision's ResNet v1.5 (stride on the 3x3 convolution,
 *   bias-free convolutions, BN eps 1e-5, ReLU after the sum). `preActivation: true` gives
 *   ResNet v2: BN-ReLU before each convolution, the projection applied to the
 *   pre-activated input, nothing after the sum.
 * - SqueezeExcitation (Hu et al. 2018): GAP -> Dense(C/ratio, relu) -> Dense(C, sigmoid)
 *   -> scale the input's channels.
 * - InceptionModule (Szegedy et al. 2014): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool
 *   -> 1x1, concatenated on channels. `kernel5: 3` reproduces torchvision's GoogLeNet
 *   (whose "5x5" branch is 3x3, a known quirk); `batchNorm: true` uses torchvision's
 *   BasicConv2d (bias-free convolution, BN eps 1e-3, ReLU).
 */
import { CompositeLayer } from './container.js';
import { Conv2D } from './conv.js';
import { Dense, ReLU, Reshape } from './core.js';
import { type InitializerSpec, serializeInitializer } from './initializers.js';
import { type LayerArgs, type LayerConfig, type LayerClass } from './layer.js';
import { Add, Concatenate, Multiply } from './merge.js';
import { BatchNormalization } from './normalization.js';
import { GlobalAveragePooling2D, MaxPooling2D } from './pooling.js';
import type { RegularizerSpec } from './regularizers.js';
import type { SymbolicTensor } from './symbolic.js';

function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, received ${JSON.stringify(v)}`);
  return v;
}

// ---------------------------------------------------------------- residual

export interface ResidualBlockArgs extends LayerArgs {
  /** Channels of the 3x3 convolutions (the block outputs filters, or filters * expansion for a bottleneck). */
  filters: number;
  kind?: 'basic' | 'bottleneck';
  /** Stride of the block (on the 3x3 convolution); 2 halves H and W. Default 1. */
  strides?: number;
  /** 'auto' (default): identity when the shape is unchanged, else projection. */
  shortcut?: 'auto' | 'identity' | 'projection';
  preActivation?: boolean;
  /** Bottleneck output channels = filters * expansion (default 4). */
  expansion?: number;
  /** Keras convention (default 0.9, PyTorch's momentum 0.1). */
  bnMomentum?: number;
  /** Default 1e-5 (torchvision). */
  bnEpsilon?: number;
  kernelInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec;
}

export class ResidualBlock extends CompositeLayer {
  static readonly className = 'ResidualBlock';
  static readonly namePrefix = 'residual_block';
  static readonly argKeys = ['filters', 'kind', 'strides', 'shortcut', 'preActivation', 'expansion', 'bnMomentum', 'bnEpsilon', 'kernelInitializer', 'kernelRegularizer'];
  readonly filters: number;
  readonly kind: 'basic' | 'bottleneck';
  readonly strides: number;
  readonly shortcut: 'auto' | 'identity' | 'projection';
  readonly preActivation: boolean;
  readonly expansion: number;
  readonly bnMomentum: number;
  readonly bnEpsilon: number;
  readonly kernelInitializer: InitializerSpec;
  readonly kernelRegularizer?: RegularizerSpec;

  constructor(args: ResidualBlockArgs) {
    super(args);
    this.filters = posInt(args?.filters, `${this.label}: filters`);
    this.kind = args.kind ?? 'basic';
    if (this.kind !== 'basic' && this.kind !== 'bottleneck') throw new RangeError(`${this.label}: kind must be 'basic' or 'bottleneck', received ${JSON.stringify(args.kind)}`);
    this.strides = posInt(args.strides ?? 1, `${this.label}: strides`);
    this.shortcut = args.shortcut ?? 'auto';
    if (!['auto', 'identity', 'projection'].includes(this.shortcut)) throw new RangeError(`${this.label}: shortcut must be 'auto', 'identity' or 'projection', received ${JSON.stringify(args.shortcut)}`);
    this.preActivation = !!args.preActivation;
    this.expansion = posInt(args.expansion ?? (this.kind === 'bottleneck' ? 4 : 1), `${this.label}: expansion`);
    this.bnMomentum = args.bnMomentum ?? 0.9;
    this.bnEpsilon = args.bnEpsilon ?? 1e-5;
    this.kernelInitializer = args.kernelInitializer ?? 'heNormal';
    if (args.kernelRegularizer) this.kernelRegularizer = args.kernelRegularizer;
  }

  get outChannels(): number {
    return this.kind === 'bottleneck' ? this.filters * this.expansion : this.filters;
  }

  protected inputSpec() {
    return { rank: 4, layout: 'N, H, W, C', lastAxis: 'channels' };
  }

  private conv(name: string, filters: number, k: number, strides = 1): Conv2D {
    return new Conv2D({
      name, filters, kernelSize: k, strides, padding: k === 3 ? 1 : 0, useBias: false,
      kernelInitializer: this.kernelInitializer, seed: this.childSeed(),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
    });
  }
  private bn(name: string): BatchNormalization {
    return new BatchNormalization({ name, momentum: this.bnMomentum, epsilon: this.bnEpsilon });
  }

  protected define(x: SymbolicTensor): SymbolicTensor {
    const inC = x.shape[2];
    const out = this.outChannels;
    const changes = this.strides !== 1 || inC !== out;
    if (this.shortcut === 'identity' && changes) {
      throw new RangeError(`an identity shortcut needs the output shape to equal the input's, but the block maps [N, ${x.shape.join(', ')}] to ${out} channels with stride ${this.strides}; use shortcut 'projection' or 'auto'`);
    }
    const project = this.shortcut === 'projection' || (this.shortcut === 'auto' && changes);
    const f = this.filters;
    const bottleneck = this.kind === 'bottleneck';

    if (!this.preActivation) {
      let y: SymbolicTensor;
      if (bottleneck) {
        y = this.conv('conv1', f, 1).apply(x);
        y = new ReLU({ name: 'relu1' }).apply(this.bn('bn1').apply(y));
        y = this.conv('conv2', f, 3, this.strides).apply(y);
        y = new ReLU({ name: 'relu2' }).apply(this.bn('bn2').apply(y));
        y = this.bn('bn3').apply(this.conv('conv3', out, 1).apply(y));
      } else {
        y = this.conv('conv1', f, 3, this.strides).apply(x);
        y = new ReLU({ name: 'relu1' }).apply(this.bn('bn1').apply(y));
        y = this.bn('bn2').apply(this.conv('conv2', f, 3).apply(y));
      }
      const s = project ? this.bn('shortcut_bn').apply(this.conv('shortcut_conv', out, 1, this.strides).apply(x)) : x;
      return new ReLU({ name: 'out_relu' }).apply(new Add({ name: 'add' }).apply([y, s]));
    }

    const pre = new ReLU({ name: 'relu1' }).apply(this.bn('bn1').apply(x));
    let y: SymbolicTensor;
    if (bottleneck) {
      y = this.conv('conv1', f, 1).apply(pre);
      y = this.conv('conv2', f, 3, this.strides).apply(new ReLU({ name: 'relu2' }).apply(this.bn('bn2').apply(y)));
      y = this.conv('conv3', out, 1).apply(new ReLU({ name: 'relu3' }).apply(this.bn('bn3').apply(y)));
    } else {
      y = this.conv('conv1', f, 3, this.strides).apply(pre);
      y = this.conv('conv2', f, 3).apply(new ReLU({ name: 'relu2' }).apply(this.bn('bn2').apply(y)));
    }
    const s = project ? this.conv('shortcut_conv', out, 1, this.strides).apply(pre) : x;
    return new Add({ name: 'add' }).apply([y, s]);
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters: this.filters, kind: this.kind, strides: this.strides, shortcut: this.shortcut,
      preActivation: this.preActivation, expansion: this.expansion, bnMomentum: this.bnMomentum, bnEpsilon: this.bnEpsilon,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
    };
  }
}

// ---------------------------------------------------------------- squeeze and excitation

export interface SqueezeExcitationArgs extends LayerArgs {
  /** Reduction ratio r: the bottleneck has max(1, floor(C / r)) units. Default 16. */
  ratio?: number;
}

export class SqueezeExcitation extends CompositeLayer {
  static readonly className = 'SqueezeExcitation';
  static readonly namePrefix = 'squeeze_excitation';
  static readonly argKeys = ['ratio'];
  readonly ratio: number;
  constructor(args: SqueezeExcitationArgs = {}) {
    super(args);
    this.ratio = posInt(args.ratio ?? 16, `${this.label}: ratio`);
  }
  protected inputSpec() {
    return { rank: 4, layout: 'N, H, W, C', lastAxis: 'channels' };
  }
  protected define(x: SymbolicTensor): SymbolicTensor {
    const c = x.shape[2];
    const units = Math.max(1, Math.floor(c / this.ratio));
    let s = new GlobalAveragePooling2D({ name: 'squeeze' }).apply(x);
    s = new Dense({ name: 'reduce', units, activation: 'relu', kernelInitializer: 'heNormal', seed: this.childSeed() }).apply(s);
    s = new Dense({ name: 'expand', units: c, activation: 'sigmoid', seed: this.childSeed() }).apply(s);
    s = new Reshape({ name: 'to_map', targetShape: [1, 1, c] }).apply(s);
    return new Multiply({ name: 'scale' }).apply([x, s]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), ratio: this.ratio };
  }
}

// ---------------------------------------------------------------- inception

export interface InceptionModuleArgs extends LayerArgs {
  filters1x1: number;
  reduce3x3: number;
  filters3x3: number;
  reduce5x5: number;
  filters5x5: number;
  poolProj: number;
  /** Kernel of the "5x5" branch: 5 (the paper, default) or 3 (torchvision's GoogLeNet). */
  kernel5?: 3 | 5;
  /** Bias-free convolutions followed by batch norm (torchvision's BasicConv2d). Default false (the paper). */
  batchNorm?: boolean;
  /** Default 1e-3 (torchvision's GoogLeNet). */
  bnEpsilon?: number;
  bnMomentum?: number;
  kernelInitializer?: InitializerSpec;
}

export class InceptionModule extends CompositeLayer {
  static readonly className = 'InceptionModule';
  static readonly namePrefix = 'inception';
  static readonly argKeys = ['filters1x1', 'reduce3x3', 'filters3x3', 'reduce5x5', 'filters5x5', 'poolProj', 'kernel5', 'batchNorm', 'bnEpsilon', 'bnMomentum', 'kernelInitializer'];
  readonly filters1x1: number;
  readonly reduce3x3: number;
  readonly filters3x3: number;
  readonly reduce5x5: number;
  readonly filters5x5: number;
  readonly poolProj: number;
  readonly kernel5: 3 | 5;
  readonly batchNorm: boolean;
  readonly bnEpsilon: number;
  readonly bnMomentum: number;
  readonly kernelInitializer: InitializerSpec;

  constructor(args: InceptionModuleArgs) {
    super(args);
    const l = this.label;
    this.filters1x1 = posInt(args?.filters1x1, `${l}: filters1x1`);
    this.reduce3x3 = posInt(args.reduce3x3, `${l}: reduce3x3`);
    this.filters3x3 = posInt(args.filters3x3, `${l}: filters3x3`);
    this.reduce5x5 = posInt(args.reduce5x5, `${l}: reduce5x5`);
    this.filters5x5 = posInt(args.filters5x5, `${l}: filters5x5`);
    this.poolProj = posInt(args.poolProj, `${l}: poolProj`);
    this.kernel5 = args.kernel5 ?? 5;
    if (this.kernel5 !== 3 && this.kernel5 !== 5) throw new RangeError(`${l}: kernel5 must be 3 or 5, received ${JSON.stringify(args.kernel5)}`);
    this.batchNorm = !!args.batchNorm;
    this.bnEpsilon = args.bnEpsilon ?? 1e-3;
    this.bnMomentum = args.bnMomentum ?? 0.9;
    this.kernelInitializer = args.kernelInitializer ?? 'heNormal';
  }

  get outChannels(): number {
    return this.filters1x1 + this.filters3x3 + this.filters5x5 + this.poolProj;
  }

  protected inputSpec() {
    return { rank: 4, layout: 'N, H, W, C', lastAxis: 'channels' };
  }

  /** conv (+ BN) + ReLU, 'same' padding (k // 2 on each side). */
  private unit(name: string, x: SymbolicTensor, filters: number, k: number): SymbolicTensor {
    const conv = new Conv2D({
      name, filters, kernelSize: k, padding: (k - 1) / 2, useBias: !this.batchNorm,
      activation: this.batchNorm ? 'linear' : 'relu', kernelInitializer: this.kernelInitializer, seed: this.childSeed(),
    });
    if (!this.batchNorm) return conv.apply(x);
    const y = new BatchNormalization({ name: `${name}_bn`, epsilon: this.bnEpsilon, momentum: this.bnMomentum }).apply(conv.apply(x));
    return new ReLU({ name: `${name}_relu` }).apply(y);
  }

  protected define(x: SymbolicTensor): SymbolicTensor {
    const b1 = this.unit('branch1', x, this.filters1x1, 1);
    const b2 = this.unit('branch2', this.unit('branch2_reduce', x, this.reduce3x3, 1), this.filters3x3, 3);
    const b3 = this.unit('branch3', this.unit('branch3_reduce', x, this.reduce5x5, 1), this.filters5x5, this.kernel5);
    const pooled = new MaxPooling2D({ name: 'branch4_pool', poolSize: 3, strides: 1, padding: 1 }).apply(x);
    const b4 = this.unit('branch4', pooled, this.poolProj, 1);
    return new Concatenate({ name: 'concat', axis: -1 }).apply([b1, b2, b3, b4]);
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters1x1: this.filters1x1, reduce3x3: this.reduce3x3, filters3x3: this.filters3x3,
      reduce5x5: this.reduce5x5, filters5x5: this.filters5x5, poolProj: this.poolProj,
      kernel5: this.kernel5, batchNorm: this.batchNorm, bnEpsilon: this.bnEpsilon, bnMomentum: this.bnMomentum,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
    };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const BLOCK_LAYERS: readonly LayerClass[] = [ResidualBlock, SqueezeExcitation, InceptionModule];
