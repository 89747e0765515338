/**
 * Layers made of other layers: a `Graph` of child layers with their weights, trainable
 * flags, regularisation and MACs gathered. Blocks (residual, inception, SE) build their
 * graph lazily when they first see an input shape; models (src/models) build it up
 * front. A container's `weights` are named relative to it (`conv1/kernel`); seen from an
 * enclosing container they gain its name (`layer1.0/conv1/kernel`).
 */
import { add } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CallOpts, Layer, type LayerArgs, PrefixedWeight, type Shape, type Weight, isShapeList } from './layer.js';
import { Graph } from './graph.js';
import { SymbolicTensor } from './symbolic.js';

export abstract class Container extends Layer {
  protected graph: Graph | null = null;

  /** The child layers, in order of first use. */
  get layers(): Layer[] {
    return this.graph ? this.graph.layers : [];
  }

  get trainable(): boolean {
    return this._trainable;
  }
  /** Setting it sets every child (Keras semantics): freezing a block freezes all of it. */
  set trainable(on: boolean) {
    this._trainable = on;
    for (const l of this.layers) l.trainable = on;
  }

  get weights(): Weight[] {
    return this.layers.flatMap((l) => l.namedWeights());
  }
  namedWeights(): Weight[] {
    return this.weights.map((w) => new PrefixedWeight(this.name, w));
  }

  /** A child by name; 'block/conv1' looks inside a nested container. */
  getLayer(name: string): Layer {
    const [head, ...rest] = name.split('/');
    const l = this.layers.find((c) => c.name === head);
    if (!l) throw new RangeError(`${this.label}: no layer named '${head}' (layers: ${this.layers.map((c) => c.name).join(', ')})`);
    if (!rest.length) return l;
    if (!(l instanceof Container)) throw new RangeError(`${this.label}: layer '${head}' has no sub-layers (looking for '${name}')`);
    return l.getLayer(rest.join('/'));
  }

  protected requireGraph(): Graph {
    if (!this.graph) throw new Error(`${this.label}: not built yet (apply it to an input first)`);
    return this.graph;
  }

  computeOutputShape(inputShape: Shape | Shape[]): number[] {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape as Shape];
    if (!this.built) this.build(inputShape);
    const out = this.requireGraph().analyse(shapes).outputShapes;
    return out[0];
  }

  macs(inputShape: Shape | Shape[]): number {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape as Shape];
    if (!this.built) this.build(inputShape);
    return this.requireGraph().analyse(shapes).macs;
  }

  /** Forget the activity penalties of the previous call, in this container and every nested one. */
  resetActivityLosses(): void {
    this.activityLoss = null;
    for (const l of this.layers) {
      if (l instanceof Container) l.resetActivityLosses();
      else l.activityLoss = null;
    }
  }

  protected runGraph(x: Tensor | Tensor[], opts: CallOpts): Tensor[] {
    return this.requireGraph().run(Array.isArray(x) ? x : [x], opts);
  }

  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const l of this.layers) {
      const p = l.regularizationLoss();
      if (p) total = total ? add(total, p) : p;
    }
    if (this.activityLoss && !this.activityLoss.isDisposed) total = total ? add(total, this.activityLoss) : this.activityLoss;
    return total;
  }

  dispose(): void {
    this.graph?.releaseFusion();
    for (const l of this.layers) l.dispose();
  }
}

/**
 * A block: a container whose graph `define` builds on the first input shape it sees.
 * Its config is its own options (the children follow from them), so saving a model
 * stores `{ className: 'ResidualBlock', config: { filters: 64, ... } }` and the weights
 * under `block/child/weight` names.
 */
export abstract class CompositeLayer extends Container {
  private childSeedCounter = 0;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  /** Build the block's graph from its input `x` (create children with `child`). */
  protected abstract define(x: SymbolicTensor): SymbolicTensor;

  /** A seed for the next child, derived from the block's seed. */
  protected childSeed(): number {
    return (this.seed + 1013 * ++this.childSeedCounter) | 0;
  }

  protected createWeights(inputShape: number[] | number[][]): void {
    if (isShapeList(inputShape)) throw new RangeError('expects one input');
    this.childSeedCounter = 0;
    const x = new SymbolicTensor(inputShape as number[], this.dtype ?? 'float32', null, `${this.name}_input`);
    const y = this.define(x);
    this.graph = new Graph([x], [y], this.label);
    if (!this._trainable) for (const l of this.graph.layers) l.trainable = false;
  }

  protected forward(x: Tensor | Tensor[], opts: CallOpts): Tensor {
    return this.runGraph(x, opts)[0];
  }
}
