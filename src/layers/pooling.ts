/**
 * Pooling layers (no parameters; MACs counted as 0): 1D (MaxPooling1D, AveragePooling1D),
 * 2D (MaxPooling2D, AveragePooling2D, MinPooling2D), 3D (MaxPooling3D, AveragePooling3D) and
 * global (GlobalAveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D). Window size and strides
 * are hyper-parameters; strides default to the window size.
 *
 * `ceilMode` (max and min pooling, and average pooling without countIncludePad) reproduces
 * PyTorch's ceil_mode=True: the output size is ceil((n + 2p - k)/s) + 1, minus one when
 * the last window would start in the padding; the extra cells are padding on the end,
 * which never wins a max and is not counted by an average.
 */
import { type InputSpec, Layer, type LayerArgs, type LayerConfig, type Shape, type LayerClass } from './layer.js';
import { computePool2DInfo, perAxis, resolveSpatial, type Padding } from '../kernels/conv_info.js';
import { avgPool1d, avgPool2d, avgPool3d, globalAvgPool1d, globalAvgPool2d, globalAvgPool3d, globalMaxPool1d, globalMaxPool2d, globalMaxPool3d, maxPool1d, maxPool2d, maxPool3d, minPool2d } from '../ops/pool.js';
import { reshape } from '../ops/shape.js';
import { checkDataFormat, type DataFormat } from './options.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Pool2DArgs extends LayerArgs {
  /** Window [kh, kw] or one number (default 2). */
  poolSize?: number | readonly number[];
  /** Default: the window size. */
  strides?: number | readonly number[];
  /** 'valid' (default), 'same', a number, or [[top, bottom], [left, right]]. */
  padding?: Padding;
  /** PyTorch's ceil_mode (see the file comment); padding must then be 'valid' or a number. */
  ceilMode?: boolean;
  /** Spacing of the window's cells [dh, dw] or one number (default 1), as PyTorch's dilation. */
  dilations?: number | readonly number[];
}

export interface AvgPool2DArgs extends Pool2DArgs {
  /** Divide by the whole window, padding included (default false: real cells only). */
  countIncludePad?: boolean;
}

abstract class Pool2DBase extends Layer {
  static readonly argKeys = ['poolSize', 'strides', 'padding', 'ceilMode', 'dilations'];
  readonly poolSize: number[];
  readonly dilations: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly ceilMode: boolean;

  constructor(args: Pool2DArgs = {}) {
    super(args);
    this.poolSize = perAxis(this.label, 'poolSize', args.poolSize ?? 2, 2, 2);
    this.strides = perAxis(this.label, 'strides', args.strides ?? this.poolSize, 2, 1);
    this.dilations = perAxis(this.label, 'dilations', args.dilations, 2, 1);
    const p = args.padding ?? 'valid';
    if (!(p === 'valid' || p === 'same' || (typeof p === 'number' && Number.isInteger(p) && p >= 0) || (Array.isArray(p) && p.length === 2))) {
      throw new RangeError(`${this.label}: padding must be 'valid', 'same', a non-negative integer or [[top, bottom], [left, right]], received ${JSON.stringify(p)}`);
    }
    this.padding = Array.isArray(p) ? p.map((q) => [q[0], q[1]] as [number, number]) : p;
    this.ceilMode = !!args.ceilMode;
    if (this.ceilMode && !(this.padding === 'valid' || typeof this.padding === 'number')) {
      throw new RangeError(`${this.label}: ceilMode needs padding 'valid' or a number, received ${JSON.stringify(p)}`);
    }
  }

  protected inputSpec(): InputSpec {
    return { rank: 4, layout: 'N, H, W, C' };
  }

  /** The padding handed to the op: ceil mode becomes explicit extra padding at the end. */
  protected opPadding(s: Shape): Padding {
    if (!this.ceilMode) return this.padding;
    const p = this.padding === 'valid' ? 0 : (this.padding as number);
    return [0, 1].map((a) => {
      const n = s[a], k = this.dilations[a] * (this.poolSize[a] - 1) + 1, st = this.strides[a];
      let out = Math.ceil((n + 2 * p - k) / st) + 1;
      if ((out - 1) * st >= n + p) out--;
      const extra = Math.max(0, (out - 1) * st + k - (n + 2 * p));
      return [p, p + extra] as [number, number];
    });
  }

  protected poolOpts(s: Shape) {
    return { size: this.poolSize, strides: this.strides, dilations: this.dilations, padding: this.opPadding(s) };
  }

  computeOutputShape(s: Shape): number[] {
    const info = computePool2DInfo(this.className, [1, ...s], this.poolOpts(s));
    return [info.outH, info.outW, s[2]];
  }

  getConfig(): LayerConfig {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, ...(this.ceilMode ? { ceilMode: true } : {}), ...(this.dilations.some((d) => d !== 1) ? { dilations: this.dilations } : {}) };
  }
}

export class MaxPooling2D extends Pool2DBase {
  static readonly className = 'MaxPooling2D';
  static readonly namePrefix = 'max_pooling2d';
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = x as Tensor;
    return maxPool2d(t, this.poolOpts(t.shape.slice(1)));
  }
}

export class MinPooling2D extends Pool2DBase {
  static readonly className = 'MinPooling2D';
  static readonly namePrefix = 'min_pooling2d';
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = x as Tensor;
    return minPool2d(t, this.poolOpts(t.shape.slice(1)));
  }
}

export class AveragePooling2D extends Pool2DBase {
  static readonly className = 'AveragePooling2D';
  static readonly namePrefix = 'average_pooling2d';
  static readonly argKeys = ['countIncludePad'];
  readonly countIncludePad: boolean;
  constructor(args: AvgPool2DArgs = {}) {
    super(args);
    this.countIncludePad = !!args.countIncludePad;
    if (this.ceilMode && this.countIncludePad) throw new RangeError(`${this.label}: ceilMode cannot be combined with countIncludePad`);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = x as Tensor;
    return avgPool2d(t, { ...this.poolOpts(t.shape.slice(1)), countIncludePad: this.countIncludePad });
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
}

export interface GlobalPoolArgs extends LayerArgs {
  /** Keep H and W as size 1: [N, 1, 1, C] instead of [N, C]. */
  keepDims?: boolean;
}

const GLOBAL_LAYOUTS: Record<number, string> = { 1: 'N, L, C', 2: 'N, H, W, C', 3: 'N, D, H, W, C' };

abstract class GlobalPoolBase extends Layer {
  static readonly argKeys = ['keepDims'];
  readonly keepDims: boolean;
  constructor(args: GlobalPoolArgs = {}) {
    super(args);
    this.keepDims = !!args.keepDims;
  }
  /** Number of spatial axes pooled away (L; H, W; D, H, W). */
  protected get spatialRank(): number {
    return 2;
  }
  protected inputSpec(): InputSpec {
    return { rank: this.spatialRank + 2, layout: GLOBAL_LAYOUTS[this.spatialRank] };
  }
  computeOutputShape(s: Shape): number[] {
    const c = s[s.length - 1];
    return this.keepDims ? [...new Array<number>(this.spatialRank).fill(1), c] : [c];
  }
  protected abstract pool(x: Tensor): Tensor;
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = x as Tensor;
    const y = this.pool(t);
    return this.keepDims ? reshape(y, [t.shape[0], ...this.computeOutputShape(t.shape.slice(1))]) : y;
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), keepDims: this.keepDims };
  }
}

/** Global average pooling (GAP): the mean over H and W, [N, H, W, C] -> [N, C]. */
export class GlobalAveragePooling2D extends GlobalPoolBase {
  static readonly className = 'GlobalAveragePooling2D';
  static readonly namePrefix = 'global_average_pooling2d';
  protected pool(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** Global max pooling: the max over H and W, [N, H, W, C] -> [N, C]. */
export class GlobalMaxPooling2D extends GlobalPoolBase {
  static readonly className = 'GlobalMaxPooling2D';
  static readonly namePrefix = 'global_max_pooling2d';
  protected pool(x: Tensor): Tensor {
    return globalMaxPool2d(x);
  }
}

// ---------------------------------------------------------------- 3D

export interface Pool3DArgs extends LayerArgs {
  /** Window [kd, kh, kw] or one number (default 2). */
  poolSize?: number | readonly number[];
  /** Default: the window size. */
  strides?: number | readonly number[];
  /** 'valid' (default), 'same', a number, or three [before, after] pairs (D, H, W). */
  padding?: Padding;
  /** Spacing of the window's cells per axis or one number (default 1). */
  dilations?: number | readonly number[];
}

export interface AvgPool3DArgs extends Pool3DArgs {
  /** Divide by the whole window, padding included (default false: real cells only). */
  countIncludePad?: boolean;
}

abstract class Pool3DBase extends Layer {
  static readonly argKeys = ['poolSize', 'strides', 'padding', 'dilations'];
  readonly poolSize: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly padding: Padding;
  constructor(args: Pool3DArgs = {}) {
    super(args);
    this.poolSize = perAxis(this.label, 'poolSize', args.poolSize ?? 2, 3, 2);
    this.strides = perAxis(this.label, 'strides', args.strides ?? this.poolSize, 3, 1);
    this.dilations = perAxis(this.label, 'dilations', args.dilations, 3, 1);
    const p = args.padding ?? 'valid';
    if (!(p === 'valid' || p === 'same' || (typeof p === 'number' && Number.isInteger(p) && p >= 0) || (Array.isArray(p) && p.length === 3))) {
      throw new RangeError(`${this.label}: padding must be 'valid', 'same', a non-negative integer or three [before, after] pairs, received ${JSON.stringify(p)}`);
    }
    this.padding = Array.isArray(p) ? p.map((q) => [q[0], q[1]] as [number, number]) : p;
  }
  protected inputSpec(): InputSpec {
    return { rank: 5, layout: 'N, D, H, W, C' };
  }
  protected poolOpts() {
    return { size: this.poolSize, strides: this.strides, dilations: this.dilations, padding: this.padding };
  }
  computeOutputShape(s: Shape): number[] {
    const { outSizes } = resolveSpatial(this.label, s.slice(0, 3), this.poolSize, this.strides, this.dilations, this.padding, ` (input shape [${s.join(', ')}])`);
    return [...outSizes, s[3]];
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, ...(this.dilations.some((d) => d !== 1) ? { dilations: this.dilations } : {}) };
  }
}

/** Max pooling of volumes: [N, D, H, W, C] -> [N, OD, OH, OW, C]. */
export class MaxPooling3D extends Pool3DBase {
  static readonly className = 'MaxPooling3D';
  static readonly namePrefix = 'max_pooling3d';
  protected forward(x: Tensor | Tensor[]): Tensor {
    return maxPool3d(x as Tensor, this.poolOpts());
  }
}

/** Average pooling of volumes: [N, D, H, W, C] -> [N, OD, OH, OW, C]. */
export class AveragePooling3D extends Pool3DBase {
  static readonly className = 'AveragePooling3D';
  static readonly namePrefix = 'average_pooling3d';
  static readonly argKeys = ['countIncludePad'];
  readonly countIncludePad: boolean;
  constructor(args: AvgPool3DArgs = {}) {
    super(args);
    this.countIncludePad = !!args.countIncludePad;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return avgPool3d(x as Tensor, { ...this.poolOpts(), countIncludePad: this.countIncludePad });
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
}

// ---------------------------------------------------------------- 1D (Keras's MaxPooling1D, AveragePooling1D)

export interface Pool1DArgs extends LayerArgs {
  /** Window length (default 2); a number or [k]. */
  poolSize?: number | readonly [number];
  /** Default: the window length. */
  strides?: number | readonly [number];
  /** 'valid' (default), 'same' (TF's rule: output ceil(L / stride), the extra cell at the end), a number, or [before, after]. */
  padding?: 'valid' | 'same' | number | readonly [number, number];
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/**
 * Pooling of signals [N, L, C] -> [N, OL, C], the 2D pool over [N, 1, L, C] (ops/pool.ts).
 * Average pooling divides by the real cells of each window ('same' padding is not counted),
 * as Keras and TF.js do; max pooling never picks a padded cell.
 */
abstract class Pool1DBase extends Layer {
  static readonly argKeys = ['poolSize', 'strides', 'padding', 'dataFormat'];
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same' | number | [number, number];
  readonly dataFormat: 'channelsLast';
  constructor(args: Pool1DArgs = {}) {
    super(args);
    this.poolSize = perAxis(this.label, 'poolSize', args.poolSize ?? 2, 1, 2);
    this.strides = perAxis(this.label, 'strides', args.strides ?? this.poolSize, 1, 1);
    const p = args.padding ?? 'valid';
    const isInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    if (!(p === 'valid' || p === 'same' || isInt(p) || (Array.isArray(p) && p.length === 2 && p.every(isInt)))) {
      throw new RangeError(`${this.label}: padding must be 'valid', 'same', a non-negative integer or [before, after], received ${JSON.stringify(p)}`);
    }
    this.padding = Array.isArray(p) ? [p[0], p[1]] : (p as 'valid' | 'same' | number);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 3, layout: 'N, L, C' };
  }
  /** The padding as the op and the ONNX exporter take it (pairs per axis). */
  opPadding(): Padding {
    return Array.isArray(this.padding) ? [[this.padding[0], this.padding[1]]] : this.padding;
  }
  protected poolOpts() {
    return { size: this.poolSize, strides: this.strides, padding: this.opPadding() };
  }
  computeOutputShape(s: Shape): number[] {
    const { outSizes } = resolveSpatial(this.label, [s[0]], this.poolSize, this.strides, [1], this.opPadding(), ` (input shape [${s.join(', ')}])`);
    return [outSizes[0], s[1]];
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, dataFormat: this.dataFormat };
  }
}

/** Max pooling of signals (Keras MaxPooling1D): [N, L, C] -> [N, OL, C]. */
export class MaxPooling1D extends Pool1DBase {
  static readonly className = 'MaxPooling1D';
  static readonly namePrefix = 'max_pooling1d';
  protected forward(x: Tensor | Tensor[]): Tensor {
    return maxPool1d(x as Tensor, this.poolOpts());
  }
}

/** Average pooling of signals (Keras AveragePooling1D): [N, L, C] -> [N, OL, C]; padding is not counted. */
export class AveragePooling1D extends Pool1DBase {
  static readonly className = 'AveragePooling1D';
  static readonly namePrefix = 'average_pooling1d';
  protected forward(x: Tensor | Tensor[]): Tensor {
    return avgPool1d(x as Tensor, this.poolOpts());
  }
}

export interface GlobalPool1D3DArgs extends GlobalPoolArgs {
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

abstract class GlobalPoolKerasBase extends GlobalPoolBase {
  static readonly argKeys = ['dataFormat'];
  readonly dataFormat: 'channelsLast';
  constructor(args: GlobalPool1D3DArgs = {}) {
    super(args);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}

/** The mean over L: [N, L, C] -> [N, C] ([N, 1, C] with keepDims). */
export class GlobalAveragePooling1D extends GlobalPoolKerasBase {
  static readonly className = 'GlobalAveragePooling1D';
  static readonly namePrefix = 'global_average_pooling1d';
  protected get spatialRank(): number {
    return 1;
  }
  protected pool(x: Tensor): Tensor {
    return globalAvgPool1d(x);
  }
}

/** The max over L: [N, L, C] -> [N, C] ([N, 1, C] with keepDims); tied maxima share the gradient. */
export class GlobalMaxPooling1D extends GlobalPoolKerasBase {
  static readonly className = 'GlobalMaxPooling1D';
  static readonly namePrefix = 'global_max_pooling1d';
  protected get spatialRank(): number {
    return 1;
  }
  protected pool(x: Tensor): Tensor {
    return globalMaxPool1d(x);
  }
}

/** The mean over D, H and W: [N, D, H, W, C] -> [N, C] ([N, 1, 1, 1, C] with keepDims). */
export class GlobalAveragePooling3D extends GlobalPoolKerasBase {
  static readonly className = 'GlobalAveragePooling3D';
  static readonly namePrefix = 'global_average_pooling3d';
  protected get spatialRank(): number {
    return 3;
  }
  protected pool(x: Tensor): Tensor {
    return globalAvgPool3d(x);
  }
}

/** The max over D, H and W: [N, D, H, W, C] -> [N, C] ([N, 1, 1, 1, C] with keepDims). */
export class GlobalMaxPooling3D extends GlobalPoolKerasBase {
  static readonly className = 'GlobalMaxPooling3D';
  static readonly namePrefix = 'global_max_pooling3d';
  protected get spatialRank(): number {
    return 3;
  }
  protected pool(x: Tensor): Tensor {
    return globalMaxPool3d(x);
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const POOLING_LAYERS: readonly LayerClass[] = [
  MaxPooling2D, MinPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling3D, AveragePooling3D,
  MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling3D, GlobalMaxPooling3D,
];
