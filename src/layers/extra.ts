/**
 * Small layers for graphs that come from other frameworks (the ONNX importer builds with
 * them): Permute (Keras), Arithmetic (a binary elementwise op or comparison between two inputs
 * or with a stored constant), Where (select of three inputs), MathFunction (a unary elementwise function, erf included), Slice,
 * Pad (constant, reflect, edge), Reduce, Resizing (nearest / bilinear) and InstanceNormalization.
 * None has trainable parameters; Arithmetic's constant is a non-trainable weight, so it is
 * saved with the weights and never changes in `fit`.
 */
import { type InputSpec, Layer, type LayerArgs, type LayerConfig, type LayerWeight, type Shape, fmtDims, isShapeList, type LayerClass } from './layer.js';
import { abs, add, clip, div, equal, erf, exp, greater, greaterEqual, less, lessEqual, log, maximum, minimum, mul, neg, pow, reciprocal, sqrt, sub, where } from '../ops/elementwise.js';
import { tensor } from '../ops/creation.js';
import { broadcastTo, gather, pad, reshape, slice, transpose } from '../ops/shape.js';
import { max, mean, sum } from '../ops/reduce.js';
import { broadcastShapes } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

function one(x: Tensor | Tensor[], label: string): Tensor {
  if (Array.isArray(x)) throw new RangeError(`${label}: expects one input tensor, received ${x.length}`);
  return x;
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d))) throw new TypeError(`${what} must be an array of integers, received ${JSON.stringify(v)}`);
  return [...v];
}

// ---------------------------------------------------------------- Permute

export interface PermuteArgs extends LayerArgs {
  /** The example axes in their new order, 1-based (Keras): [3, 1, 2] turns [H, W, C] into [C, H, W]. */
  dims: readonly number[];
}

/** Reorders the axes of each example (the batch axis stays first). No parameters. */
export class Permute extends Layer {
  static readonly className = 'Permute';
  static readonly namePrefix = 'permute';
  static readonly argKeys = ['dims'];
  readonly dims: number[];
  constructor(args: PermuteArgs) {
    super(args);
    this.dims = intList(args?.dims, `${this.label}: dims`);
    const sorted = [...this.dims].sort((a, b) => a - b);
    if (!this.dims.length || sorted.some((d, i) => d !== i + 1)) throw new RangeError(`${this.label}: dims must be a permutation of 1..${this.dims.length}, received ${JSON.stringify(this.dims)}`);
  }
  protected inputSpec(): InputSpec {
    return { rank: this.dims.length + 1 };
  }
  computeOutputShape(s: Shape): number[] {
    return this.dims.map((d) => s[d - 1]);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return transpose(one(x, this.label), [0, ...this.dims]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), dims: this.dims };
  }
}

// ---------------------------------------------------------------- Arithmetic

/** The comparisons give 1 where true and 0 where false, in the inputs' float dtype (no gradient). */
export type ArithmeticOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'greater' | 'less' | 'equal' | 'greaterEqual' | 'lessEqual';
const ARITH: Record<ArithmeticOp, (a: Tensor, b: Tensor) => Tensor> = {
  add, sub, mul, div, pow, max: maximum, min: minimum, greater, less, equal, greaterEqual, lessEqual,
};

export interface ArithmeticArgs extends LayerArgs {
  op: ArithmeticOp;
  /**
   * With a constant: its shape (batch axis excluded, broadcast against each example); the
   * values are the layer's non-trainable weight 'constant'. Without: two inputs, broadcast.
   */
  constantShape?: readonly number[];
  /** With a constant: true computes `constant op x` instead of `x op constant`. */
  constantFirst?: boolean;
}

/** `a op b` elementwise with broadcasting: two inputs, or one input and a stored constant. */
export class Arithmetic extends Layer {
  static readonly className = 'Arithmetic';
  static readonly namePrefix = 'arithmetic';
  static readonly argKeys = ['op', 'constantShape', 'constantFirst'];
  readonly op: ArithmeticOp;
  readonly constantShape?: number[];
  readonly constantFirst: boolean;
  private constant: LayerWeight | null = null;
  constructor(args: ArithmeticArgs) {
    super(args);
    if (!(args?.op in ARITH)) throw new RangeError(`${this.label}: op must be one of ${Object.keys(ARITH).join(', ')}, received ${JSON.stringify(args?.op)}`);
    this.op = args.op;
    if (args.constantShape !== undefined) {
      this.constantShape = intList(args.constantShape, `${this.label}: constantShape`);
      if (this.constantShape.some((d) => d < 1)) throw new RangeError(`${this.label}: constantShape must hold positive sizes, received ${fmtDims(this.constantShape)}`);
    }
    this.constantFirst = !!args.constantFirst;
  }
  protected checkInputs(shapes: readonly (readonly (number | null)[])[]): void {
    if (this.constantShape) throw new RangeError(`${this.label}: holds a constant and expects one input, received ${shapes.length}`);
    if (shapes.length !== 2) throw new RangeError(`${this.label}: expects two inputs, received ${shapes.length}`);
    this.shapeOf(shapes.map((s) => s.slice(1) as number[]));
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (!this.constantShape) throw new RangeError(`${this.label}: expects two inputs (apply([a, b])), received one of shape ${fmtDims(shape)}`);
    this.shapeOf([shape.slice(1) as number[], this.constantShape]);
  }
  private shapeOf(shapes: readonly Shape[]): number[] {
    return broadcastShapes(shapes[0], shapes[1], this.label);
  }
  protected createWeights(): void {
    if (this.constantShape) this.constant = this.addWeight('constant', [1, ...this.constantShape], 'zeros', { trainable: false });
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    if (isShapeList(s)) return this.shapeOf(s);
    return this.shapeOf([s as Shape, this.constantShape ?? []]);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const f = ARITH[this.op];
    if (Array.isArray(x)) return f(x[0], x[1]);
    const c = this.constant!.value;
    return this.constantFirst ? f(c, x) : f(x, c);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), op: this.op, ...(this.constantShape ? { constantShape: this.constantShape, constantFirst: this.constantFirst } : {}) };
  }
}

// ---------------------------------------------------------------- Where

export interface WhereArgs extends LayerArgs {
  /**
   * With a stored constant in place of `a` or `b` (`constantAt`): its shape (batch axis
   * excluded; the values are the non-trainable weight 'constant'); the layer then takes two
   * inputs [cond, b] or [cond, a]. Without: three inputs [cond, a, b].
   */
  constantShape?: readonly number[];
  /** Which operand the constant replaces: 'a' (chosen where cond != 0) or 'b' (default). */
  constantAt?: 'a' | 'b';
}

/**
 * `where(cond, a, b)` (broadcast over the example axes): a where cond is not 0, else b.
 * The gradient goes to the chosen side. Inputs [cond, a, b], or [cond, other] with a constant.
 */
export class Where extends Layer {
  static readonly className = 'Where';
  static readonly namePrefix = 'where';
  static readonly argKeys = ['constantShape', 'constantAt'];
  readonly constantShape?: number[];
  readonly constantAt: 'a' | 'b';
  private constant: LayerWeight | null = null;
  constructor(args: WhereArgs = {}) {
    super(args);
    if (args.constantShape !== undefined) {
      this.constantShape = intList(args.constantShape, `${this.label}: constantShape`);
      if (this.constantShape.some((d) => d < 1)) throw new RangeError(`${this.label}: constantShape must hold positive sizes, received ${fmtDims(this.constantShape)}`);
    }
    const at = args.constantAt ?? 'b';
    if (at !== 'a' && at !== 'b') throw new RangeError(`${this.label}: constantAt must be 'a' or 'b', received ${JSON.stringify(args.constantAt)}`);
    this.constantAt = at;
  }
  private get nIn(): number {
    return this.constantShape ? 2 : 3;
  }
  private what(): string {
    return this.constantShape ? (this.constantAt === 'a' ? '[cond, b]' : '[cond, a]') : '[cond, a, b]';
  }
  protected checkInputs(shapes: readonly (readonly (number | null)[])[]): void {
    if (shapes.length !== this.nIn) throw new RangeError(`${this.label}: expects ${this.nIn} inputs ${this.what()}, received ${shapes.length}`);
    this.computeOutputShape(shapes.map((s) => s.slice(1) as number[]));
  }
  checkInput(shape: readonly (number | null)[]): void {
    throw new RangeError(`${this.label}: expects ${this.nIn} inputs (apply(${this.what()})), received one of shape ${fmtDims(shape)}`);
  }
  protected createWeights(): void {
    if (this.constantShape) this.constant = this.addWeight('constant', [1, ...this.constantShape], 'zeros', { trainable: false });
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    if (!isShapeList(s) || s.length !== this.nIn) throw new RangeError(`${this.label}: expects ${this.nIn} inputs ${this.what()}`);
    const all = this.constantShape ? [...s, this.constantShape] : s;
    return broadcastShapes(all[0], broadcastShapes(all[1], all[2], this.label), this.label);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    if (!Array.isArray(x) || x.length !== this.nIn) throw new RangeError(`${this.label}: expects ${this.nIn} inputs ${this.what()}`);
    if (!this.constantShape) return where(x[0], x[1], x[2]);
    const c = this.constant!.value;
    return this.constantAt === 'a' ? where(x[0], c, x[1]) : where(x[0], x[1], c);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), ...(this.constantShape ? { constantShape: this.constantShape, constantAt: this.constantAt } : {}) };
  }
}

// ---------------------------------------------------------------- MathFunction

export type MathFunctionName = 'sqrt' | 'neg' | 'abs' | 'exp' | 'log' | 'reciprocal' | 'clip' | 'erf';

export interface MathFunctionArgs extends LayerArgs {
  fn: MathFunctionName;
  /** clip's bounds (default -Infinity / Infinity). */
  min?: number;
  max?: number;
}

/** A unary elementwise function (erf: the `erf` op, one kernel). No parameters. */
export class MathFunction extends Layer {
  static readonly className = 'MathFunction';
  static readonly namePrefix = 'math_function';
  static readonly argKeys = ['fn', 'min', 'max'];
  readonly fn: MathFunctionName;
  readonly min?: number;
  readonly max?: number;
  constructor(args: MathFunctionArgs) {
    super(args);
    const fns: MathFunctionName[] = ['sqrt', 'neg', 'abs', 'exp', 'log', 'reciprocal', 'clip', 'erf'];
    if (!fns.includes(args?.fn)) throw new RangeError(`${this.label}: fn must be one of ${fns.join(', ')}, received ${JSON.stringify(args?.fn)}`);
    this.fn = args.fn;
    if (args.min !== undefined) this.min = args.min;
    if (args.max !== undefined) this.max = args.max;
    for (const k of ['min', 'max'] as const) {
      if (args[k] !== undefined && typeof args[k] !== 'number') throw new TypeError(`${this.label}: ${k} must be a number, received ${JSON.stringify(args[k])}`);
    }
  }
  protected forward(xIn: Tensor | Tensor[]): Tensor {
    const x = one(xIn, this.label);
    switch (this.fn) {
      case 'sqrt': return sqrt(x);
      case 'neg': return neg(x);
      case 'abs': return abs(x);
      case 'exp': return exp(x);
      case 'log': return log(x);
      case 'reciprocal': return reciprocal(x);
      case 'clip': return clip(x, this.min ?? -Infinity, this.max ?? Infinity);
      case 'erf': return erf(x);
    }
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), fn: this.fn, ...(this.min !== undefined ? { min: this.min } : {}), ...(this.max !== undefined ? { max: this.max } : {}) };
  }
}

// ---------------------------------------------------------------- Slice

export interface SliceArgs extends LayerArgs {
  /** Start of each example axis (batch excluded). */
  begin: readonly number[];
  /** Number of cells taken along each example axis; -1 takes the rest (to the end, or to index 0 with a negative stride). */
  size: readonly number[];
  /** Step along each example axis (default 1; negative walks backwards from begin). */
  strides?: readonly number[];
}

/** A block of each example, contiguous or strided (cells begin + k * stride, k < size). No parameters. */
export class Slice extends Layer {
  static readonly className = 'Slice';
  static readonly namePrefix = 'slice';
  static readonly argKeys = ['begin', 'size', 'strides'];
  readonly begin: number[];
  readonly size: number[];
  readonly strides?: number[];
  constructor(args: SliceArgs) {
    super(args);
    this.begin = intList(args?.begin, `${this.label}: begin`);
    this.size = intList(args?.size, `${this.label}: size`);
    if (this.begin.length !== this.size.length) throw new RangeError(`${this.label}: begin and size must have one entry per example axis, received ${fmtDims(this.begin)} and ${fmtDims(this.size)}`);
    if (args.strides !== undefined) {
      this.strides = intList(args.strides, `${this.label}: strides`);
      if (this.strides.length !== this.begin.length || this.strides.includes(0)) throw new RangeError(`${this.label}: strides must have one non-zero entry per example axis (${this.begin.length}), received ${fmtDims(this.strides)}`);
    }
  }
  protected inputSpec(): InputSpec {
    return { rank: this.begin.length + 1 };
  }
  private stride(i: number): number {
    return this.strides ? this.strides[i] : 1;
  }
  computeOutputShape(s: Shape): number[] {
    return s.map((d, i) => {
      const b = this.begin[i], st = this.stride(i);
      const n = this.size[i] !== -1 ? this.size[i] : st > 0 ? Math.ceil((d - b) / st) : Math.floor(b / -st) + 1;
      const last = b + (n - 1) * st;
      if (b < 0 || b >= d || n < 1 || last < 0 || last >= d) {
        throw new RangeError(`slice begin ${fmtDims(this.begin)} size ${fmtDims(this.size)}${this.strides ? ` strides ${fmtDims(this.strides)}` : ''} does not fit an example of shape ${fmtDims(s)}`);
      }
      return n;
    });
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    const out = this.computeOutputShape(t.shape.slice(1));
    // Contiguous axes by slice, strided ones by gather (both differentiate).
    const contiguous = out.map((_, i) => this.stride(i) === 1);
    let y = slice(t, [0, ...this.begin.map((b, i) => (contiguous[i] ? b : 0))], [-1, ...out.map((n, i) => (contiguous[i] ? n : t.shape[i + 1]))]);
    out.forEach((n, i) => {
      if (contiguous[i]) return;
      const idx = Int32Array.from({ length: n }, (_, k) => this.begin[i] + k * this.stride(i));
      y = gather(y, tensor(idx, undefined, 'int32'), i + 1);
    });
    return y;
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), begin: this.begin, size: this.size, ...(this.strides ? { strides: this.strides } : {}) };
  }
}

// ---------------------------------------------------------------- Pad

export interface PadArgs extends LayerArgs {
  /** [before, after] for each example axis (batch excluded). */
  paddings: readonly (readonly [number, number])[];
  /** Fill value of 'constant' padding (default 0). */
  value?: number;
  /** 'constant' (default), 'reflect' (mirror without repeating the edge) or 'edge' (repeat the edge). */
  mode?: PadMode;
}

export type PadMode = 'constant' | 'reflect' | 'edge';

/** Indices along an axis of size n padded by [before, after] in `mode` ('reflect' or 'edge'). */
function padIndices(n: number, before: number, after: number, mode: 'reflect' | 'edge'): Int32Array {
  return Int32Array.from({ length: n + before + after }, (_, o) => {
    let i = o - before;
    if (mode === 'edge') return Math.min(n - 1, Math.max(0, i));
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    i = ((i % period) + period) % period;
    return i < n ? i : period - i;
  });
}

/** Padding of any example axes: constant, reflect or edge. No parameters. */
export class Pad extends Layer {
  static readonly className = 'Pad';
  static readonly namePrefix = 'pad';
  static readonly argKeys = ['paddings', 'value', 'mode'];
  readonly paddings: [number, number][];
  readonly value: number;
  readonly mode: PadMode;
  constructor(args: PadArgs) {
    super(args);
    const p = args?.paddings;
    if (!Array.isArray(p) || p.some((q) => !Array.isArray(q) || q.length !== 2 || q.some((v) => !Number.isInteger(v) || v < 0))) {
      throw new RangeError(`${this.label}: paddings must be [before, after] pairs of non-negative integers, received ${JSON.stringify(p)}`);
    }
    this.paddings = p.map((q) => [q[0], q[1]] as [number, number]);
    this.value = args.value ?? 0;
    if (typeof this.value !== 'number') throw new TypeError(`${this.label}: value must be a number, received ${JSON.stringify(args.value)}`);
    this.mode = args.mode ?? 'constant';
    if (!['constant', 'reflect', 'edge'].includes(this.mode)) throw new RangeError(`${this.label}: mode must be 'constant', 'reflect' or 'edge', received ${JSON.stringify(args.mode)}`);
  }
  protected inputSpec(): InputSpec {
    return { rank: this.paddings.length + 1 };
  }
  computeOutputShape(s: Shape): number[] {
    if (this.mode === 'reflect') {
      this.paddings.forEach(([b, a], i) => {
        if (b > s[i] - 1 || a > s[i] - 1) throw new RangeError(`reflect padding [${b}, ${a}] of axis ${i + 1} needs at most ${s[i] - 1} (its size minus one)`);
      });
    }
    return s.map((d, i) => d + this.paddings[i][0] + this.paddings[i][1]);
  }
  protected forward(xIn: Tensor | Tensor[]): Tensor {
    const x = one(xIn, this.label);
    if (this.mode === 'constant') return pad(x, [[0, 0], ...this.paddings], this.value);
    this.computeOutputShape(x.shape.slice(1));
    let y = x;
    this.paddings.forEach(([b, a], i) => {
      if (b || a) y = gather(y, tensor(padIndices(y.shape[i + 1], b, a, this.mode as 'reflect' | 'edge'), undefined, 'int32'), i + 1);
    });
    return y;
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), paddings: this.paddings, value: this.value, mode: this.mode };
  }
}

// ---------------------------------------------------------------- Reduce

export type ReduceOp = 'mean' | 'sum' | 'max';

export interface ReduceArgs extends LayerArgs {
  op: ReduceOp;
  /** Axes of the full shape (batch = 0 not allowed; negative counts from the end). */
  axes: readonly number[];
  keepDims?: boolean;
}

/** Mean, sum or max over some example axes. No parameters. */
export class Reduce extends Layer {
  static readonly className = 'Reduce';
  static readonly namePrefix = 'reduce';
  static readonly argKeys = ['op', 'axes', 'keepDims'];
  readonly op: ReduceOp;
  readonly axes: number[];
  readonly keepDims: boolean;
  constructor(args: ReduceArgs) {
    super(args);
    if (!['mean', 'sum', 'max'].includes(args?.op)) throw new RangeError(`${this.label}: op must be 'mean', 'sum' or 'max', received ${JSON.stringify(args?.op)}`);
    this.op = args.op;
    this.axes = intList(args.axes, `${this.label}: axes`);
    if (!this.axes.length || this.axes.includes(0)) throw new RangeError(`${this.label}: axes must be non-empty and leave out the batch axis 0, received ${JSON.stringify(this.axes)}`);
    this.keepDims = !!args.keepDims;
  }
  private full(rank: number): number[] {
    const ax = this.axes.map((a) => (a < 0 ? a + rank : a));
    if (ax.some((a) => a < 1 || a >= rank)) throw new RangeError(`axes ${JSON.stringify(this.axes)} do not fit an input of rank ${rank} (batch axis 0 excluded)`);
    return ax;
  }
  computeOutputShape(s: Shape): number[] {
    const ax = this.full(s.length + 1).map((a) => a - 1);
    return this.keepDims ? s.map((d, i) => (ax.includes(i) ? 1 : d)) : s.filter((_, i) => !ax.includes(i));
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    const opts = { axes: this.full(t.rank), keepDims: this.keepDims };
    return this.op === 'mean' ? mean(t, opts) : this.op === 'sum' ? sum(t, opts) : max(t, opts);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), op: this.op, axes: this.axes, keepDims: this.keepDims };
  }
}

// ---------------------------------------------------------------- Resizing

export type ResizeInterpolation = 'nearest' | 'bilinear';
export type ResizeCoordinates = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
export type ResizeNearest = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizingArgs extends LayerArgs {
  /** Output height and width. */
  height: number;
  width: number;
  /** 'nearest' (default) or 'bilinear'. */
  interpolation?: ResizeInterpolation;
  /** How an output pixel maps to input coordinates (ONNX Resize's coordinate_transformation_mode; default 'half_pixel'). */
  coordinates?: ResizeCoordinates;
  /** Rounding of 'nearest' (ONNX's nearest_mode; default 'round_prefer_floor'). */
  nearestMode?: ResizeNearest;
}

/** How `resizeImages` maps and interpolates (Resizing's options; UpSampling2D uses 'asymmetric' + 'floor'). */
export interface ResizeMode {
  interpolation: ResizeInterpolation;
  coordinates: ResizeCoordinates;
  nearestMode: ResizeNearest;
}

/** Input coordinate of output index o along an axis of n -> m. */
function resizeSource(mode: ResizeMode, o: number, n: number, m: number): number {
  const scale = m / n;
  switch (mode.coordinates) {
    case 'half_pixel': return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return m > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return m === 1 ? 0 : (o * (n - 1)) / (m - 1);
    case 'asymmetric': return o / scale;
  }
}

function resizeRound(mode: ResizeMode, v: number): number {
  switch (mode.nearestMode) {
    case 'round_prefer_floor': return Math.ceil(v - 0.5);
    case 'round_prefer_ceil': return Math.floor(v + 0.5);
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
  }
}

/**
 * Each index of `axis` repeated s times in order (nearest-neighbour upsampling by an integer
 * factor): one broadcast copy, where a gather (int32 indices) would run on 'ts' under the wasm
 * and webgpu backends. The gradient sums the repeats, as the gather's would.
 */
export function repeatAxis(x: Tensor, axis: number, s: number): Tensor {
  const sh = x.shape;
  const y = broadcastTo(reshape(x, [...sh.slice(0, axis + 1), 1, ...sh.slice(axis + 1)]), [...sh.slice(0, axis + 1), s, ...sh.slice(axis + 1)]);
  return reshape(y, [...sh.slice(0, axis), sh[axis] * s, ...sh.slice(axis + 1)]);
}

/** One spatial axis (1 = H, 2 = W) of x resized to m: gathers, and a lerp for bilinear (all differentiable). */
function resizeAxis(x: Tensor, axis: 1 | 2, m: number, mode: ResizeMode): Tensor {
  const n = x.shape[axis];
  if (n === m && mode.coordinates !== 'align_corners' && mode.interpolation === 'nearest') return x;
  const clampI = (i: number) => Math.min(n - 1, Math.max(0, i));
  if (mode.interpolation === 'nearest') {
    const idx = Int32Array.from({ length: m }, (_, o) => clampI(resizeRound(mode, resizeSource(mode, o, n, m))));
    // an integer factor that picks source o / s for output o (PyTorch's nearest upsampling) is a repeat
    const s = m / n;
    if (Number.isInteger(s) && idx.every((v, o) => v === Math.floor(o / s))) return repeatAxis(x, axis, s);
    return gather(x, tensor(idx, undefined, 'int32'), axis);
  }
  const i0 = new Int32Array(m), i1 = new Int32Array(m), w = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    const src = Math.min(n - 1, Math.max(0, resizeSource(mode, o, n, m)));
    i0[o] = Math.floor(src);
    i1[o] = Math.min(n - 1, i0[o] + 1);
    w[o] = src - i0[o];
  }
  const wShape = axis === 1 ? [1, m, 1, 1] : [1, 1, m, 1];
  const wt = tensor(w, wShape, x.dtype);
  const a = gather(x, tensor(i0, undefined, 'int32'), axis), b = gather(x, tensor(i1, undefined, 'int32'), axis);
  return add(a, mul(sub(b, a), wt));
}

/** Resize [N, H, W, C] to [N, height, width, C], rows then columns (bilinear is separable). */
export function resizeImages(x: Tensor, height: number, width: number, mode: ResizeMode): Tensor {
  return resizeAxis(resizeAxis(x, 1, height, mode), 2, width, mode);
}

const COORDS: ResizeCoordinates[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
const NEAREST: ResizeNearest[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/**
 * Resizes [N, H, W, C] images to [N, height, width, C] by nearest-neighbour or bilinear
 * interpolation, with ONNX Resize's coordinate conventions (PyTorch's nearest upsampling is
 * 'asymmetric' + 'floor'; bilinear with align_corners=False is 'pytorch_half_pixel'). No
 * parameters.
 */
export class Resizing extends Layer {
  static readonly className = 'Resizing';
  static readonly namePrefix = 'resizing';
  static readonly argKeys = ['height', 'width', 'interpolation', 'coordinates', 'nearestMode'];
  readonly height: number;
  readonly width: number;
  readonly interpolation: ResizeInterpolation;
  readonly coordinates: ResizeCoordinates;
  readonly nearestMode: ResizeNearest;
  constructor(args: ResizingArgs) {
    super(args);
    for (const k of ['height', 'width'] as const) {
      if (!Number.isInteger(args?.[k]) || args[k] < 1) throw new RangeError(`${this.label}: ${k} must be a positive integer, received ${JSON.stringify(args?.[k])}`);
    }
    this.height = args.height;
    this.width = args.width;
    this.interpolation = args.interpolation ?? 'nearest';
    this.coordinates = args.coordinates ?? 'half_pixel';
    this.nearestMode = args.nearestMode ?? 'round_prefer_floor';
    if (!['nearest', 'bilinear'].includes(this.interpolation)) throw new RangeError(`${this.label}: interpolation must be 'nearest' or 'bilinear', received ${JSON.stringify(args.interpolation)}`);
    if (!COORDS.includes(this.coordinates)) throw new RangeError(`${this.label}: coordinates must be one of ${COORDS.join(', ')}, received ${JSON.stringify(args.coordinates)}`);
    if (!NEAREST.includes(this.nearestMode)) throw new RangeError(`${this.label}: nearestMode must be one of ${NEAREST.join(', ')}, received ${JSON.stringify(args.nearestMode)}`);
  }
  protected inputSpec(): InputSpec {
    return { rank: 4, layout: 'N, H, W, C' };
  }
  computeOutputShape(s: Shape): number[] {
    return [this.height, this.width, s[2]];
  }
  protected forward(xIn: Tensor | Tensor[]): Tensor {
    return resizeImages(one(xIn, this.label), this.height, this.width, this);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation, coordinates: this.coordinates, nearestMode: this.nearestMode };
  }
}

// ---------------------------------------------------------------- InstanceNormalization

export interface InstanceNormalizationArgs extends LayerArgs {
  /** Default 1e-5 (PyTorch and ONNX). */
  epsilon?: number;
}

/**
 * Instance normalisation (channels last): each example's channel normalised over its
 * spatial axes, then scaled by gamma and shifted by beta ([C] each, trainable).
 */
export class InstanceNormalization extends Layer {
  static readonly className = 'InstanceNormalization';
  static readonly namePrefix = 'instance_normalization';
  static readonly argKeys = ['epsilon'];
  readonly epsilon: number;
  constructor(args: InstanceNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0)) throw new RangeError(`${this.label}: epsilon must be a number >= 0, received ${JSON.stringify(args.epsilon)}`);
  }
  checkInput(shape: readonly (number | null)[]): void {
    if (shape.length < 3) throw new RangeError(`${this.label}: expected input of rank 3 or more (N, spatial..., C), received shape ${fmtDims(shape)}`);
  }
  protected createWeights(inputShape: number[]): void {
    const c = inputShape[inputShape.length - 1];
    this.addWeight('gamma', [c], 'ones');
    this.addWeight('beta', [c], 'zeros');
  }
  protected forward(xIn: Tensor | Tensor[]): Tensor {
    const x = one(xIn, this.label);
    const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
    const mu = mean(x, { axes, keepDims: true });
    const d = sub(x, mu);
    const v = mean(mul(d, d), { axes, keepDims: true });
    const [gamma, beta] = this.ownWeights;
    return add(mul(div(d, sqrt(add(v, this.epsilon))), gamma.value), beta.value);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const EXTRA_LAYERS: readonly LayerClass[] = [Permute, Arithmetic, Where, MathFunction, Slice, Pad, Reduce, Resizing, InstanceNormalization];
