/**
 * Merge layers, applied to a list of inputs: Add (equal shapes, the residual sum),
 * Multiply (broadcasting, e.g. squeeze-and-excitation's channel scaling), Concatenate
 * (along a channel axis, e.g. the Inception branches), and Keras's Subtract (two inputs),
 * Average, Maximum and Minimum (broadcasting, as Multiply). No parameters; the gradients
 * are those of the elementwise ops.
 */
import { Layer, type LayerArgs, type LayerConfig, type Shape, fmtDims, isShapeList, type LayerClass } from './layer.js';
import { add, div, maximum, minimum, mul, sub } from '../ops/elementwise.js';
import { concat } from '../ops/shape.js';
import { broadcastShapes } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

type Dims = readonly (number | null)[];

abstract class Merge extends Layer {
  protected readonly minInputs: number = 2;

  protected checkInputs(shapes: readonly Dims[]): void {
    if (shapes.length < this.minInputs) {
      throw new RangeError(`${this.label}: expects a list of at least ${this.minInputs} inputs, received ${shapes.length}`);
    }
    this.checkShapes(shapes.map((s) => s.slice(1) as number[]), shapes);
  }
  checkInput(shape: Dims): void {
    throw new RangeError(`${this.label}: expects a list of inputs (e.g. layer.apply([a, b])), received one input of shape ${fmtDims(shape)}`);
  }
  protected abstract checkShapes(shapes: number[][], full: readonly Dims[]): void;

  protected list(s: Shape | Shape[]): Shape[] {
    if (!isShapeList(s)) throw new RangeError(`${this.label}: expects a list of input shapes`);
    return s;
  }
}

/** Elementwise sum of inputs of identical shape. */
export class Add extends Merge {
  static readonly className = 'Add';
  static readonly namePrefix = 'add';
  protected checkShapes(shapes: number[][], full: readonly Dims[]): void {
    shapes.forEach((s, i) => {
      if (s.length !== shapes[0].length || s.some((d, j) => d !== shapes[0][j])) {
        throw new RangeError(`${this.label}: inputs must have the same shape, but input 0 is ${fmtDims(full[0])} and input ${i} is ${fmtDims(full[i])}`);
      }
    });
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    return [...this.list(s)[0]];
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const xs = x as Tensor[];
    return xs.slice(1).reduce((acc, t) => add(acc, t), xs[0]);
  }
}

/** Elementwise product with broadcasting ([H, W, C] times [1, 1, C]). */
export class Multiply extends Merge {
  static readonly className = 'Multiply';
  static readonly namePrefix = 'multiply';
  protected checkShapes(shapes: number[][]): void {
    shapes.slice(1).reduce((acc, s) => broadcastShapes(acc, s, `${this.label}`), shapes[0]);
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    const l = this.list(s);
    return l.slice(1).reduce<number[]>((acc, t) => broadcastShapes(acc, t, this.label), [...l[0]]);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const xs = x as Tensor[];
    return xs.slice(1).reduce((acc, t) => mul(acc, t), xs[0]);
  }
}

export interface ConcatenateArgs extends LayerArgs {
  /** Axis of the full input shape (batch = 0, which is not allowed); default -1 (channels). */
  axis?: number;
}

/** Joins inputs along `axis`; every other axis must agree. */
export class Concatenate extends Merge {
  static readonly className = 'Concatenate';
  static readonly namePrefix = 'concatenate';
  static readonly argKeys = ['axis'];
  protected readonly minInputs = 1;
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis) || this.axis === 0) throw new RangeError(`${this.label}: axis must be a non-zero integer (0 is the batch axis), received ${JSON.stringify(args.axis)}`);
  }
  /** The axis as a position in an example's shape (no batch axis). */
  private exampleAxis(rank: number): number {
    const full = this.axis < 0 ? this.axis + rank + 1 : this.axis;
    if (full < 1 || full > rank) throw new RangeError(`${this.label}: axis ${this.axis} is out of range for inputs of rank ${rank + 1}`);
    return full - 1;
  }
  protected checkShapes(shapes: number[][], full: readonly Dims[]): void {
    const r = shapes[0].length;
    const a = this.exampleAxis(r);
    shapes.forEach((s, i) => {
      if (s.length !== r || s.some((d, j) => j !== a && d !== shapes[0][j])) {
        throw new RangeError(`${this.label}: inputs must agree on every axis but axis ${this.axis}, but input 0 is ${fmtDims(full[0])} and input ${i} is ${fmtDims(full[i])}`);
      }
    });
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    const l = this.list(s);
    const a = this.exampleAxis(l[0].length);
    const out = [...l[0]];
    out[a] = l.reduce((acc, t) => acc + t[a], 0);
    return out;
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    const xs = x as Tensor[];
    return concat(xs, this.exampleAxis(xs[0].rank - 1) + 1);
  }
  getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }
}

/** Inputs combined pairwise, left to right, with broadcasting (as Multiply). */
abstract class BroadcastMerge extends Merge {
  protected checkShapes(shapes: number[][]): void {
    shapes.slice(1).reduce((acc, s) => broadcastShapes(acc, s, `${this.label}`), shapes[0]);
  }
  computeOutputShape(s: Shape | Shape[]): number[] {
    const l = this.list(s);
    return l.slice(1).reduce<number[]>((acc, t) => broadcastShapes(acc, t, this.label), [...l[0]]);
  }
  protected abstract combine(a: Tensor, b: Tensor): Tensor;
  protected forward(x: Tensor | Tensor[]): Tensor {
    const xs = x as Tensor[];
    return xs.slice(1).reduce((acc, t) => this.combine(acc, t), xs[0]);
  }
}

/** inputs[0] - inputs[1] (Keras Subtract: exactly two inputs), with broadcasting. */
export class Subtract extends BroadcastMerge {
  static readonly className = 'Subtract';
  static readonly namePrefix = 'subtract';
  protected checkInputs(shapes: readonly Dims[]): void {
    if (shapes.length !== 2) throw new RangeError(`${this.label}: expects exactly 2 inputs [a, b] (it computes a - b), received ${shapes.length}`);
    super.checkInputs(shapes);
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return sub(a, b);
  }
}

/** The elementwise mean of the inputs, with broadcasting. */
export class Average extends BroadcastMerge {
  static readonly className = 'Average';
  static readonly namePrefix = 'average';
  protected combine(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
  protected forward(x: Tensor | Tensor[]): Tensor {
    return div(super.forward(x), (x as Tensor[]).length);
  }
}

/** The elementwise maximum of the inputs, with broadcasting (a tie sends the gradient as ck.maximum does). */
export class Maximum extends BroadcastMerge {
  static readonly className = 'Maximum';
  static readonly namePrefix = 'maximum';
  protected combine(a: Tensor, b: Tensor): Tensor {
    return maximum(a, b);
  }
}

/** The elementwise minimum of the inputs, with broadcasting (a tie sends the gradient as ck.minimum does). */
export class Minimum extends BroadcastMerge {
  static readonly className = 'Minimum';
  static readonly namePrefix = 'minimum';
  protected combine(a: Tensor, b: Tensor): Tensor {
    return minimum(a, b);
  }
}

/** This file's layer classes, by which deserializeLayer (builtin.ts) finds them from their class names. */
export const MERGE_LAYERS: readonly LayerClass[] = [Add, Multiply, Concatenate, Subtract, Average, Maximum, Minimum];
