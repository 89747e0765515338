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
import { tidy } from '../registry/storage.js';
import { enableGrad, noGrad } from '../autograd/tape.js';
import { add, cast } from '../ops/elementwise.js';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, softmaxCrossEntropy } from '../ops/loss.js';
import * as kerasLosses from '../ops/keras_losses.js';
import { logitsOf } from '../ops/logits.js';
import { Rng } from '../ops/random.js';
import { makeOptimizer, Optimizer, type OptimizerKind } from '../optim/optimizer.js';
import { Dataset, type Labels } from '../data/dataset.js';
import { Augmenter, type AugmentOptions, type ImageBatch } from '../vision/augment.js';
import { argMaxRows, topKCorrect } from './metrics.js';
import { allWeights, CallbackList, History, ProgressBar, TerminateOnNaN, type Callback, type Logs, type ProgressBarOptions, type TrainableModel, type TrainParams } from './callbacks.js';

// ---------------------------------------------------------------- losses

/** A loss: (yTrue, yPred) -> scalar tensor (Keras's argument order). */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Named losses. The Keras names follow Keras and TF.js: the cross-entropies
 * 'sparseCategoricalCrossentropy' (class indices), 'categoricalCrossentropy' (one-hot
 * rows) and 'binaryCrossentropy' take PROBABILITIES unless compiled as
 * `{ name, fromLogits: true }`; a model ending in a softmax (or sigmoid) has its loss
 * computed from the logits internally (see ck.losses). Keras's snake_case spellings
 * are accepted too. convkit's own names take logits: 'softmaxCrossEntropy' and
 * 'crossEntropy' (labels int32 [N] or float [N, K]) and 'binaryCrossEntropyWithLogits';
 * 'binaryCrossEntropy' is PyTorch's BCELoss on probabilities (each log clamped at -100).
 */
export type KerasLossName =
  | 'sparseCategoricalCrossentropy' | 'categoricalCrossentropy' | 'binaryCrossentropy'
  | 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy';
export type LossName =
  | KerasLossName
  | 'softmaxCrossEntropy' | 'crossEntropy' | 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits'
  | 'meanSquaredError' | 'mse' | 'mean_squared_error' | 'meanAbsoluteError' | 'mae' | 'mean_absolute_error';

/** A named loss with options: `{ name: 'sparseCategoricalCrossentropy', fromLogits: true }`. */
export interface LossSpec {
  name: LossName;
  /** For the Keras cross-entropies: yPred holds logits (default false). */
  fromLogits?: boolean;
}

const matchDtype = (y: Tensor, p: Tensor): Tensor => (y.dtype === p.dtype ? y : cast(y, p.dtype));
const sameShape = (y: Tensor, p: Tensor): Tensor => (y.rank === 1 && p.rank === 2 && p.shape[1] === 1 ? y.reshape([y.shape[0], 1]) : y);
const logitsXent: LossFn = (y, p) => softmaxCrossEntropy(p, y.dtype === 'int32' ? y : matchDtype(y, p));

type Canonical = 'sparse' | 'categorical' | 'binary';
const KERAS_CE: Record<KerasLossName, Canonical> = {
  sparseCategoricalCrossentropy: 'sparse', sparse_categorical_crossentropy: 'sparse',
  categoricalCrossentropy: 'categorical', categorical_crossentropy: 'categorical',
  binaryCrossentropy: 'binary', binary_crossentropy: 'binary',
};
const isKerasCE = (n: string): n is KerasLossName => Object.prototype.hasOwnProperty.call(KERAS_CE, n);

function kerasCE(kind: Canonical, fromLogits: boolean): LossFn {
  if (kind === 'sparse') return (y, p) => kerasLosses.sparseCategoricalCrossentropy(y, p, { fromLogits });
  if (kind === 'categorical') return (y, p) => kerasLosses.categoricalCrossentropy(matchDtype(y, p), p, { fromLogits });
  return (y, p) => kerasLosses.binaryCrossentropy(sameShape(matchDtype(y, p), p), p, { fromLogits });
}

const mseLoss: LossFn = (y, p) => kerasLosses.meanSquaredError(sameShape(matchDtype(y, p), p), p);
const maeLoss: LossFn = (y, p) => kerasLosses.meanAbsoluteError(sameShape(matchDtype(y, p), p), p);
const OTHER_LOSSES: Record<Exclude<LossName, KerasLossName>, LossFn> = {
  softmaxCrossEntropy: logitsXent,
  crossEntropy: logitsXent,
  meanSquaredError: mseLoss,
  mse: mseLoss,
  mean_squared_error: mseLoss,
  meanAbsoluteError: maeLoss,
  mae: maeLoss,
  mean_absolute_error: maeLoss,
  binaryCrossEntropy: (y, p) => binaryCrossEntropy(p, sameShape(matchDtype(y, p), p)),
  binaryCrossEntropyWithLogits: (y, p) => binaryCrossEntropyWithLogits(p, sameShape(matchDtype(y, p), p)),
};
export const LOSS_NAMES = [...Object.keys(KERAS_CE), ...Object.keys(OTHER_LOSSES)] as LossName[];

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

function makeMetric(m: string | MetricFn | { name: string; fn: MetricFn }, lossName: string, lossTakesProbabilities: boolean): MetricSpec {
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
    // A single output is a probability (threshold 0.5), or a logit (threshold 0) when the loss takes logits.
    const binaryLogits = lossName === 'binaryCrossEntropyWithLogits' || (isKerasCE(lossName) && KERAS_CE[lossName] === 'binary' && !lossTakesProbabilities);
    const threshold = binaryLogits ? 0 : 0.5;
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
  /** A loss name, `{ name, fromLogits }`, or a function (yTrue, yPred) => scalar. */
  loss: LossName | LossSpec | LossFn;
  metrics?: readonly (string | MetricFn | { name: string; fn: MetricFn })[];
}

export interface Compiled {
  optimizer: Optimizer;
  loss: LossFn;
  lossName: string;
  metrics: MetricSpec[];
  /**
   * The same loss on float32 one-hot rows, for a loss over class labels: class-index
   * labels are then expanded to one-hot rows on the host before upload, so that a
   * training step on a float32-only backend (wasm) never touches an int32 tensor (no
   * OneHot fallback to `ts` inside the step). Values and gradients are identical.
   */
  lossFromOneHot: LossFn | null;
  /**
   * The loss takes probabilities (a Keras cross-entropy without fromLogits): fit warns
   * once when the model's output is not a softmax or sigmoid output.
   */
  expectsProbabilities: boolean;
  /** Set once that warning has been given. */
  warnedLogits?: boolean;
}

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

function resolveLoss(l: CompileArgs['loss']): Pick<Compiled, 'loss' | 'lossName' | 'lossFromOneHot' | 'expectsProbabilities'> {
  if (typeof l === 'function') return { loss: l, lossName: l.name || 'loss', lossFromOneHot: null, expectsProbabilities: false };
  const spec: LossSpec = typeof l === 'string' ? { name: l } : l && typeof l === 'object' ? l : ({ name: String(l) } as LossSpec);
  const known = `known: ${LOSS_NAMES.join(', ')}, { name, fromLogits }, or a function (yTrue, yPred) => scalar`;
  if (typeof spec.name !== 'string') throw new TypeError(`compile: loss must be a name, { name, fromLogits } or a function, received ${JSON.stringify(l)} (${known})`);
  const extra = Object.keys(spec).filter((k) => k !== 'name' && k !== 'fromLogits');
  if (extra.length) throw new RangeError(`compile: loss option '${extra[0]}' is not known (options: name, fromLogits)`);
  if (spec.fromLogits !== undefined && typeof spec.fromLogits !== 'boolean') {
    throw new TypeError(`compile: loss fromLogits must be true or false, received ${JSON.stringify(spec.fromLogits)}`);
  }
  if (isKerasCE(spec.name)) {
    const kind = KERAS_CE[spec.name];
    const fromLogits = spec.fromLogits ?? false;
    return {
      loss: kerasCE(kind, fromLogits),
      lossName: spec.name,
      lossFromOneHot: kind === 'binary' ? null : kerasCE('categorical', fromLogits),
      expectsProbabilities: !fromLogits,
    };
  }
  const f = OTHER_LOSSES[spec.name as Exclude<LossName, KerasLossName>];
  if (!f || !Object.prototype.hasOwnProperty.call(OTHER_LOSSES, spec.name)) throw new RangeError(`compile: unknown loss '${spec.name}' (${known})`);
  if (spec.fromLogits !== undefined) {
    throw new RangeError(
      `compile: loss '${spec.name}' has no fromLogits option (${spec.name === 'binaryCrossEntropy' ? "it takes probabilities; use 'binaryCrossEntropyWithLogits' for logits" : 'only the Keras cross-entropies have one'})`,
    );
  }
  const logitsLoss = spec.name === 'softmaxCrossEntropy' || spec.name === 'crossEntropy';
  return { loss: f, lossName: spec.name, lossFromOneHot: logitsLoss ? logitsXent : null, expectsProbabilities: false };
}

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
  const loss = resolveLoss(args.loss);
  const metrics = (args.metrics ?? []).map((m) => makeMetric(m, loss.lossName, loss.expectsProbabilities));
  const seen = new Set<string>(['loss']);
  for (const m of metrics) {
    if (seen.has(m.name)) throw new RangeError(`compile: metric name '${m.name}' is used twice`);
    seen.add(m.name);
  }
  return { optimizer, ...loss, metrics };
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
  /**
   * Seeds shuffling and augmentation. Each epoch's streams depend on (seed, epoch) only,
   * so a run resumed with `initialEpoch` reproduces an uninterrupted one bit for bit.
   */
  seed?: number;
  /** Augment every training batch on the fly: options, an Augmenter, or a function. */
  augment?: AugmentArg;
  /**
   * Epoch to resume at (Keras's initial_epoch): `fit({ epochs: 1, seed })` then
   * `fit({ initialEpoch: 1, epochs: 2, seed })` trains exactly as one `fit({ epochs: 2, seed })`:
   * the optimiser keeps its state and step count (so its learning-rate schedule goes on),
   * and epoch 1 shuffles and augments as it would have. Keep the model and its compile().
   */
  initialEpoch?: number;
  progress?: ProgressBarOptions;
  /**
   * Stop right after a batch whose logged loss is NaN or infinite, recording where on
   * `history.stopped` (Keras's TerminateOnNaN callback; default true; not added twice
   * when `callbacks` already holds one).
   */
  terminateOnNaN?: boolean;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Accept a Dataset, or tensors x and y. */
export function toDataset(x: Tensor | Dataset, y: Tensor | undefined, op: string): Dataset {
  if (x instanceof Dataset) return x;
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new TypeError(`${op}: pass (x, y) tensors or a Dataset`);
  return Dataset.fromTensors(x, y);
}

/**
 * The seed of one epoch's random stream (shuffling or augmentation): a hash of the
 * run's seed, the epoch and the stream alone, so that each epoch draws the same
 * numbers whether the run started at epoch 0 or resumed with `initialEpoch`.
 */
export function epochSeed(seed: number, epoch: number, stream: number): number {
  let h = Math.imul(seed ^ 0x85ebca6b, 0xcc9e2d51) ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SHUFFLE_STREAM = 0;
const AUGMENT_STREAM = 1;

/**
 * Per-epoch augmentation. Options build a fresh Augmenter each epoch, seeded from
 * (seed, epoch) so that resuming reproduces the same images; an Augmenter or a function
 * passed in keeps its own state (the caller's stream).
 */
function makeAugment(a: AugmentArg | undefined, seed: number): ((b: ImageBatch, epoch: number) => ImageBatch) | null {
  if (!a) return null;
  if (typeof a === 'function') return (b) => a(b);
  if (a instanceof Augmenter) return (b) => a.applyBatch(b);
  const base = typeof a.seed === 'number' ? a.seed : seed;
  let epochAug: { epoch: number; aug: Augmenter } | null = null;
  return (b, epoch) => {
    if (epochAug?.epoch !== epoch) epochAug = { epoch, aug: new Augmenter({ ...a, seed: epochSeed(base, epoch, AUGMENT_STREAM) }) };
    return epochAug.aug.applyBatch(b);
  };
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
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new RangeError(`fit: initialEpoch must be a non-negative integer, received ${opts.initialEpoch}`);
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

  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new RangeError(`fit: seed must be an integer, received ${opts.seed}`);
  // Without a seed, a random one: the run is then not reproducible (as in Keras without a seed).
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const augment = makeAugment(opts.augment, seed);
  if (augment && train.sampleShape.length !== 3) throw new RangeError(`fit: augment needs images [H, W, C], the samples have shape ${fmtShape(train.sampleShape)}`);

  const history = new History();
  const userCallbacks = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks as Callback];
  const list = new CallbackList([history, ...userCallbacks]);
  if ((opts.terminateOnNaN ?? true) && !userCallbacks.some((cb) => cb instanceof TerminateOnNaN)) list.append(new TerminateOnNaN({ verbose: verbose > 0 ? 1 : 0 }));
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
    const shuffleRng = new Rng(epochSeed(seed, epoch, SHUFFLE_STREAM));
    for (const b of train.hostBatches(batchSize, { shuffle: opts.shuffle ?? true, seed: shuffleRng })) {
      await list.onBatchBegin(batch, { batch, size: b.size });
      let xb = b.x;
      if (augment) {
        const shape = [b.size, ...train.sampleShape] as [number, number, number, number];
        xb = augment({ data: xb, shape }, epoch).data;
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
      if (model.stopTraining) break; // a callback stopped training after this batch (Keras: TerminateOnNaN); the epoch still ends
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
