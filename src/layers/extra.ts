/**
 * Small layers for graphs that come from other frameworks (the ONNX importer builds with
 * them): Permute (Keras), Arithmetic (a binary elementwise op between two inputs or with
 * a stored constant), MathFunction (a unary elementwise function), Slice, Pad and Reduce.
 * None has trainable parameters; Arithmetic's constant is a non-trainable weight, so it is
 * saved with the weights and never changes in `fit`.
 */
import { type InputSpec, Layer, type LayerArgs, type LayerConfig, type LayerWeight, type Shape, fmtDims, isShapeList, registerLayerClass } from './layer.js';
import { abs, add, clip, div, exp, log, maximum, minimum, mul, neg, pow, reciprocal, sqrt, sub } from '../ops/elementwise.js';
import { pad, slice, transpose } from '../ops/shape.js';
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

export type ArithmeticOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min';
const ARITH: Record<ArithmeticOp, (a: Tensor, b: Tensor) => Tensor> = { add, sub, mul, div, pow, max: maximum, min: minimum };

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

// ---------------------------------------------------------------- MathFunction

export type MathFunctionName = 'sqrt' | 'neg' | 'abs' | 'exp' | 'log' | 'reciprocal' | 'clip';

export interface MathFunctionArgs extends LayerArgs {
  fn: MathFunctionName;
  /** clip's bounds (default -Infinity / Infinity). */
  min?: number;
  max?: number;
}

/** A unary elementwise function. No parameters. */
export class MathFunction extends Layer {
  static readonly className = 'MathFunction';
  static readonly namePrefix = 'math_function';
  static readonly argKeys = ['fn', 'min', 'max'];
  readonly fn: MathFunctionName;
  readonly min?: number;
  readonly max?: number;
  constructor(args: MathFunctionArgs) {
    super(args);
    const fns: MathFunctionName[] = ['sqrt', 'neg', 'abs', 'exp', 'log', 'reciprocal', 'clip'];
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
  /** Size along each example axis; -1 takes the rest. */
  size: readonly number[];
}

/** A contiguous block of each example. No parameters. */
export class Slice extends Layer {
  static readonly className = 'Slice';
  static readonly namePrefix = 'slice';
  static readonly argKeys = ['begin', 'size'];
  readonly begin: number[];
  readonly size: number[];
  constructor(args: SliceArgs) {
    super(args);
    this.begin = intList(args?.begin, `${this.label}: begin`);
    this.size = intList(args?.size, `${this.label}: size`);
    if (this.begin.length !== this.size.length) throw new RangeError(`${this.label}: begin and size must have one entry per example axis, received ${fmtDims(this.begin)} and ${fmtDims(this.size)}`);
  }
  protected inputSpec(): InputSpec {
    return { rank: this.begin.length + 1 };
  }
  computeOutputShape(s: Shape): number[] {
    return s.map((d, i) => {
      const b = this.begin[i], n = this.size[i] === -1 ? d - b : this.size[i];
      if (b < 0 || n < 1 || b + n > d) throw new RangeError(`slice begin ${fmtDims(this.begin)} size ${fmtDims(this.size)} does not fit an example of shape ${fmtDims(s)}`);
      return n;
    });
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const t = one(x, this.label);
    return slice(t, [0, ...this.begin], [-1, ...this.computeOutputShape(t.shape.slice(1))]);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), begin: this.begin, size: this.size };
  }
}

// ---------------------------------------------------------------- Pad

export interface PadArgs extends LayerArgs {
  /** [before, after] for each example axis (batch excluded). */
  paddings: readonly (readonly [number, number])[];
  /** Fill value (default 0). */
  value?: number;
}

/** Constant padding of any example axes. No parameters. */
export class Pad extends Layer {
  static readonly className = 'Pad';
  static readonly namePrefix = 'pad';
  static readonly argKeys = ['paddings', 'value'];
  readonly paddings: [number, number][];
  readonly value: number;
  constructor(args: PadArgs) {
    super(args);
    const p = args?.paddings;
    if (!Array.isArray(p) || p.some((q) => !Array.isArray(q) || q.length !== 2 || q.some((v) => !Number.isInteger(v) || v < 0))) {
      throw new RangeError(`${this.label}: paddings must be [before, after] pairs of non-negative integers, received ${JSON.stringify(p)}`);
    }
    this.paddings = p.map((q) => [q[0], q[1]] as [number, number]);
    this.value = args.value ?? 0;
    if (typeof this.value !== 'number') throw new TypeError(`${this.label}: value must be a number, received ${JSON.stringify(args.value)}`);
  }
  protected inputSpec(): InputSpec {
    return { rank: this.paddings.length + 1 };
  }
  computeOutputShape(s: Shape): number[] {
    return s.map((d, i) => d + this.paddings[i][0] + this.paddings[i][1]);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return pad(one(x, this.label), [[0, 0], ...this.paddings], this.value);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), paddings: this.paddings, value: this.value };
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

for (const cls of [Permute, Arithmetic, MathFunction, Slice, Pad, Reduce]) registerLayerClass(cls);
