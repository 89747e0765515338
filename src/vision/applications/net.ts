/**
 * The small networks the applications train: a plain stack of convolutions (3x3 'same',
 * bias, ReLU, optional 2x2 max pool) and dense layers, built from ops with He-initialised
 * parameters and trained by a custom loop with Adam. Kept to ops (not layers/models) because
 * vision sits below those floors; any model can still be used where a function takes an
 * encoder or extractor.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { keep, tidy } from '../../registry/storage.js';
import { noGrad } from '../../autograd/reverse_mode.js';
import { randomNormal, tensor, zeros } from '../../ops/creation.js';
import { conv2d } from '../../ops/conv.js';
import { maxPool2d } from '../../ops/pool.js';
import { relu } from '../../ops/activation.js';
import { add } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { reshape } from '../../ops/shape.js';
import { Adam } from '../../optim/optimizer.js';
import { Rng } from '../../ops/random.js';
import { fmtShape } from '../../tensor/shape.js';

export type NetLayer =
  | { conv: number; kernel?: number; padding?: 'same' | 'valid'; pool?: boolean; relu?: boolean }
  | { dense: number; relu?: boolean };

/** A feed-forward network of conv and dense layers; a dense layer flattens its input first. */
export class SmallNet {
  readonly params: Tensor[] = [];
  readonly outputShape: number[];
  constructor(readonly inputShape: readonly [number, number, number], readonly layers: readonly NetLayer[], seed = 0) {
    let shape: number[] = [...inputShape];
    layers.forEach((l, i) => {
      const s = seed * 1000 + i;
      if ('conv' in l) {
        const k = l.kernel ?? 3, cin = shape[shape.length - 1];
        if (shape.length !== 3) throw new RangeError(`SmallNet: layer ${i} is a convolution after a dense layer`);
        this.params.push(keep(randomNormal([k, k, cin, l.conv], { seed: s, std: Math.sqrt(2 / (k * k * cin)) })), keep(zeros([l.conv])));
        let [h, w] = shape;
        if (l.padding === 'valid') [h, w] = [h - k + 1, w - k + 1];
        if (l.pool) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
        shape = [h, w, l.conv];
      } else {
        const fanIn = shape.reduce((a, b) => a * b, 1);
        this.params.push(keep(randomNormal([fanIn, l.dense], { seed: s, std: Math.sqrt(2 / fanIn) })), keep(zeros([l.dense])));
        shape = [l.dense];
      }
    });
    for (const p of this.params) p.requireGrad();
    this.outputShape = shape;
  }

  /**
   * Forward pass on [N, ...inputShape]; records gradients when the parameters require them.
   * `anySize` accepts other heights and widths (a fully convolutional net slides over them).
   */
  forward(x: Tensor, opts: { anySize?: boolean } = {}): Tensor {
    const want = this.inputShape;
    if (x.rank !== 4 || x.shape[3] !== want[2] || (!opts.anySize && (x.shape[1] !== want[0] || x.shape[2] !== want[1]))) {
      throw new RangeError(`images must have shape [N, ${want.join(', ')}] for this model, received ${fmtShape(x.shape)}`);
    }
    let h = x;
    this.layers.forEach((l, i) => {
      const w = this.params[2 * i], b = this.params[2 * i + 1];
      if ('conv' in l) {
        h = add(conv2d(h, w, { padding: l.padding ?? 'same' }), b);
        if (l.relu !== false) h = relu(h);
        if (l.pool) h = maxPool2d(h, { size: 2 });
      } else {
        h = add(matmul(reshape(h, [h.shape[0], w.shape[0]]), w), b);
        if (l.relu !== false) h = relu(h);
      }
    });
    return h;
  }

  /** Forward pass without a graph, in batches, returning the host values. */
  predictHost(x: Tensor, batchSize = 128): Float32Array {
    const n = x.shape[0];
    const per = this.outputShape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n * per);
    for (let i = 0; i < n; i += batchSize) {
      const m = Math.min(batchSize, n - i);
      noGrad(() => tidy(() => {
        const xb = i === 0 && m === n ? x : sliceRows(x, i, m);
        out.set(this.forward(xb).dataSync(), i * per);
      }));
    }
    return out;
  }

  dispose(): void {
    for (const p of this.params) p.dispose();
  }
}

/** Rows [start, start + count) of a batch tensor (a view through reshape of a host copy). */
export function sliceRows(x: Tensor, start: number, count: number): Tensor {
  const per = x.size / x.shape[0];
  const v = x.dataSync() as Float32Array;
  return tensor(v.slice(start * per, (start + count) * per), [count, ...x.shape.slice(1)]);
}

/** Rows at `idx` of a host array of samples of `per` values each, as a tensor [idx.length, ...sampleShape]. */
export function gatherRows(src: Float32Array, idx: ArrayLike<number>, sampleShape: readonly number[]): Tensor {
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(idx.length * per);
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
  return tensor(out, [idx.length, ...sampleShape]);
}

export interface LoopOptions {
  epochs: number;
  batchSize: number;
  learningRate?: number;
  seed?: number;
  /** Stop starting new epochs after this many seconds (the epoch in progress finishes). */
  timeLimitSeconds?: number;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

/**
 * Mini-batch training with Adam over `n` samples shuffled each epoch; `loss(idx)` builds a
 * batch from the sample indices and returns the scalar loss. Returns the mean loss of each
 * epoch and the seconds taken.
 */
export function trainLoop(params: Tensor[], n: number, loss: (idx: number[]) => Tensor, o: LoopOptions): { losses: number[]; seconds: number; epochs: number; images: number } {
  const opt = new Adam({ lr: o.learningRate ?? 2e-3 });
  const rng = new Rng(o.seed ?? 0);
  const order = Array.from({ length: n }, (_, i) => i);
  const losses: number[] = [];
  const t0 = performance.now();
  let images = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    if (o.timeLimitSeconds !== undefined && (performance.now() - t0) / 1000 > o.timeLimitSeconds) break;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let total = 0, batches = 0;
    for (let s = 0; s + o.batchSize <= n || (s === 0 && n > 0); s += o.batchSize) {
      const idx = order.slice(s, s + o.batchSize);
      total += tidy(() => {
        const l = loss(idx);
        l.backward();
        opt.step(params);
        for (const p of params) p.zeroGrad();
        return l.item();
      });
      batches++;
      images += idx.length;
    }
    losses.push(total / batches);
    o.onEpoch?.(epoch, total / batches, (performance.now() - t0) / 1000);
  }
  return { losses, seconds: (performance.now() - t0) / 1000, epochs: losses.length, images };
}
