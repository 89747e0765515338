/**
 * Losses with Keras's names, argument order and conventions, published as `ck.losses`
 * and used by `model.compile({ loss })`:
 *
 *   ck.losses.sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: false })
 *
 * - Argument order is Keras's: (yTrue, yPred).
 * - The cross-entropies take PROBABILITIES unless `fromLogits: true` (Keras and TF.js).
 *   When the probabilities are the direct output of a `softmax` (or `sigmoid`) op, for
 *   example a model ending in `dense({ activation: 'softmax' })`, the loss is computed
 *   from that op's input, the logits, as Keras does: the same value without the
 *   precision lost in log(p). Otherwise p is divided by its sum over `axis`
 *   (categorical) and clipped to [1e-7, 1 - 1e-7] before the log (Keras's epsilon).
 * - Per-sample losses reduce over the last axis (Keras's `axis=-1`); `reduction`
 *   'mean' (default, Keras's sum_over_batch_size) averages them, 'sum' adds them,
 *   'none' returns them.
 *
 * The logits-first PyTorch-style ops (`ck.softmaxCrossEntropy(logits, labels)`,
 * `ck.binaryCrossEntropy(p, target)`, `ck.binaryCrossEntropyWithLogits`) stay as they
 * are; these are compositions of them and of elementwise ops, with no backward code.
 */
import { fmtShape, normAxes, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { logSoftmax } from './activation.js';
import { abs, add, affine, cast, clip, div, log, mul, neg, sub, square } from './elementwise.js';
import { binaryCrossEntropyWithLogits, softmaxCrossEntropy } from './loss.js';
import { logitsOf } from './logits.js';
import { assertFloatTensor, assertTensor } from './arg_checks.js';
import { mean, sum } from './reduce.js';
import { oneHot, reshape } from './shape.js';

/** Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before a log. */
export const EPSILON = 1e-7;

export type KerasReduction = 'mean' | 'sum' | 'none';

export interface CrossentropyOpts {
  /** yPred holds logits rather than probabilities (default false, as in Keras). */
  fromLogits?: boolean;
  /** 'mean' (default) | 'sum' | 'none' (one loss per sample). */
  reduction?: KerasReduction;
  /** The class axis (default -1). */
  axis?: number;
  /**
   * Label smoothing in [0, 1) (default 0), as Keras's `label_smoothing` and PyTorch's
   * `CrossEntropyLoss(label_smoothing=)`: the targets become t (1 - s) + s / K over K
   * classes (binary: t (1 - s) + s / 2), so the model is not pushed towards infinite logits.
   */
  labelSmoothing?: number;
}

export interface RegressionLossOpts {
  reduction?: KerasReduction;
}

function checkFloat(op: string, arg: string, t: unknown): asserts t is Tensor {
  assertFloatTensor(`losses.${op}`, arg, t);
}

function reduction(op: string, r: unknown): KerasReduction {
  const v = r ?? 'mean';
  if (v !== 'mean' && v !== 'sum' && v !== 'none') throw new RangeError(`losses.${op}: reduction must be 'mean', 'sum' or 'none', received ${JSON.stringify(r)}`);
  return v;
}

function reduce(perSample: Tensor, r: KerasReduction): Tensor {
  if (r === 'none') return perSample;
  return r === 'sum' ? sum(perSample) : mean(perSample);
}

/** yTrue as a float tensor of yPred's shape and dtype (Keras casts the targets to the predictions' dtype). */
function targetsLike(op: string, yTrue: Tensor, yPred: Tensor): Tensor {
  assertTensor(`losses.${op}`, 'yTrue', yTrue);
  if (!shapesEqual(yTrue.shape, yPred.shape)) {
    throw new RangeError(`losses.${op}: yTrue has shape ${fmtShape(yTrue.shape)} but yPred has shape ${fmtShape(yPred.shape)}; they must be equal`);
  }
  return yTrue.dtype === yPred.dtype ? yTrue : cast(yTrue, yPred.dtype);
}

/** The smoothing factor of `opts`, checked: a number in [0, 1). */
function smoothingOf(op: string, s: number | undefined): number {
  if (s === undefined) return 0;
  if (typeof s !== 'number' || !(s >= 0 && s < 1)) throw new RangeError(`losses.${op}: labelSmoothing must be a number in [0, 1), received ${String(s)}`);
  return s;
}

/** Targets t (1 - s) + s / classes (t itself when s is 0). */
function smoothTargets(t: Tensor, s: number, classes: number): Tensor {
  return s === 0 ? t : affine(t, 1 - s, s / classes);
}

function classAxis(op: string, yPred: Tensor, axis: number | undefined): number {
  if (yPred.rank === 0) throw new RangeError(`losses.${op}: yPred must have a class axis, received a scalar`);
  return normAxes(axis ?? -1, yPred.rank, `losses.${op}`)[0];
}

/** Per-sample -sum_k t_k log softmax(z)_k over `axis`. The fused kernel serves the common [N, K] case. */
function softmaxXentPerSample(logits: Tensor, target: Tensor, axis: number): Tensor {
  if (logits.rank === 2 && axis === 1) return softmaxCrossEntropy(logits, target, { reduction: 'none' });
  return neg(sum(mul(target, logSoftmax(logits, axis)), { axes: axis }));
}

/**
 * Categorical cross-entropy (Keras's `categorical_crossentropy`): yTrue one-hot rows
 * or probabilities of yPred's shape; yPred probabilities (or logits with
 * `fromLogits: true`) along `axis`.
 */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor, opts: CrossentropyOpts = {}): Tensor {
  const op = 'categoricalCrossentropy';
  checkFloat(op, 'yPred', yPred);
  const r = reduction(op, opts.reduction);
  const axis = classAxis(op, yPred, opts.axis);
  const t = smoothTargets(targetsLike(op, yTrue, yPred), smoothingOf(op, opts.labelSmoothing), yPred.shape[axis]);
  const src = opts.fromLogits ? null : logitsOf(yPred);
  const logits = opts.fromLogits ? yPred : src?.kind === 'softmax' && src.axis === axis ? src.logits : null;
  if (logits) return reduce(softmaxXentPerSample(logits, t, axis), r);
  const p = clip(div(yPred, sum(yPred, { axes: axis, keepDims: true })), EPSILON, 1 - EPSILON);
  return reduce(neg(sum(mul(t, log(p)), { axes: axis })), r);
}

/**
 * Sparse categorical cross-entropy (Keras's `sparse_categorical_crossentropy`): yTrue
 * holds class indices (int32, or integral floats) of yPred's shape without the class
 * axis (a trailing axis of 1 is accepted, as in Keras); yPred probabilities, or logits
 * with `fromLogits: true`. A label outside [0, K) is an error when the labels can be
 * read synchronously.
 */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor, opts: CrossentropyOpts = {}): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  checkFloat(op, 'yPred', yPred);
  assertTensor(`losses.${op}`, 'yTrue', yTrue);
  const axis = classAxis(op, yPred, opts.axis);
  if (axis !== yPred.rank - 1) {
    throw new RangeError(`losses.${op}: the class axis must be the last one for sparse labels, received axis ${opts.axis} for yPred ${fmtShape(yPred.shape)}`);
  }
  const K = yPred.shape[axis];
  const want = yPred.shape.filter((_, i) => i !== axis);
  let labels = yTrue;
  if (!shapesEqual(labels.shape, want)) {
    const squeezable = labels.rank === want.length + 1 && labels.shape[labels.rank - 1] === 1 && shapesEqual(labels.shape.slice(0, -1), want);
    if (!squeezable) {
      throw new RangeError(`losses.${op}: yTrue must hold one class index per sample, shape ${fmtShape(want)} for yPred ${fmtShape(yPred.shape)}, received ${fmtShape(labels.shape)}`);
    }
    labels = reshape(labels, want);
  }
  const values = labels.backend.readSync(labels.dataId, labels.dtype);
  if (values) {
    for (let i = 0; i < values.length; i++) {
      const c = values[i];
      if (!(Number.isInteger(c) && c >= 0 && c < K)) {
        throw new RangeError(`losses.${op}: label ${c} at index ${i} is not a class index in [0, ${K}) for yPred ${fmtShape(yPred.shape)}`);
      }
    }
  }
  if (labels.dtype !== 'int32') labels = cast(labels, 'int32');
  const target = reshape(oneHot(reshape(labels, [-1]), K, yPred.dtype), yPred.shape);
  return categoricalCrossentropy(target, yPred, { ...opts, axis });
}

/**
 * Binary cross-entropy (Keras's `binary_crossentropy`): yTrue in [0, 1] of yPred's
 * shape; yPred probabilities (clipped to [1e-7, 1 - 1e-7]) or logits with
 * `fromLogits: true` (or taken from a sigmoid op's input). Per sample: the mean over
 * the last axis.
 */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor, opts: Omit<CrossentropyOpts, 'axis'> = {}): Tensor {
  const op = 'binaryCrossentropy';
  checkFloat(op, 'yPred', yPred);
  const r = reduction(op, opts.reduction);
  const t = smoothTargets(targetsLike(op, yTrue, yPred), smoothingOf(op, opts.labelSmoothing), 2);
  const src = opts.fromLogits ? null : logitsOf(yPred);
  const logits = opts.fromLogits ? yPred : src?.kind === 'sigmoid' ? src.logits : null;
  let elementwise: Tensor;
  if (logits) elementwise = binaryCrossEntropyWithLogits(logits, t, { reduction: 'none' });
  else {
    const p = clip(yPred, EPSILON, 1 - EPSILON);
    elementwise = neg(add(mul(t, log(p)), mul(sub(1, t), log(sub(1, p)))));
  }
  return reduce(perSampleMean(elementwise), r);
}

/** Mean over the last axis: Keras's per-sample loss (a rank-1 input is one sample per element). */
function perSampleMean(elementwise: Tensor): Tensor {
  return elementwise.rank >= 2 ? mean(elementwise, { axes: -1 }) : elementwise;
}

/** Mean squared error (Keras's `mean_squared_error`): per sample, the mean of (yTrue - yPred)^2 over the last axis. */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor, opts: RegressionLossOpts = {}): Tensor {
  const op = 'meanSquaredError';
  checkFloat(op, 'yPred', yPred);
  return reduce(perSampleMean(square(sub(yPred, targetsLike(op, yTrue, yPred)))), reduction(op, opts.reduction));
}

/** Mean absolute error (Keras's `mean_absolute_error`): per sample, the mean of |yTrue - yPred| over the last axis. */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor, opts: RegressionLossOpts = {}): Tensor {
  const op = 'meanAbsoluteError';
  checkFloat(op, 'yPred', yPred);
  return reduce(perSampleMean(abs(sub(yPred, targetsLike(op, yTrue, yPred)))), reduction(op, opts.reduction));
}
