/**
 * The training loop behind Model.compile / fit / evaluate (Keras's semantics):
 * mini-batches from a host Dataset, optional on-the-fly augmentation, one optimiser
 * step per batch, running loss and metrics, validation each epoch, callbacks.
 *
 * One step: tidy(() => { loss = lossFn(y, model.apply(x, {training: true})) +
 * regularisation; loss.backward() }); optimizer.step(trainableWeights); zero grads.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { tidy } from '../registry/engine.js';
import { enableGrad, noGrad } from '../autograd/tape.js';
import { abs, add, cast, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, meanSquaredError, softmaxCrossEntropy } from '../ops/loss.js';
import { Rng, rngOf } from '../ops/random.js';
import { makeOptimizer, Optimizer, type OptimizerKind } from '../optim/optimizer.js';
import { Dataset, type Labels } from '../data/dataset.js';
import { Augmenter, type AugmentOptions, type ImageBatch } from '../vision/augment.js';
import { argMaxRows, topKCorrect } from './metrics.js';
import { allWeights, CallbackList, History, ProgressBar, type Callback, type Logs, type ProgressBarOptions, type TrainableModel, type TrainParams } from './callbacks.js';

// ---------------------------------------------------------------- losses

/** A loss: (yTrue, yPred) -> scalar tensor (Keras's argument order). */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Named losses. The cross-entropy names all take LOGITS (the zoo's classifiers end in
 * a Dense layer without softmax): 'sparseCategoricalCrossentropy' expects int32 class
 * indices, 'categoricalCrossentropy' one-hot rows; 'softmaxCrossEntropy' and
 * 'crossEntropy' accept both. 'binaryCrossEntropy' takes probabilities.
 */
export type LossName =
  | 'softmaxCrossEntropy' | 'crossEntropy' | 'sparseCategoricalCrossentropy' | 'categoricalCrossentropy'
  | 'meanSquaredError' | 'mse' | 'meanAbsoluteError' | 'mae'
  | 'binaryCrossEntropy' | 'binaryCrossentropy' | 'binaryCrossEntropyWithLogits';

const matchDtype = (y: Tensor, p: Tensor): Tensor => (y.dtype === p.dtype ? y : cast(y, p.dtype));
const sameShape = (y: Tensor, p: Tensor): Tensor => (y.rank === 1 && p.rank === 2 && p.shape[1] === 1 ? y.reshape([y.shape[0], 1]) : y);

const LOSSES: Record<LossName, LossFn> = {
  softmaxCrossEntropy: (y, p) => softmaxCrossEntropy(p, y.dtype === 'int32' ? y : matchDtype(y, p)),
  crossEntropy: (y, p) => softmaxCrossEntropy(p, y.dtype === 'int32' ? y : matchDtype(y, p)),
  sparseCategoricalCrossentropy: (y, p) => softmaxCrossEntropy(p, y.dtype === 'int32' ? y : cast(y, 'int32')),
  categoricalCrossentropy: (y, p) => softmaxCrossEntropy(p, matchDtype(y, p)),
  meanSquaredError: (y, p) => meanSquaredError(p, sameShape(matchDtype(y, p), p)),
  mse: (y, p) => meanSquaredError(p, sameShape(matchDtype(y, p), p)),
  meanAbsoluteError: (y, p) => mean(abs(sub(p, sameShape(matchDtype(y, p), p)))),
  mae: (y, p) => mean(abs(sub(p, sameShape(matchDtype(y, p), p)))),
  binaryCrossEntropy: (y, p) => binaryCrossEntropy(p, sameShape(matchDtype(y, p), p)),
  binaryCrossentropy: (y, p) => binaryCrossEntropy(p, sameShape(matchDtype(y, p), p)),
  binaryCrossEntropyWithLogits: (y, p) => binaryCrossEntropyWithLogits(p, sameShape(matchDtype(y, p), p)),
};
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

// ---------------------------------------------------------------- metrics

/** A user metric: (yTrue, yPred) -> a number or a scalar tensor, averaged over batches by size. */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor | number;

interface HostPred {
  data: ArrayLike<number>;
  shape: readonly number[];
}
interface MetricSpec {
  name: string;
  /** Sum of the metric over the batch and how many items it covers. */
  host?: (pred: HostPred, y: Labels, yShape: readonly number[]) => { sum: number; count: number };
  tensor?: MetricFn;
}

function classIndices(y: Labels, yShape: readonly number[]): ArrayLike<number> {
  return yShape.length === 2 ? argMaxRows(y, yShape[0], yShape[1]) : y;
}

function makeMetric(m: string | MetricFn | { name: string; fn: MetricFn }, lossName: string): MetricSpec {
  if (typeof m === 'function') return { name: m.name || 'metric', tensor: m };
  if (typeof m === 'object') return { name: m.name, tensor: m.fn };
  const topk = /^(?:top[-_]?(\d+)(?:[-_]?accuracy)?|topKAccuracy|sparseTopKCategoricalAccuracy)$/i.exec(m);
  if (topk) {
    const k = topk[1] ? Number(topk[1]) : 5;
    return {
      name: `top${k}`,
      host: (p, y, ys) => ({ sum: topKCorrect({ data: p.data, shape: [p.shape[0], sizeOf(p.shape.slice(1))] }, classIndices(y, ys), k), count: p.shape[0] }),
    };
  }
  if (m === 'accuracy' || m === 'acc') {
    const threshold = lossName === 'binaryCrossEntropyWithLogits' ? 0 : 0.5;
    return {
      name: 'accuracy',
      host: (p, y, ys) => {
        const n = p.shape[0];
        const k = sizeOf(p.shape.slice(1));
        let ok = 0;
        if (k === 1) {
          for (let i = 0; i < n; i++) if ((p.data[i] > threshold) === (y[i] > 0.5)) ok++;
        } else {
          const pred = argMaxRows(p.data, n, k);
          const t = classIndices(y, ys);
          for (let i = 0; i < n; i++) if (pred[i] === t[i]) ok++;
        }
        return { sum: ok, count: n };
      },
    };
  }
  if (m === 'mse' || m === 'meanSquaredError' || m === 'mae' || m === 'meanAbsoluteError') {
    const sq = m === 'mse' || m === 'meanSquaredError';
    return {
      name: sq ? 'mse' : 'mae',
      host: (p, y) => {
        if (p.data.length !== y.length) throw new RangeError(`metric ${m}: predictions of shape ${fmtShape(p.shape)} and ${y.length} target values differ in size`);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += sq ? (p.data[i] - y[i]) ** 2 : Math.abs(p.data[i] - y[i]);
        return { sum: s, count: y.length };
      },
    };
  }
  throw new RangeError(`compile: unknown metric '${m}' (known: accuracy, top5 (any topK), mse, mae, or a function (yTrue, yPred) => number)`);
}

// ---------------------------------------------------------------- compile

export interface CompileArgs {
  /** An optimiser, or its name ('sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta') with default settings, or { name, ...options }. */
  optimizer: Optimizer | OptimizerKind | ({ name: OptimizerKind } & Record<string, unknown>);
  loss: LossName | LossFn;
  metrics?: readonly (string | MetricFn | { name: string; fn: MetricFn })[];
}

export interface Compiled {
  optimizer: Optimizer;
  loss: LossFn;
  lossName: string;
  metrics: MetricSpec[];
  /**
   * The loss is a softmax cross-entropy that accepts one-hot rows: class-index labels
   * are then expanded to float32 one-hot rows on the host before upload, so that a
   * training step on a float32-only backend (wasm) never touches an int32 tensor (no
   * OneHot fallback to `ts` inside the step). Values and gradients are identical.
   */
  oneHotOnHost: boolean;
}

const ONE_HOT_LOSSES = new Set(['softmaxCrossEntropy', 'crossEntropy', 'sparseCategoricalCrossentropy']);

/** Float32 one-hot rows for class-index labels, checking every label is in [0, k). */
function oneHotRows(labels: Int32Array, k: number): Float32Array {
  const out = new Float32Array(labels.length * k);
  labels.forEach((c, i) => {
    if (!(c >= 0 && c < k)) throw new RangeError(`fit: label ${c} at position ${i} of the batch is not a class index in [0, ${k}) for a model with ${k} outputs`);
    out[i * k + c] = 1;
  });
  return out;
}

/** Keras's default SGD rate; the other optimisers keep their own (PyTorch) defaults. */
const DEFAULT_SGD_LR = 0.01;

export function resolveCompile(args: CompileArgs): Compiled {
  if (!args || typeof args !== 'object') throw new TypeError('compile: expected { optimizer, loss, metrics? }');
  let optimizer: Optimizer;
  const o = args.optimizer;
  if (o instanceof Optimizer) optimizer = o;
  else if (typeof o === 'string' || (o && typeof o === 'object' && 'name' in o)) {
    const { name, ...opts } = typeof o === 'string' ? { name: o } : (o as { name: OptimizerKind } & Record<string, unknown>);
    const sgdLike = name === 'sgd' || name === 'momentum' || name === 'nesterov';
    optimizer = makeOptimizer(name, sgdLike && opts.lr === undefined ? { ...opts, lr: DEFAULT_SGD_LR } : opts);
  } else throw new TypeError(`compile: optimizer must be an Optimizer, a name or { name, ...options }, received ${String(o)}`);
  let loss: LossFn, lossName: string;
  if (typeof args.loss === 'function') {
    loss = args.loss;
    lossName = args.loss.name || 'loss';
  } else {
    const f = LOSSES[args.loss as LossName];
    if (!f) throw new RangeError(`compile: unknown loss '${String(args.loss)}' (known: ${LOSS_NAMES.join(', ')}, or a function (yTrue, yPred) => scalar)`);
    loss = f;
    lossName = args.loss;
  }
  const metrics = (args.metrics ?? []).map((m) => makeMetric(m, lossName));
  const seen = new Set<string>(['loss']);
  for (const m of metrics) {
    if (seen.has(m.name)) throw new RangeError(`compile: metric name '${m.name}' is used twice`);
    seen.add(m.name);
  }
  return { optimizer, loss, lossName, metrics, oneHotOnHost: typeof args.loss === 'string' && ONE_HOT_LOSSES.has(args.loss) };
}

// ---------------------------------------------------------------- fit

export type AugmentArg = AugmentOptions | Augmenter | ((batch: ImageBatch) => ImageBatch);

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the training data held out for validation: the LAST samples, before shuffling (Keras). */
  validationSplit?: number;
  validationData?: Dataset | readonly [Tensor, Tensor];
  validationBatchSize?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  callbacks?: Callback | readonly Callback[];
  /** 0 silent, 1 progress bar (plain lines when not a terminal), 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Seeds shuffling and augmentation. */
  seed?: number;
  /** Augment every training batch on the fly: options, an Augmenter, or a function. */
  augment?: AugmentArg;
  /** Epoch to start counting from (resuming). */
  initialEpoch?: number;
  progress?: ProgressBarOptions;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Accept a Dataset, or tensors x and y. */
export function toDataset(x: Tensor | Dataset, y: Tensor | undefined, op: string): Dataset {
  if (x instanceof Dataset) return x;
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new TypeError(`${op}: pass (x, y) tensors or a Dataset`);
  return Dataset.fromTensors(x, y);
}

function makeAugment(a: AugmentArg | undefined, rng: Rng): ((b: ImageBatch) => ImageBatch) | null {
  if (!a) return null;
  if (typeof a === 'function') return a;
  const aug = a instanceof Augmenter ? a : new Augmenter({ seed: rng, ...a });
  return (b) => aug.applyBatch(b);
}

class Accumulator {
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
interface BatchTensors {
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
function runBatch(model: TrainableModel, c: Compiled, ds: Dataset, xb: Float32Array, yb: Labels, size: number, train: boolean, warn: { noGrad: boolean }): BatchTensors {
  const { x, y } = ds.toBatch({ x: xb, y: yb, size });
  try {
    // Evaluation records no graph (fit's validation runs outside any noGrad scope).
    return (train ? enableGrad : noGrad)(() => tidy(() => {
      const out = model.apply(x, { training: train });
      if (out.shape[0] !== size) throw new RangeError(`fit: the model returned shape ${fmtShape(out.shape)} for a batch of ${size}`);
      let loss =
        c.oneHotOnHost && yb instanceof Int32Array && out.rank === 2 && y.rank === 1
          ? softmaxCrossEntropy(out, tensor(oneHotRows(yb.subarray(0, size), out.shape[1]), out.shape, out.dtype))
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
function accumulate(c: Compiled, ds: Dataset, yb: Labels, size: number, acc: Accumulator, t: BatchTensors, loss: number, pred: ArrayLike<number> | null, metrics: (number | null)[]): number {
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
function batchStep(model: TrainableModel, c: Compiled, ds: Dataset, xb: Float32Array, yb: Labels, size: number, train: boolean, acc: Accumulator, warn: { noGrad: boolean }): number {
  const t = runBatch(model, c, ds, xb, yb, size, train, warn);
  try {
    const metrics = t.metrics.map((m) => (m === null ? null : typeof m === 'number' ? m : m.item()));
    return accumulate(c, ds, yb, size, acc, t, t.loss.item(), t.pred ? t.pred.dataSync() : null, metrics);
  } finally {
    disposeBatch(t);
  }
}

/** One batch with asynchronous reads: works on every backend, webgpu included. */
async function batchStepAsync(model: TrainableModel, c: Compiled, ds: Dataset, xb: Float32Array, yb: Labels, size: number, train: boolean, acc: Accumulator, warn: { noGrad: boolean }): Promise<number> {
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

/** Loss and metrics of `model` on `ds` (inference mode, no gradients). */
export function evaluateDataset(model: TrainableModel, c: Compiled, ds: Dataset, batchSize = 32): Logs {
  const acc = new Accumulator();
  noGrad(() => {
    for (const b of ds.hostBatches(batchSize)) batchStep(model, c, ds, b.x, b.y, b.size, false, acc, { noGrad: true });
  });
  const logs = acc.result();
  // Keras's order: loss first, then metrics in compile order.
  const ordered: Logs = { loss: logs.loss };
  for (const m of c.metrics) ordered[m.name] = logs[m.name];
  return ordered;
}

/** `predictDataset` with asynchronous reads: works on every backend, webgpu included. */
export async function predictDatasetAsync(model: TrainableModel, ds: Dataset, batchSize = 128): Promise<{ data: Float32Array; shape: number[] }> {
  let out: Float32Array | null = null;
  let rowShape: number[] = [];
  let o = 0;
  for (const b of ds.batches(batchSize)) {
    let p: Tensor | null = null;
    try {
      p = noGrad(() => tidy(() => model.apply(b.x, { training: false })));
      const v = await p.data();
      if (!out) {
        rowShape = p.shape.slice(1);
        out = new Float32Array(ds.length * sizeOf(rowShape));
      }
      out.set(v, o);
      o += v.length;
    } finally {
      p?.dispose();
      b.x.dispose();
      b.y.dispose();
    }
  }
  return { data: out ?? new Float32Array(0), shape: [ds.length, ...rowShape] };
}

/** `toDataset` reading the tensors asynchronously (they may live on webgpu). */
export async function toDatasetAsync(x: Tensor | Dataset, y: Tensor | undefined, op: string): Promise<Dataset> {
  if (x instanceof Dataset) return x;
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new TypeError(`${op}: pass (x, y) tensors or a Dataset`);
  if (x.rank < 1 || y.rank < 1 || x.shape[0] !== y.shape[0]) {
    throw new RangeError(`${op}: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must have the same first (sample) dimension`);
  }
  const [xs, ys] = await Promise.all([x.data(), y.data()]);
  return Dataset.fromValues(xs, x.shape, ys, y.shape, y.dtype === 'int32');
}

/** `evaluateDataset` with asynchronous reads (every backend, webgpu included). */
export async function evaluateDatasetAsync(model: TrainableModel, c: Compiled, ds: Dataset, batchSize = 32): Promise<Logs> {
  const acc = new Accumulator();
  for (const b of ds.hostBatches(batchSize)) await batchStepAsync(model, c, ds, b.x, b.y, b.size, false, acc, { noGrad: true });
  const logs = acc.result();
  const ordered: Logs = { loss: logs.loss };
  for (const m of c.metrics) ordered[m.name] = logs[m.name];
  return ordered;
}

/** The model's outputs on every sample of `ds`, as one host array [N, ...]. */
export function predictDataset(model: TrainableModel, ds: Dataset, batchSize = 128): { data: Float32Array; shape: number[] } {
  let out: Float32Array | null = null;
  let rowShape: number[] = [];
  let o = 0;
  noGrad(() => {
    for (const b of ds.batches(batchSize)) {
      try {
        tidy(() => {
          const p = model.apply(b.x, { training: false });
          const v = p.dataSync();
          if (!out) {
            rowShape = p.shape.slice(1);
            out = new Float32Array(ds.length * sizeOf(rowShape));
          }
          out.set(v, o);
          o += v.length;
        });
      } finally {
        b.x.dispose();
        b.y.dispose();
      }
    }
  });
  return { data: out ?? new Float32Array(0), shape: [ds.length, ...rowShape] };
}

/** Train `model` (Keras's fit). Returns the History of per-epoch logs. */
export async function fitDataset(model: TrainableModel, c: Compiled, data: Dataset, opts: FitOptions = {}): Promise<History> {
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  const initialEpoch = opts.initialEpoch ?? 0;
  const verbose = opts.verbose ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, received ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`fit: batchSize must be a positive integer, received ${opts.batchSize}`);
  if (data.length === 0) throw new RangeError('fit: the training data is empty');

  let train = data;
  let val: Dataset | null = null;
  if (opts.validationData) {
    const v = opts.validationData;
    val = v instanceof Dataset ? v : toDataset(v[0], v[1], 'fit: validationData');
  } else if (opts.validationSplit !== undefined && opts.validationSplit > 0) {
    const vs = opts.validationSplit;
    if (!(vs > 0 && vs < 1)) throw new RangeError(`fit: validationSplit must be in (0, 1), received ${vs}`);
    const cut = Math.floor(data.length * (1 - vs));
    if (cut < 1 || cut >= data.length) throw new RangeError(`fit: validationSplit ${vs} of ${data.length} samples leaves an empty part`);
    train = data.slice(0, cut);
    val = data.slice(cut);
  }

  const rng = rngOf(opts.seed);
  const augment = makeAugment(opts.augment, rng);
  if (augment && train.sampleShape.length !== 3) throw new RangeError(`fit: augment needs images [H, W, C], the samples have shape ${fmtShape(train.sampleShape)}`);

  const history = new History();
  const userCallbacks = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks as Callback];
  const list = new CallbackList([history, ...userCallbacks]);
  if (verbose > 0) list.append(new ProgressBar(verbose === 2 ? { ...opts.progress, tty: false } : opts.progress));
  const names = ['loss', ...c.metrics.map((m) => m.name)];
  const params: TrainParams = {
    epochs, initialEpoch, batchSize, samples: train.length, steps: train.batchCount(batchSize), verbose,
    metrics: val ? [...names, ...names.map((n) => `val_${n}`)] : names, doValidation: !!val, optimizer: c.optimizer,
  };
  list.setModel(model);
  list.setParams(params);

  const warn = { noGrad: false };
  model.stopTraining = false;
  let lastYield = now();
  await list.onTrainBegin();
  for (let epoch = initialEpoch; epoch < epochs; epoch++) {
    await list.onEpochBegin(epoch);
    const acc = new Accumulator();
    const t0 = now();
    let seen = 0;
    let batch = 0;
    for (const b of train.hostBatches(batchSize, { shuffle: opts.shuffle ?? true, seed: rng })) {
      await list.onBatchBegin(batch, { batch, size: b.size });
      let xb = b.x;
      if (augment) {
        const shape = [b.size, ...train.sampleShape] as [number, number, number, number];
        xb = augment({ data: xb, shape }).data;
      }
      // Read the weights each step: a callback may freeze or unfreeze layers (fine-tuning).
      const trainable = model.trainableWeights;
      try {
        await batchStepAsync(model, c, train, xb, b.y, b.size, true, acc, warn);
        c.optimizer.step(trainable);
      } finally {
        for (const w of allWeights(model)) w.zeroGrad();
      }
      seen += b.size;
      await list.onBatchEnd(batch, { batch, size: b.size, ...acc.result() });
      batch++;
      if (!isNode && now() - lastYield > 50) {
        // Let a browser page repaint and handle input between batches.
        await new Promise((r) => setTimeout(r, 0));
        lastYield = now();
      }
    }
    const seconds = (now() - t0) / 1000;
    const logs: Logs = { ...acc.result() };
    if (val) {
      const v = await evaluateDatasetAsync(model, c, val, opts.validationBatchSize ?? batchSize);
      for (const [k, x] of Object.entries(v)) logs[`val_${k}`] = x;
    }
    logs.lr = c.optimizer.currentLr();
    logs.images_per_sec = seen / Math.max(seconds, 1e-9);
    logs.seconds = seconds;
    await list.onEpochEnd(epoch, logs);
    if (model.stopTraining) break;
  }
  await list.onTrainEnd();
  return history;
}
