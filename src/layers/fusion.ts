/**
 * Inference fusion: when a layer graph runs for inference (training false, no gradient
 * recorded: `predict`), each chain
 *
 *   Conv2D or DepthwiseConv2D (linear activation)  ->  [BatchNormalization]  ->  [relu | relu6 | leaky relu | hard sigmoid | hard swish]
 *
 * whose intermediate outputs nothing else reads runs as one FusedConv2D kernel (conv2d's
 * `activation` option), with the batch norm folded into the filter and the bias as
 * ONNX Runtime and PyTorch's exporter do:
 *
 *   s = gamma / sqrt(movingVariance + epsilon),  w' = w * s (per output channel),  b' = (b - movingMean) * s + beta
 *
 * so one pass over the output replaces three (conv, batch norm, activation). The folded
 * weights are computed once and reused while the layers' weights keep the same storages
 * (every update, from an optimiser, setWeights or loading, goes through `assign`, which
 * gives a weight a new storage); the graph frees them when its model is disposed.
 * Results equal the unfused graph's up to float32 rounding of the folded weights (about
 * 1e-7 relative). A channel Concatenate whose inputs are all such convolutions, read by
 * nothing else, runs as one conv2dConcat (FusedConv2DConcat): each convolution writes into
 * its slice of the result, so the concatenation copies nothing (SqueezeNet, GoogLeNet).
 * Training, and any call that records gradients, runs the layers as they are.
 */
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { conv2d, conv2dConcat, depthwiseConv2d, type Conv2DOptions } from '../ops/conv.js';
import { reshape } from '../ops/shape.js';
import { keep, tidy } from '../registry/storage.js';
import type { DataId } from '../tensor/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import type { FusedActivation } from '../kernels/conv.js';
import { fusedActivation } from './activations.js';
import { Conv2D, DepthwiseConv2D } from './conv.js';
import { Activation, LeakyReLU, ReLU } from './core.js';
import type { Layer } from './layer.js';
import { Concatenate } from './merge.js';
import { BatchNormalization } from './normalization.js';
import type { LayerNode, SymbolicTensor } from './symbolic.js';

/** A convolution with what follows it, run as one kernel. */
interface Chain {
  conv: Conv2D | DepthwiseConv2D;
  bn: BatchNormalization | null;
  activation: FusedActivation;
  leakyReluAlpha: number;
  /** The symbolic tensor the chain's last layer produces. */
  output: SymbolicTensor;
}

/** A convolution chain that writes into a concatenation, with the node of its convolution. */
interface ConcatBranch {
  node: LayerNode;
  chain: Chain;
}
type ConcatGroup = readonly ConcatBranch[];

interface Folded {
  /** The storages of the source weights the fold was made from. */
  sources: (DataId | null)[];
  w: Tensor;
  b: Tensor;
}

/** The activation a layer applies, as FusedConv2D takes it, or null when it is not one of those. */
function activationOf(layer: Layer): { activation: FusedActivation; alpha: number } | null {
  if (layer instanceof Activation) {
    const a = fusedActivation(layer.activation);
    return a && a !== 'linear' ? { activation: a, alpha: 0.01 } : null;
  }
  if (layer instanceof ReLU) {
    if (layer.maxValue === undefined) return { activation: 'relu', alpha: 0 };
    return layer.maxValue === 6 ? { activation: 'relu6', alpha: 0 } : null;
  }
  if (layer instanceof LeakyReLU) return layer.alpha >= 0 && Number.isFinite(layer.alpha) ? { activation: 'leakyRelu', alpha: layer.alpha } : null;
  return null;
}

/** Whether each tensor still has the storage recorded (null: no tensor), compared in place (no mapped copy). */
function sameStorages(recorded: readonly (DataId | null)[], now: readonly (Tensor | null | undefined)[]): boolean {
  for (let i = 0; i < recorded.length; i++) if (recorded[i] !== (now[i] ? now[i]!.dataId : null)) return false;
  return true;
}

/** A node of a layer graph, with the symbolic tensor it produces. */
type GraphNode = { node: LayerNode; output: SymbolicTensor };

/** For a graph: the nodes that read each symbolic tensor, once per read (null: it is a graph output). */
function readersOf(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]): Map<SymbolicTensor, (LayerNode | null)[]> {
  const readers = new Map<SymbolicTensor, (LayerNode | null)[]>();
  for (const { node } of nodes) for (const s of node.inputs) readers.set(s, [...(readers.get(s) ?? []), node]);
  for (const o of outputs) readers.set(o, [...(readers.get(o) ?? []), null]);
  return readers;
}

/**
 * For a graph: the function giving the one node that reads a symbolic tensor, when exactly
 * one node reads it (with one input) and it is not one of the graph's outputs, else null.
 */
function soleReaders(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]): (s: SymbolicTensor) => LayerNode | null {
  const readers = readersOf(nodes, outputs);
  return (s) => {
    const r = readers.get(s);
    return r && r.length === 1 && r[0] !== null && !r[0].arrayInput ? r[0] : null;
  };
}

export class InferenceFusion {
  /** Chain by the node of its convolution. */
  private readonly chains = new Map<LayerNode, Chain>();
  /** The nodes after a chain's convolution, which the chain computes. */
  private readonly inside = new Set<LayerNode>();
  private readonly folded = new Map<Chain, Folded>();
  /** Concatenations computed with their convolutions, by the Concatenate's node. */
  private readonly concats = new Map<LayerNode, ConcatGroup>();

  constructor(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]) {
    const soleReader = soleReaders(nodes, outputs);
    const producer = new Map<LayerNode, SymbolicTensor>(nodes.map(({ node, output }) => [node, output]));
    for (const { node, output } of nodes) {
      const conv = node.layer;
      if (!(conv instanceof Conv2D || conv instanceof DepthwiseConv2D) || conv.activation !== 'linear' || node.arrayInput) continue;
      let out = output;
      const members: LayerNode[] = [];
      let bn: BatchNormalization | null = null;
      let next = soleReader(out);
      if (next && next.layer instanceof BatchNormalization) {
        bn = next.layer;
        members.push(next);
        out = producer.get(next)!;
        next = soleReader(out);
      }
      const act = next ? activationOf(next.layer) : null;
      if (act && next) {
        members.push(next);
        out = producer.get(next)!;
      }
      if (!members.length) continue;
      this.chains.set(node, { conv, bn, activation: act?.activation ?? 'linear', leakyReluAlpha: act?.alpha ?? 0, output: out });
      for (const m of members) this.inside.add(m);
    }
    this.findConcats(nodes, outputs);
  }

  /**
   * Each Concatenate along the channels (last axis, rank 4) whose every input is a Conv2D
   * chain's output (or a Conv2D layer's own output, with an activation the kernel applies)
   * that nothing else reads runs as one conv2dConcat: the convolutions are skipped where
   * they stand and computed at the concatenation, each writing into its slice of the result.
   */
  private findConcats(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]): void {
    const readers = readersOf(nodes, outputs);
    const branchOf = new Map<SymbolicTensor, ConcatBranch>();
    for (const { node, output } of nodes) {
      const chain = this.chains.get(node);
      if (chain) branchOf.set(chain.output, { node, chain });
      else if (node.layer instanceof Conv2D && !node.arrayInput && !this.inside.has(node)) {
        const activation = fusedActivation(node.layer.activation);
        if (activation) branchOf.set(output, { node, chain: { conv: node.layer, bn: null, activation, leakyReluAlpha: 0.01, output } });
      }
    }
    for (const { node, output } of nodes) {
      const cat = node.layer;
      if (!(cat instanceof Concatenate) || output.shape.length !== 3 || (cat.axis !== -1 && cat.axis !== 3)) continue;
      const group = node.inputs.map((s) => branchOf.get(s));
      const ok = group.every((b, i) => b && b.chain.conv instanceof Conv2D && readers.get(node.inputs[i])?.length === 1);
      if (!ok || new Set(node.inputs).size !== node.inputs.length) continue;
      this.concats.set(node, group as ConcatGroup);
      for (const b of group as ConcatGroup) {
        this.chains.delete(b.node);
        this.inside.add(b.node);
      }
    }
  }

  /** Whether `node` is computed by a chain that starts earlier or by a concatenation after it (the graph skips it). */
  skips(node: LayerNode): boolean {
    return this.inside.has(node);
  }

  /** The chain that starts at `node`, if any. */
  chainAt(node: LayerNode): Chain | undefined {
    return this.chains.get(node);
  }

  /** Run a chain on its convolution's input. */
  run(chain: Chain, x: Tensor): Tensor {
    const { w, opts } = this.convArgs(chain);
    return chain.conv instanceof DepthwiseConv2D ? depthwiseConv2d(x, w, opts) : conv2d(x, w, opts);
  }

  /** The concatenation whose node is `node`, computed with its convolutions, if it is one. */
  concatAt(node: LayerNode): ConcatGroup | undefined {
    return this.concats.get(node);
  }

  /** Run a concatenation of convolutions, each on its input (read from `values`). */
  runConcat(group: ConcatGroup, values: ReadonlyMap<SymbolicTensor, Tensor>): Tensor {
    return conv2dConcat(group.map(({ node, chain }) => {
      const { w, opts } = this.convArgs(chain);
      return { x: values.get(node.inputs[0])!, w, options: opts };
    }));
  }

  /** The filter and conv2d / depthwiseConv2d options a chain runs with. */
  private convArgs(chain: Chain): { w: Tensor; opts: Conv2DOptions } {
    const { w, b } = this.weights(chain);
    const c = chain.conv;
    // one plain object per call, no spreads (this runs once per convolution of every inference call)
    const opts: Conv2DOptions = { strides: c.strides, padding: c.padding, dilations: c.dilationRate, activation: chain.activation, leakyReluAlpha: chain.leakyReluAlpha };
    if (b) opts.bias = b;
    if (!(c instanceof DepthwiseConv2D)) opts.groups = c.groups;
    return { w, opts };
  }

  /** The chain's filter and bias: the convolution's own without a batch norm, else the folded ones (cached). */
  private weights(chain: Chain): { w: Tensor; b: Tensor | null } {
    const ws = chain.conv.weights;
    const kernel = ws[0].value;
    const bias = chain.conv.useBias ? ws[1].value : null;
    const bn = chain.bn;
    if (!bn) return { w: kernel, b: bias };
    const stats = bn.inferenceStatistics();
    const sources = [kernel, bias, stats.gamma, stats.beta, stats.mean, stats.variance];
    const hit = this.folded.get(chain);
    if (hit && !hit.w.isDisposed && !hit.b.isDisposed && sameStorages(hit.sources, sources)) return hit;
    if (hit) this.release(chain);
    const made = tidy(() => {
      let s = div(1, sqrt(add(stats.variance, bn.epsilon)));
      if (stats.gamma) s = mul(stats.gamma, s);
      // the filter's last axis is the output channel (depthwise: [KH, KW, C, M], channel c*M + m)
      const sw = chain.conv instanceof DepthwiseConv2D ? reshape(s, kernel.shape.slice(2)) : s;
      let b = mul(bias ? sub(bias, stats.mean) : mul(stats.mean, -1), s);
      if (stats.beta) b = add(b, stats.beta);
      return { w: keep(mul(kernel, sw)), b: keep(b) };
    });
    const f: Folded = { sources: sources.map((t) => (t ? t.dataId : null)), ...made };
    this.folded.set(chain, f);
    return f;
  }

  private release(chain: Chain): void {
    const f = this.folded.get(chain);
    if (!f) return;
    f.w.dispose();
    f.b.dispose();
    this.folded.delete(chain);
  }

  /** Free every folded weight (they are made again on the next inference call). */
  dispose(): void {
    for (const chain of [...this.folded.keys()]) this.release(chain);
  }
}

/**
 * Training fusion: when a layer graph runs in training mode, each BatchNormalization whose
 * output only a ReLU reads (a ReLU layer without maxValue, or Activation('relu'), neither
 * with an activity regularizer, the batch norm's output not a graph output) runs as one
 * batchNorm op with `activation: 'relu'`: one pass over the tensor instead of two forward,
 * and the ReLU's gradient folded into the batch norm's. The values and gradients are the
 * unfused ones, bit for bit (relu(y) > 0 exactly where y > 0, which is ReluGrad's mask).
 * Measured: bench/README.md, "Batch norm: sums over blocks of rows, and the ReLU after it
 * fused in training".
 */
export class TrainingFusion {
  /** The ReLU node after each fused batch norm's node. */
  private readonly relus = new Map<LayerNode, GraphNode>();
  private readonly inside = new Set<LayerNode>();

  constructor(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]) {
    const soleReader = soleReaders(nodes, outputs);
    const byNode = new Map<LayerNode, GraphNode>(nodes.map((n) => [n.node, n]));
    for (const { node, output } of nodes) {
      const bn = node.layer;
      if (!(bn instanceof BatchNormalization) || bn.activityRegularizer || node.arrayInput) continue;
      const next = soleReader(output);
      if (!next || next.layer.activityRegularizer || activationOf(next.layer)?.activation !== 'relu') continue;
      this.relus.set(node, byNode.get(next)!);
      this.inside.add(next);
    }
  }

  /** Whether `node` is a ReLU computed by the batch norm before it (the graph skips it). */
  skips(node: LayerNode): boolean {
    return this.inside.has(node);
  }

  /** The ReLU node that the batch norm at `node` computes with it, if any. */
  reluAfter(node: LayerNode): GraphNode | undefined {
    return this.relus.get(node);
  }
}
