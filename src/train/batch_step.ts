/**
 * One batch of training or evaluation: forward pass, loss (plus regularisation) and
 * tensor metrics, backward pass when training, then the values read back (synchronously
 * or asynchronously) into running sums. The optimiser step is the caller's.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { tidy } from '../registry/storage.js';
import { enableGrad, noGrad } from '../autograd/reverse_mode.js';
import { add } from '../ops/elementwise.js';
import { logitsOf } from '../ops/logits.js';
import type { Logs, TrainableModel } from './callbacks.js';
import type { Compiled } from './compile.js';
import type { Labels, StreamHostBatch, TrainingData } from './training_data.js';

/** What one batch step needs of its data set: the label shape and the upload of a host batch. */
export type BatchSource = Pick<TrainingData, 'toBatch' | 'labelShape'>;

/** Float32 one-hot rows for class-index labels, checking every label is in [0, k). */
function oneHotRows(labels: Int32Array, k: number): Float32Array {
  const out = new Float32Array(labels.length * k);
  labels.forEach((c, i) => {
    if (!(c >= 0 && c < k)) throw new RangeError(`fit: label ${c} at position ${i} of the batch is not a class index in [0, ${k}) for a model with ${k} outputs`);
    out[i * k + c] = 1;
  });
  return out;
}

export class Accumulator {
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();
  add(name: string, sum: number, count: number): void {
    this.sums.set(name, (this.sums.get(name) ?? 0) + sum);
    this.counts.set(name, (this.counts.get(name) ?? 0) + count);
  }
  result(prefix = ''): Logs {
    const out: Logs = {};
    for (const [k, s] of this.sums) out[prefix + k] = s / this.counts.get(k)!;
    return out;
  }
}

/** What one batch computed, still on the backend: the caller reads it, then disposes it. */
export interface BatchTensors {
  loss: Tensor;
  /** The model's output, when a host-side metric needs it. */
  pred: Tensor | null;
  /** Tensor metrics, in compile order (null for host-side ones). */
  metrics: (Tensor | number | null)[];
}

/**
 * Forward pass of one batch, its loss and tensor metrics, and with `train` the
 * backward pass (the optimiser step is the caller's). Nothing is read back here, so
 * the same code serves backends that read synchronously (ts, wasm) and those that
 * only read asynchronously (webgpu).
 */
export function runBatch(model: TrainableModel, c: Compiled, ds: BatchSource, xb: Float32Array, yb: Labels, size: number, train: boolean, warn: { noGrad: boolean }): BatchTensors {
  const { x, y } = ds.toBatch({ x: xb, y: yb, size });
  try {
    // Evaluation records no graph (fit's validation runs outside any noGrad scope).
    return (train ? enableGrad : noGrad)(() => tidy(() => {
      const out = model.apply(x, { training: train });
      if (out.shape[0] !== size) throw new RangeError(`fit: the model returned shape ${fmtShape(out.shape)} for a batch of ${size}`);
      if (c.expectsProbabilities && !c.warnedLogits && !logitsOf(out)) {
        c.warnedLogits = true;
        console.warn(
          `fit: loss '${c.lossName}' takes probabilities (the Keras convention), but the model's output does not come from a softmax or sigmoid. ` +
            `If the model outputs logits (as the zoo's classifiers do), compile with loss: { name: '${c.lossName}', fromLogits: true }.`,
        );
      }
      let loss =
        c.lossFromOneHot && yb instanceof Int32Array && out.rank === 2 && y.rank === 1
          ? c.lossFromOneHot(tensor(oneHotRows(yb.subarray(0, size), out.shape[1]), out.shape, out.dtype), out)
          : c.loss(y, out);
      if (loss.size !== 1) throw new RangeError(`fit: the loss must be a scalar, received shape ${fmtShape(loss.shape)}`);
      const reg = model.regularizationLoss?.();
      if (reg) loss = add(loss, reg);
      const metrics = c.metrics.map((m) => (m.tensor ? noGrad(() => m.tensor!(y, out)) : null));
      if (train) {
        if (loss.requiresGrad) loss.backward();
        else if (!warn.noGrad) {
          warn.noGrad = true;
          console.warn('fit: no trainable weight reaches the loss (are all layers frozen?); the weights are not updated');
        }
      }
      return { loss, pred: c.metrics.some((m) => m.host) ? out : null, metrics };
    }));
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Add a batch's values (read back) to `acc`; returns the batch loss. */
function accumulate(c: Compiled, ds: BatchSource, yb: Labels, size: number, acc: Accumulator, t: BatchTensors, loss: number, pred: ArrayLike<number> | null, metrics: (number | null)[]): number {
  acc.add('loss', loss * size, size);
  const yShape = [size, ...ds.labelShape];
  c.metrics.forEach((m, i) => {
    if (m.host) {
      const r = m.host({ data: pred!, shape: t.pred!.shape }, yb, yShape);
      acc.add(m.name, r.sum, r.count);
    } else acc.add(m.name, metrics[i]! * size, size);
  });
  return loss;
}

function disposeBatch(t: BatchTensors): void {
  t.loss.dispose();
  t.pred?.dispose();
  for (const m of t.metrics) if (m instanceof Tensor) m.dispose();
}

/** One batch with synchronous reads (`evaluate` on ts and wasm). Returns the batch loss. */
export function batchStep(model: TrainableModel, c: Compiled, ds: BatchSource, xb: Float32Array, yb: Labels, size: number, train: boolean, acc: Accumulator, warn: { noGrad: boolean }): number {
  const t = runBatch(model, c, ds, xb, yb, size, train, warn);
  try {
    const metrics = t.metrics.map((m) => (m === null ? null : typeof m === 'number' ? m : m.item()));
    return accumulate(c, ds, yb, size, acc, t, t.loss.item(), t.pred ? t.pred.dataSync() : null, metrics);
  } finally {
    disposeBatch(t);
  }
}

/** One batch with asynchronous reads: works on every backend, webgpu included. */
export async function batchStepAsync(model: TrainableModel, c: Compiled, ds: BatchSource, xb: Float32Array, yb: Labels, size: number, train: boolean, acc: Accumulator, warn: { noGrad: boolean }): Promise<number> {
  const t = runBatch(model, c, ds, xb, yb, size, train, warn);
  try {
    const [loss, pred, ...metrics] = await Promise.all([
      t.loss.data().then((v) => v[0]),
      t.pred ? t.pred.data() : Promise.resolve(null),
      ...t.metrics.map((m) => (m instanceof Tensor ? m.data().then((v) => v[0]) : Promise.resolve(m))),
    ]);
    return accumulate(c, ds, yb, size, acc, t, loss as number, pred as ArrayLike<number> | null, metrics as (number | null)[]);
  } finally {
    disposeBatch(t);
  }
}

/** Check one batch of a stream (fit's training or validation data) and upload it with its own shapes. */
export function streamBatchSource(b: StreamHostBatch, index: number): BatchSource {
  const where = `fit: stream batch ${index}`;
  if (!b || !(b.x instanceof Float32Array) || !Number.isInteger(b.size) || b.size < 1 || !Array.isArray(b.sampleShape) || !Array.isArray(b.labelShape)) {
    throw new TypeError(`${where} is not a batch { x: Float32Array, y, size, sampleShape, labelShape }: call .batch(n) on the stream (or build it with StreamDataset.batches)`);
  }
  if (b.x.length !== b.size * sizeOf(b.sampleShape)) throw new RangeError(`${where}: x has ${b.x.length} values for ${b.size} samples of shape ${fmtShape(b.sampleShape)}`);
  if (b.y.length !== b.size * sizeOf(b.labelShape)) throw new RangeError(`${where}: y has ${b.y.length} values for ${b.size} labels of shape ${fmtShape(b.labelShape)}`);
  return {
    labelShape: b.labelShape,
    toBatch: (h) => ({
      x: tensor(h.x, [h.size, ...b.sampleShape], 'float32'),
      y: tensor(h.y, [h.size, ...b.labelShape], h.y instanceof Int32Array ? 'int32' : 'float32'),
      size: h.size,
    }),
  };
}
