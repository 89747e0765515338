/**
 * Symbolic tensors (the functional API). A symbolic tensor has a shape (without the
 * batch axis) and a dtype but no values; applying a layer to one records a node
 * (Layer.apply). graph.ts orders those nodes into a `Graph`.
 */
import type { DType } from '../tensor/dtype.js';
import type { Layer } from './layer.js';

/** One application of a layer to symbolic inputs. */
export interface LayerNode {
  layer: Layer;
  inputs: SymbolicTensor[];
  /** True when the layer was applied to an array (merge layers), even of length 1. */
  arrayInput: boolean;
}

let nextSymbolicId = 0;
const inputCounter = { n: 0 };

export class SymbolicTensor {
  readonly id = nextSymbolicId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The node that produced it; null for a graph input. */
  readonly node: LayerNode | null;
  readonly name: string;

  constructor(shape: readonly number[], dtype: DType, node: LayerNode | null = null, name?: string) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new RangeError(`input: every dimension must be a positive integer, received [${shape.join(', ')}]`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.node = node;
    this.name = name ?? (node ? node.layer.name : `input_${++inputCounter.n}`);
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `SymbolicTensor('${this.name}', [N, ${this.shape.join(', ')}], ${this.dtype})`;
  }
}

/**
 * A graph input: the shape of ONE example (no batch axis), e.g. `input([28, 28, 1])`.
 * dtype is float32 unless given; every layer downstream creates its weights in it.
 */
export function input(shape: readonly number[], opts: { name?: string; dtype?: DType } = {}): SymbolicTensor {
  if (!Array.isArray(shape)) throw new TypeError(`input: shape must be an array such as [28, 28, 1], received ${JSON.stringify(shape)}`);
  return new SymbolicTensor(shape, opts.dtype ?? 'float32', null, opts.name);
}
