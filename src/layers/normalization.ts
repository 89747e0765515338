/**
 * Normalisation layers: BatchNormalization, LayerNormalization, LRN.
 */
import { type InitializerSpec, serializeInitializer } from './initializers.js';
import { type CallOpts, type InputSpec, Layer, type LayerArgs, type LayerConfig, type LayerWeight, type Shape, fmtDims, type LayerClass } from './layer.js';
import { type RegularizerSpec, checkRegularizer } from './regularizers.js';
import { noGrad } from '../autograd/reverse_mode.js';
import { tidy } from '../registry/storage.js';
import { add, affine } from '../ops/elementwise.js';
import { batchNorm, batchNormWithStats, layerNorm, lrn } from '../ops/norm.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What the layer graph passes a BatchNormalization whose ReLU it fuses (fusion.ts,
 * TrainingFusion): the layer returns relu(its output), in one pass.
 */
export interface FusedCallOpts extends CallOpts {
  activation?: 'linear' | 'relu';
}

export interface BatchNormalizationArgs extends LayerArgs {
  /** Keras convention: running = momentum * running + (1 - momentum) * batch. Default 0.99 (PyTorch's momentum 0.1 is 0.9 here). */
  momentum?: number;
  /** Default 1e-3 (Keras; PyTorch uses 1e-5). */
  epsilon?: number;
  /** Learn a shift beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  gammaInitializer?: InitializerSpec;
  betaInitializer?: InitializerSpec;
  movingMeanInitializer?: InitializerSpec;
  movingVarianceInitializer?: InitializerSpec;
  gammaRegularizer?: RegularizerSpec;
  betaRegularizer?: RegularizerSpec;
}

/**
 * Batch normalisation over the last (channel) axis. Weights: gamma, beta (trainable, C
 * each) and movingMean, movingVariance (non-trainable, C each; counted as non-trainable
 * parameters as Keras does; PyTorch's parameters() leaves them out).
 *
 * Training calls normalise with the batch mean and biased variance and update the
 * running statistics with the unbiased batch variance (as PyTorch and TF's fused kernel
 * do). Inference calls use the running statistics. A frozen layer (trainable = false)
 * always runs in inference mode and leaves its statistics alone (Keras 2 fine-tuning
 * semantics).
 */
export class BatchNormalization extends Layer {
  static readonly className = 'BatchNormalization';
  static readonly namePrefix = 'batch_normalization';
  static readonly argKeys = ['momentum', 'epsilon', 'center', 'scale', 'gammaInitializer', 'betaInitializer', 'movingMeanInitializer', 'movingVarianceInitializer', 'gammaRegularizer', 'betaRegularizer'];
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gammaInitializer: InitializerSpec;
  readonly betaInitializer: InitializerSpec;
  readonly movingMeanInitializer: InitializerSpec;
  readonly movingVarianceInitializer: InitializerSpec;
  readonly gammaRegularizer?: RegularizerSpec;
  readonly betaRegularizer?: RegularizerSpec;
  private gamma: LayerWeight | null = null;
  private beta: LayerWeight | null = null;
  private movingMean!: LayerWeight;
  private movingVariance!: LayerWeight;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1)) throw new RangeError(`${this.label}: momentum must be in [0, 1], received ${JSON.stringify(args.momentum)}`);
    this.epsilon = args.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0)) throw new RangeError(`${this.label}: epsilon must be a number >= 0, received ${JSON.stringify(args.epsilon)}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.gammaInitializer = args.gammaInitializer ?? 'ones';
    this.betaInitializer = args.betaInitializer ?? 'zeros';
    this.movingMeanInitializer = args.movingMeanInitializer ?? 'zeros';
    this.movingVarianceInitializer = args.movingVarianceInitializer ?? 'ones';
    if (args.gammaRegularizer) this.gammaRegularizer = checkRegularizer(args.gammaRegularizer, `${this.label}: gammaRegularizer`);
    if (args.betaRegularizer) this.betaRegularizer = checkRegularizer(args.betaRegularizer, `${this.label}: betaRegularizer`);
  }

  protected inputSpec(): InputSpec {
    return { lastAxis: 'channels' };
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 2) throw new RangeError(`${this.label}: expected input of rank 2 or more with channels last, received shape ${fmtDims(shape)}`);
    super.checkInput(shape);
  }

  protected createWeights(inputShape: number[]): void {
    const c = inputShape[inputShape.length - 1];
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.gammaInitializer, { regularizer: this.gammaRegularizer });
    if (this.center) this.beta = this.addWeight('beta', [c], this.betaInitializer, { regularizer: this.betaRegularizer });
    this.movingMean = this.addWeight('movingMean', [c], this.movingMeanInitializer, { trainable: false });
    this.movingVariance = this.addWeight('movingVariance', [c], this.movingVarianceInitializer, { trainable: false });
  }

  /** What inference normalises with: gamma and beta (null when scale / center is off) and the moving statistics. */
  inferenceStatistics(): { gamma: Tensor | null; beta: Tensor | null; mean: Tensor; variance: Tensor } {
    return { gamma: this.gamma?.value ?? null, beta: this.beta?.value ?? null, mean: this.movingMean.value, variance: this.movingVariance.value };
  }

  protected forward(xIn: Tensor | Tensor[], opts: FusedCallOpts): Tensor {
    const x = xIn as Tensor;
    const gamma = this.gamma?.value ?? null;
    const beta = this.beta?.value ?? null;
    const activation = opts.activation ?? 'linear';
    if (!opts.training || !this.trainable) {
      return batchNorm(x, gamma, beta, { mean: this.movingMean.value, variance: this.movingVariance.value, epsilon: this.epsilon, training: false, activation });
    }
    const { y, mean, variance } = batchNormWithStats(x, gamma, beta, { epsilon: this.epsilon, training: true, activation });
    const n = sizeOf(x.shape.slice(0, -1));
    const bessel = n > 1 ? n / (n - 1) : 1;
    const m = this.momentum;
    noGrad(() => tidy(() => {
      this.movingMean.value.assign(add(affine(this.movingMean.value, m), affine(mean, 1 - m)));
      this.movingVariance.value.assign(add(affine(this.movingVariance.value, m), affine(variance, (1 - m) * bessel)));
    }));
    return y;
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      betaInitializer: serializeInitializer(this.betaInitializer),
      movingMeanInitializer: serializeInitializer(this.movingMeanInitializer),
      movingVarianceInitializer: serializeInitializer(this.movingVarianceInitializer),
      ...(this.gammaRegularizer ? { gammaRegularizer: this.gammaRegularizer } : {}),
      ...(this.betaRegularizer ? { betaRegularizer: this.betaRegularizer } : {}),
    };
  }
}

export interface LayerNormalizationArgs extends LayerArgs {
  /** Axes normalised together, counted on the full input shape; they must be the trailing axes. Default [-1]. */
  axes?: number | number[];
  /** Default 1e-3 (Keras; PyTorch uses 1e-5). */
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  gammaInitializer?: InitializerSpec;
  betaInitializer?: InitializerSpec;
}

/**
 * Layer normalisation over the trailing `axes` of each example; gamma and beta have the
 * shape of those axes ([C] for the default axes [-1]).
 */
export class LayerNormalization extends Layer {
  static readonly className = 'LayerNormalization';
  static readonly namePrefix = 'layer_normalization';
  static readonly argKeys = ['axes', 'epsilon', 'center', 'scale', 'gammaInitializer', 'betaInitializer'];
  readonly axes: number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gammaInitializer: InitializerSpec;
  readonly betaInitializer: InitializerSpec;
  private gamma: LayerWeight | null = null;
  private beta: LayerWeight | null = null;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    const axes = args.axes ?? [-1];
    this.axes = typeof axes === 'number' ? [axes] : [...axes];
    if (!this.axes.length || this.axes.some((a) => !Number.isInteger(a) || a === 0)) {
      throw new RangeError(`${this.label}: axes must be non-zero integers (axis 0 is the batch), received ${JSON.stringify(args.axes)}`);
    }
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.gammaInitializer = args.gammaInitializer ?? 'ones';
    this.betaInitializer = args.betaInitializer ?? 'zeros';
  }

  /** Normalised axes as positions in the full shape (batch first), sorted. */
  private fullAxes(rank: number): number[] {
    const ax = this.axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    if (ax.some((a) => a < 1 || a >= rank) || new Set(ax).size !== ax.length || ax.some((a, i) => a !== rank - ax.length + i)) {
      throw new RangeError(`axes ${JSON.stringify(this.axes)} must name distinct trailing axes of an input of rank ${rank}`);
    }
    return ax;
  }

  protected createWeights(inputShape: number[]): void {
    const ax = this.fullAxes(inputShape.length + 1);
    const pShape = ax.map((a) => inputShape[a - 1]);
    if (this.scale) this.gamma = this.addWeight('gamma', pShape, this.gammaInitializer);
    if (this.center) this.beta = this.addWeight('beta', pShape, this.betaInitializer);
  }

  computeOutputShape(s: Shape): number[] {
    this.fullAxes(s.length + 1);
    return [...s];
  }

  /** Once built, the normalised (trailing) axes must keep the sizes gamma and beta were made for. */
  checkInput(shape: readonly (number | null)[]): void {
    super.checkInput(shape);
    if (!this.built || !Array.isArray(this.builtInputShape) || typeof this.builtInputShape[0] !== 'number') return;
    const want = this.builtInputShape as number[];
    const n = this.axes.length;
    const wantTail = want.slice(-n);
    const gotTail = shape.slice(-n);
    if (shape.length > n && gotTail.some((d, i) => d !== null && d !== wantTail[i])) {
      const expected = ['N', ...shape.slice(1, shape.length - n).map((d) => (d === null ? '?' : String(d))), ...wantTail].join(', ');
      throw new RangeError(
        `${this.label}: expected input whose normalised axes have sizes ${fmtDims(wantTail)} (shape [${expected}]), received ${fmtDims(shape)}`,
      );
    }
  }

  protected forward(xIn: Tensor | Tensor[]): Tensor {
    const x = xIn as Tensor;
    return layerNorm(x, this.gamma?.value ?? null, this.beta?.value ?? null, { axes: this.fullAxes(x.rank), epsilon: this.epsilon });
  }

  getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      axes: this.axes,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      betaInitializer: serializeInitializer(this.betaInitializer),
    };
  }
}

export interface LRNArgs extends LayerArgs {
  /** Channels per window (default 5). */
  size?: number;
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalisation across channels (AlexNet's "NORM" layer), PyTorch/Caffe
 * convention: y = x / (k + alpha/size * sum of squares over the window)^beta. Defaults are
 * AlexNet's: size 5, alpha 1e-4, beta 0.75, k 2. No parameters.
 */
export class LRN extends Layer {
  static readonly className = 'LRN';
  static readonly namePrefix = 'lrn';
  static readonly argKeys = ['size', 'alpha', 'beta', 'k'];
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(args: LRNArgs = {}) {
    super(args);
    this.size = args.size ?? 5;
    this.alpha = args.alpha ?? 1e-4;
    this.beta = args.beta ?? 0.75;
    this.k = args.k ?? 2;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`${this.label}: size must be a positive integer, received ${JSON.stringify(args.size)}`);
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 2) throw new RangeError(`${this.label}: expected input of rank 2 or more with channels last, received shape ${fmtDims(shape)}`);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return lrn(x as Tensor, { size: this.size, alpha: this.alpha, beta: this.beta, k: this.k });
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), size: this.size, alpha: this.alpha, beta: this.beta, k: this.k };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const NORMALIZATION_LAYERS: readonly LayerClass[] = [BatchNormalization, LayerNormalization, LRN];
