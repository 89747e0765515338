/**
 * A layer graph: the nodes recorded between some symbolic inputs and outputs, in an order
 * where inputs come first. It runs them on real tensors, and infers shapes and
 * multiply-accumulates without running any op. Models (src/models) and blocks
 * (CompositeLayer, container.ts) are both built on it, which is why it lives in layers/.
 */
import type { Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from '../autograd/reverse_mode.js';
import type { CallOpts, Layer } from './layer.js';
import { SymbolicTensor, type LayerNode } from './symbolic.js';
import { InferenceFusion, TrainingFusion } from './fusion.js';
import type { FusedCallOpts } from './normalization.js';

/** Shapes and MACs along a graph, computed from shapes alone. */
export interface GraphAnalysis {
  /** Output shape of every node, in node order. */
  nodeShapes: number[][];
  /** Input shape(s) of every node, in node order. */
  nodeInputShapes: (number[] | number[][])[];
  nodeMacs: number[];
  outputShapes: number[][];
  macs: number;
}

export class Graph {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Every symbolic tensor made by a node, in an order where inputs come first. */
  readonly nodes: { node: LayerNode; output: SymbolicTensor }[];
  /** Distinct layers in order of first use. */
  readonly layers: Layer[];

  constructor(inputs: SymbolicTensor[], outputs: SymbolicTensor[], owner = 'model') {
    if (!inputs.length) throw new RangeError(`${owner}: needs at least one input`);
    if (!outputs.length) throw new RangeError(`${owner}: needs at least one output`);
    for (const t of [...inputs, ...outputs]) {
      if (!(t instanceof SymbolicTensor)) throw new TypeError(`${owner}: inputs and outputs must be symbolic tensors (from input() and layer.apply())`);
    }
    for (const t of inputs) if (t.node) throw new RangeError(`${owner}: input '${t.name}' is a layer output, not a graph input made by input()`);
    this.inputs = [...inputs];
    this.outputs = [...outputs];
    const inputSet = new Set(inputs);
    const order: SymbolicTensor[] = [];
    const done = new Set<SymbolicTensor>();
    // Iterative post-order DFS from the outputs.
    for (const out of outputs) {
      const stack: [SymbolicTensor, number][] = [[out, 0]];
      const onStack = new Set<SymbolicTensor>([out]);
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [t, i] = top;
        if (done.has(t)) {
          stack.pop();
          onStack.delete(t);
          continue;
        }
        if (!t.node) {
          if (!inputSet.has(t)) throw new RangeError(`${owner}: the outputs depend on input '${t.name}', which is not among the model's inputs`);
          done.add(t);
          stack.pop();
          onStack.delete(t);
          continue;
        }
        if (i < t.node.inputs.length) {
          top[1]++;
          const child = t.node.inputs[i];
          if (!done.has(child) && !onStack.has(child)) {
            stack.push([child, 0]);
            onStack.add(child);
          }
        } else {
          done.add(t);
          order.push(t);
          stack.pop();
          onStack.delete(t);
        }
      }
    }
    this.nodes = order.map((t) => ({ node: t.node!, output: t }));
    const layers: Layer[] = [];
    const seen = new Set<Layer>();
    for (const { node } of this.nodes) {
      if (!seen.has(node.layer)) {
        seen.add(node.layer);
        layers.push(node.layer);
      }
    }
    const names = new Map<string, Layer>();
    for (const l of layers) {
      const other = names.get(l.name);
      if (other && other !== l) throw new RangeError(`${owner}: two different layers are named '${l.name}'; layer names must be unique within a model`);
      names.set(l.name, l);
    }
    this.layers = layers;
  }

  /**
   * Run the graph on real tensors (batch axis first), in node order. For inference
   * (training false, no gradient recorded) each convolution runs fused with the batch
   * norm and activation after it; in training, each batch norm with the ReLU after it
   * (fusion.ts).
   */
  run(xs: Tensor[], opts: CallOpts = {}): Tensor[] {
    if (xs.length !== this.inputs.length) throw new RangeError(`graph: expected ${this.inputs.length} inputs, received ${xs.length}`);
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((s, i) => values.set(s, xs[i]));
    const fusion = !opts.training && !isGradEnabled() ? (this.fusion ??= new InferenceFusion(this.nodes, this.outputs)) : null;
    const trainFusion = opts.training ? (this.trainingFusion ??= new TrainingFusion(this.nodes, this.outputs)) : null;
    for (const { node, output } of this.nodes) {
      if (trainFusion) {
        if (trainFusion.skips(node)) continue;
        const relu = trainFusion.reluAfter(node);
        if (relu) {
          const fused: FusedCallOpts = { ...opts, activation: 'relu' };
          values.set(relu.output, node.layer.call(values.get(node.inputs[0])!, fused));
          continue;
        }
      }
      if (fusion) {
        if (fusion.skips(node)) continue;
        const chain = fusion.chainAt(node);
        if (chain) {
          const x = values.get(node.inputs[0])!;
          values.set(chain.output, fusion.run(chain, x));
          continue;
        }
        const cat = fusion.concatAt(node);
        if (cat) {
          values.set(output, fusion.runConcat(cat, values));
          continue;
        }
      }
      const ins = node.inputs.map((s) => values.get(s)!);
      values.set(output, node.layer.call(node.arrayInput ? ins : ins[0], opts));
    }
    return this.outputs.map((s) => values.get(s)!);
  }

  private fusion: InferenceFusion | null = null;
  private trainingFusion: TrainingFusion | null = null;

  /** Free the weights inference fusion folded (the model is being disposed, or replaced its graph). */
  releaseFusion(): void {
    this.fusion?.dispose();
  }

  /** Shapes and MACs for inputs of the given shapes (no batch axis), without running ops. */
  analyse(inputShapes: readonly (readonly number[])[] = this.inputs.map((s) => s.shape)): GraphAnalysis {
    const shapes = new Map<SymbolicTensor, number[]>();
    this.inputs.forEach((s, i) => shapes.set(s, [...inputShapes[i]]));
    const nodeShapes: number[][] = [];
    const nodeInputShapes: (number[] | number[][])[] = [];
    const nodeMacs: number[] = [];
    let macs = 0;
    for (const { node, output } of this.nodes) {
      const ins = node.inputs.map((s) => shapes.get(s)!);
      const inShape = node.arrayInput ? ins : ins[0];
      let out: number[], m: number;
      try {
        out = node.layer.computeOutputShape(inShape);
        m = node.layer.macs(inShape);
      } catch (e) {
        if (e instanceof Error && !/^[^\s:]+ \([A-Za-z0-9_]+\): /.test(e.message)) e.message = `${node.layer.label}: ${e.message}`;
        throw e;
      }
      shapes.set(output, out);
      nodeShapes.push(out);
      nodeInputShapes.push(inShape);
      nodeMacs.push(m);
      macs += m;
    }
    return { nodeShapes, nodeInputShapes, nodeMacs, outputShapes: this.outputs.map((s) => shapes.get(s)!), macs };
  }
}
