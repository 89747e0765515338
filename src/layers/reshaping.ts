/**
 * Keras's reshaping layers for signals, images and volumes, channels last: Cropping1D/2D/3D,
 * UpSampling1D/2D/3D and ZeroPadding1D/3D (ZeroPadding2D is in core.ts; Reshape, Flatten and
 * Permute in core.ts and extra.ts). None has parameters; each is a slice, a repeat or a pad,
 * so the gradients are those ops'.
 */
import { type InputSpec, Layer, type LayerConfig, type LayerArgs, type Shape, fmtDims, type LayerClass } from './layer.js';
import { checkDataFormat, type DataFormat } from './options.js';
import { repeatAxis, resizeImages, type ResizeMode } from './extra.js';
import { pad, slice } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';

type Pair = [number, number];

function one(x: Tensor | Tensor[], label: string): Tensor {
  if (Array.isArray(x)) throw new RangeError(`${label}: expects one input tensor, received ${x.length}`);
  return x;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** p, or [before, after]: one [before, after] pair of non-negative integers. */
function pairOf(v: unknown, what: string, expected: string): Pair {
  if (isCount(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(isCount)) return [v[0], v[1]];
  throw new RangeError(`${what} must be ${expected} (non-negative integers), received ${JSON.stringify(v)}`);
}

/** p, [ph, pw] (symmetric per axis) or [[top, bottom], [left, right]]: Keras's three forms. */
function pairs2d(v: unknown, what: string): [Pair, Pair] {
  const expected = 'p, [ph, pw] or [[top, bottom], [left, right]]';
  if (isCount(v)) return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2) {
    if (v.every(isCount)) return [[v[0], v[0]], [v[1], v[1]]];
    if (v.every((q) => Array.isArray(q) && q.length === 2 && q.every(isCount))) return [[v[0][0], v[0][1]], [v[1][0], v[1][1]]];
  }
  throw new RangeError(`${what} must be ${expected} (non-negative integers), received ${JSON.stringify(v)}`);
}

/** p, [pd, ph, pw] (symmetric per axis) or [[d0, d1], [h0, h1], [w0, w1]]: Keras's 3D forms. */
function pairs3d(v: unknown, what: string): [Pair, Pair, Pair] {
  const expected = 'p, [pd, ph, pw] or [[front, back], [top, bottom], [left, right]]';
  if (isCount(v)) return [[v, v], [v, v], [v, v]];
  if (Array.isArray(v) && v.length === 3) {
    if (v.every(isCount)) return [[v[0], v[0]], [v[1], v[1]], [v[2], v[2]]];
    if (v.every((q) => Array.isArray(q) && q.length === 2 && q.every(isCount))) return [[v[0][0], v[0][1]], [v[1][0], v[1][1]], [v[2][0], v[2][1]]];
  }
  throw new RangeError(`${what} must be ${expected} (non-negative integers), received ${JSON.stringify(v)}`);
}

/** Output sizes of `s` (spatial sizes first) cropped by `crops`; an error when nothing would be left. */
function croppedSizes(s: Shape, crops: readonly Pair[], axisNames: readonly string[]): number[] {
  const shown = crops.length === 1 ? `[${crops[0].join(', ')}]` : JSON.stringify(crops);
  return crops.map(([a, b], i) => {
    if (a + b >= s[i]) {
      throw new RangeError(`cropping ${shown} removes ${a + b} of the input's ${s[i]} ${axisNames[i]} (input shape ${fmtDims([null, ...s])}); it must leave at least one`);
    }
    return s[i] - a - b;
  });
}

// ---------------------------------------------------------------- cropping

export interface Cropping1DArgs extends LayerArgs {
  /** Cells cut from the start and the end of L: c (both) or [start, end]. Default 1 (Keras's (1, 1)). */
  cropping?: number | readonly [number, number];
}

/** Cuts cells off both ends of a signal: [N, L, C] -> [N, L - start - end, C]. */
export class Cropping1D extends Layer {
  static readonly className = 'Cropping1D';
  static readonly namePrefix = 'cropping1d';
  static readonly argKeys = ['cropping'];
  readonly cropping: Pair;
  constructor(args: Cropping1DArgs = {}) {
    super(args);
    this.cropping = pairOf(args.cropping ?? 1, `${this.label}: cropping`, 'c or [start, end]');
  }
  protected inputSpec(): InputSpec {
    return { rank: 3, layout: 'N, L, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [...croppedSizes(s, [this.cropping], ['cells']), s[1]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    const [l] = this.computeOutputShape(t.shape.slice(1));
    return slice(t, [0, this.cropping[0], 0], [-1, l, -1]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), cropping: this.cropping };
  }
}

export interface Cropping2DArgs extends LayerArgs {
  /** c (all sides), [ch, cw] (top/bottom, left/right) or [[top, bottom], [left, right]]. Default 0. */
  cropping?: number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/** Cuts rows and columns off the borders of images: [N, H, W, C] -> [N, H - top - bottom, W - left - right, C]. */
export class Cropping2D extends Layer {
  static readonly className = 'Cropping2D';
  static readonly namePrefix = 'cropping2d';
  static readonly argKeys = ['cropping', 'dataFormat'];
  readonly cropping: [Pair, Pair];
  readonly dataFormat: 'channelsLast';
  constructor(args: Cropping2DArgs = {}) {
    super(args);
    this.cropping = pairs2d(args.cropping ?? 0, `${this.label}: cropping`);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: 'N, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [...croppedSizes(s, this.cropping, ['rows', 'columns']), s[2]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    const [h, w] = this.computeOutputShape(t.shape.slice(1));
    return slice(t, [0, this.cropping[0][0], this.cropping[1][0], 0], [-1, h, w, -1]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), cropping: this.cropping, dataFormat: this.dataFormat };
  }
}

export interface Cropping3DArgs extends LayerArgs {
  /** c (all sides), [cd, ch, cw] or [[front, back], [top, bottom], [left, right]]. Default 0. */
  cropping?: number | readonly [number, number, number] | readonly [readonly [number, number], readonly [number, number], readonly [number, number]];
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/** Cuts the borders off volumes: [N, D, H, W, C] -> [N, D', H', W', C]. */
export class Cropping3D extends Layer {
  static readonly className = 'Cropping3D';
  static readonly namePrefix = 'cropping3d';
  static readonly argKeys = ['cropping', 'dataFormat'];
  readonly cropping: [Pair, Pair, Pair];
  readonly dataFormat: 'channelsLast';
  constructor(args: Cropping3DArgs = {}) {
    super(args);
    this.cropping = pairs3d(args.cropping ?? 0, `${this.label}: cropping`);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 5, layout: 'N, D, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [...croppedSizes(s, this.cropping, ['depth slices', 'rows', 'columns']), s[3]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    const [d, h, w] = this.computeOutputShape(t.shape.slice(1));
    return slice(t, [0, this.cropping[0][0], this.cropping[1][0], this.cropping[2][0], 0], [-1, d, h, w, -1]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), cropping: this.cropping, dataFormat: this.dataFormat };
  }
}

// ---------------------------------------------------------------- padding

export interface ZeroPadding1DArgs extends LayerArgs {
  /** Zeros added at the start and the end of L: p (both) or [start, end]. Default 1. */
  padding?: number | readonly [number, number];
}

/** Zeros around a signal: [N, L, C] -> [N, start + L + end, C]. */
export class ZeroPadding1D extends Layer {
  static readonly className = 'ZeroPadding1D';
  static readonly namePrefix = 'zero_padding1d';
  static readonly argKeys = ['padding'];
  readonly padding: Pair;
  constructor(args: ZeroPadding1DArgs = {}) {
    super(args);
    this.padding = pairOf(args.padding ?? 1, `${this.label}: padding`, 'p or [start, end]');
  }
  protected inputSpec(): InputSpec {
    return { rank: 3, layout: 'N, L, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [s[0] + this.padding[0] + this.padding[1], s[1]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return pad(one(x, this.label), [[0, 0], this.padding, [0, 0]]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), padding: this.padding };
  }
}

export interface ZeroPadding3DArgs extends LayerArgs {
  /** p (all sides), [pd, ph, pw] or [[front, back], [top, bottom], [left, right]]. Default 1. */
  padding?: number | readonly [number, number, number] | readonly [readonly [number, number], readonly [number, number], readonly [number, number]];
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/** Zeros around volumes: [N, D, H, W, C] -> [N, D', H', W', C]. */
export class ZeroPadding3D extends Layer {
  static readonly className = 'ZeroPadding3D';
  static readonly namePrefix = 'zero_padding3d';
  static readonly argKeys = ['padding', 'dataFormat'];
  readonly padding: [Pair, Pair, Pair];
  readonly dataFormat: 'channelsLast';
  constructor(args: ZeroPadding3DArgs = {}) {
    super(args);
    this.padding = pairs3d(args.padding ?? 1, `${this.label}: padding`);
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 5, layout: 'N, D, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [...this.padding.map(([a, b], i) => s[i] + a + b), s[3]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return pad(one(x, this.label), [[0, 0], ...this.padding, [0, 0]]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), padding: this.padding, dataFormat: this.dataFormat };
  }
}

// ---------------------------------------------------------------- upsampling

/** Sizes as `n` integers: one number for every axis, or one per axis, each >= 1. */
function factors(label: string, v: unknown, n: number): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? [...v] : null;
  if (!out || out.length !== n || out.some((d) => !Number.isInteger(d) || d < 1)) {
    const form = n === 1 ? 'a positive integer' : n === 2 ? 'a positive integer or [sh, sw] of positive integers' : 'a positive integer or [sd, sh, sw] of positive integers';
    throw new RangeError(`${label}: size must be ${form}, received ${JSON.stringify(v)}`);
  }
  return out;
}

/** Each cell of axes 1..k of x repeated size[i] times (nearest-neighbour upsampling), one broadcast copy per axis. */
function repeatCells(x: Tensor, size: readonly number[]): Tensor {
  let y = x;
  size.forEach((s, i) => {
    if (s !== 1) y = repeatAxis(y, i + 1, s);
  });
  return y;
}

export interface UpSampling1DArgs extends LayerArgs {
  /** Repeats of each cell along L (default 2). */
  size?: number;
}

/** Nearest-neighbour upsampling of signals: each cell repeated `size` times, [N, L, C] -> [N, size * L, C]. */
export class UpSampling1D extends Layer {
  static readonly className = 'UpSampling1D';
  static readonly namePrefix = 'up_sampling1d';
  static readonly argKeys = ['size'];
  readonly size: number;
  constructor(args: UpSampling1DArgs = {}) {
    super(args);
    this.size = factors(this.label, args.size ?? 2, 1)[0];
  }
  protected inputSpec(): InputSpec {
    return { rank: 3, layout: 'N, L, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [s[0] * this.size, s[1]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return repeatCells(one(x, this.label), [this.size]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), size: this.size };
  }
}

export interface UpSampling3DArgs extends LayerArgs {
  /** Repeats [sd, sh, sw] (or one for all three), positive integers. Default [2, 2, 2]. */
  size?: number | readonly [number, number, number];
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/** Nearest-neighbour upsampling of volumes (Keras UpSampling3D): [N, D, H, W, C] -> [N, sd*D, sh*H, sw*W, C]. */
export class UpSampling3D extends Layer {
  static readonly className = 'UpSampling3D';
  static readonly namePrefix = 'up_sampling3d';
  static readonly argKeys = ['size', 'dataFormat'];
  readonly size: [number, number, number];
  readonly dataFormat: 'channelsLast';
  constructor(args: UpSampling3DArgs = {}) {
    super(args);
    const f = factors(this.label, args.size ?? 2, 3);
    this.size = [f[0], f[1], f[2]];
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  protected inputSpec(): InputSpec {
    return { rank: 5, layout: 'N, D, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [s[0] * this.size[0], s[1] * this.size[1], s[2] * this.size[2], s[3]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return repeatCells(one(x, this.label), this.size);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), size: this.size, dataFormat: this.dataFormat };
  }
}

export type UpSamplingInterpolation = 'nearest' | 'bilinear';

export interface UpSampling2DArgs extends LayerArgs {
  /** Factors [sh, sw] (or one for both), positive integers. Default [2, 2]. */
  size?: number | readonly [number, number];
  /** 'nearest' (default: each pixel repeated sh x sw times) or 'bilinear'. */
  interpolation?: UpSamplingInterpolation;
  /** Keras's option; only 'channelsLast' (the default) is supported. */
  dataFormat?: DataFormat;
}

/**
 * Upsampling of images by integer factors: [N, H, W, C] -> [N, sh * H, sw * W, C].
 *
 * 'nearest' repeats each pixel (the same in TF.js, Keras 2 and Keras 3). 'bilinear' is
 * TF.js's: `tf.image.resizeBilinear` with alignCorners = false and halfPixelCenters = false,
 * i.e. output pixel o reads input coordinate o / s (ONNX's 'asymmetric'), interpolating
 * between floor and floor + 1, the last row and column repeated at the far edge. Keras 2 in
 * Python (tf.image.resize, TF 2) and Keras 3 use half-pixel centres instead, coordinate
 * (o + 0.5) / s - 0.5 clamped to the image, which shifts the result by half an input pixel
 * and gives different values (the first output row is the first input row in both, the
 * second differs); a model trained in Python Keras with bilinear upsampling is reproduced
 * by `resizing({ height, width, interpolation: 'bilinear', coordinates: 'half_pixel' })`.
 * Built from gathers and a linear blend, so it differentiates with respect to the input.
 */
export class UpSampling2D extends Layer {
  static readonly className = 'UpSampling2D';
  static readonly namePrefix = 'up_sampling2d';
  static readonly argKeys = ['size', 'interpolation', 'dataFormat'];
  readonly size: [number, number];
  readonly interpolation: UpSamplingInterpolation;
  readonly dataFormat: 'channelsLast';
  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    const f = factors(this.label, args.size ?? 2, 2);
    this.size = [f[0], f[1]];
    const i = args.interpolation ?? 'nearest';
    if (i !== 'nearest' && i !== 'bilinear') throw new RangeError(`${this.label}: interpolation must be 'nearest' or 'bilinear', received ${JSON.stringify(args.interpolation)}`);
    this.interpolation = i;
    this.dataFormat = checkDataFormat(this.label, args.dataFormat);
  }
  /** The Resize convention this layer follows (also what its ONNX export writes). */
  get resizeMode(): ResizeMode {
    return { interpolation: this.interpolation, coordinates: 'asymmetric', nearestMode: 'floor' };
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: 'N, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [s[0] * this.size[0], s[1] * this.size[1], s[2]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    return resizeImages(t, t.shape[1] * this.size[0], t.shape[2] * this.size[1], this.resizeMode);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), size: this.size, interpolation: this.interpolation, dataFormat: this.dataFormat };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const RESHAPING_LAYERS: readonly LayerClass[] = [Cropping1D, Cropping2D, Cropping3D, ZeroPadding1D, ZeroPadding3D, UpSampling1D, UpSampling2D, UpSampling3D];
