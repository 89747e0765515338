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
 * 1e-7 relative). Training, and any call that records gradients, runs the layers as they are.
 */
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { conv2d, depthwiseConv2d, type Conv2DOptions } from '../ops/conv.js';
import { reshape } from '../ops/shape.js';
import { keep, tidy } from '../registry/storage.js';
import type { DataId } from '../tensor/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import type { FusedActivation } from '../kernels/conv.js';
import { fusedActivation } from './activations.js';
import { Conv2D, DepthwiseConv2D } from './conv.js';
import { Activation, LeakyReLU, ReLU } from './core.js';
import type { Layer } from './layer.js';
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

export class InferenceFusion {
  /** Chain by the node of its convolution. */
  private readonly chains = new Map<LayerNode, Chain>();
  /** The nodes after a chain's convolution, which the chain computes. */
  private readonly inside = new Set<LayerNode>();
  private readonly folded = new Map<Chain, Folded>();

  constructor(nodes: readonly { node: LayerNode; output: SymbolicTensor }[], outputs: readonly SymbolicTensor[]) {
    const readers = new Map<SymbolicTensor, LayerNode[]>();
    for (const { node } of nodes) for (const s of node.inputs) readers.set(s, [...(readers.get(s) ?? []), node]);
    for (const o of outputs) readers.set(o, [...(readers.get(o) ?? []), null as unknown as LayerNode]);
    const producer = new Map<LayerNode, SymbolicTensor>(nodes.map(({ node, output }) => [node, output]));
    /** The one node that reads `s`, when exactly one does and `s` is not a graph output. */
    const soleReader = (s: SymbolicTensor): LayerNode | null => {
      const r = readers.get(s);
      return r && r.length === 1 && r[0] !== null && !r[0].arrayInput ? r[0] : null;
    };
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
  }

  /** Whether `node` is computed by a chain that starts earlier (the graph skips it). */
  skips(node: LayerNode): boolean {
    return this.inside.has(node);
  }

  /** The chain that starts at `node`, if any. */
  chainAt(node: LayerNode): Chain | undefined {
    return this.chains.get(node);
  }

  /** Run a chain on its convolution's input. */
  run(chain: Chain, x: Tensor): Tensor {
    const { w, b } = this.weights(chain);
    const c = chain.conv;
    // one plain object per call, no spreads (this runs once per convolution of every inference call)
    const opts: Conv2DOptions = { strides: c.strides, padding: c.padding, dilations: c.dilationRate, activation: chain.activation, leakyReluAlpha: chain.leakyReluAlpha };
    if (b) opts.bias = b;
    if (c instanceof DepthwiseConv2D) return depthwiseConv2d(x, w, opts);
    opts.groups = c.groups;
    return conv2d(x, w, opts);
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
