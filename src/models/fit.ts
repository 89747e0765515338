/**
 * fit's user-facing options on top of the training loop (src/train/fit.ts): tensors or a
 * Dataset in, validation tensors turned into a Dataset, and `augment` (options, an
 * Augmenter or a function) turned into the loop's batch transform. This floor may import
 * data/ and vision/; train/ imports neither.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { Dataset } from '../data/dataset.js';
import { StreamDataset } from '../data/stream.js';
import { augmentBatches, type AugmentArg } from '../vision/augment.js';
import type { History, TrainableModel } from '../train/callbacks.js';
import type { Compiled } from '../train/compile.js';
import { trainingLoop } from '../train/fit.js';
import type { TrainingLoopOptions } from '../train/fit_options.js';
import type { BatchTransform } from '../train/training_data.js';

export interface FitOptions extends Omit<TrainingLoopOptions, 'validationData'> {
  /** Tensors [x, y], a Dataset, or a batched StreamDataset (evaluated in one pass each epoch). */
  validationData?: Dataset | StreamDataset<unknown> | readonly [Tensor, Tensor];
  /** Augment every training batch on the fly: options, an Augmenter, or a function (applied before `batchTransform`). */
  augment?: AugmentArg;
}

/** Accept a Dataset, or tensors x and y. */
export function toDataset(x: Tensor | Dataset, y: Tensor | undefined, op: string): Dataset {
  if (x instanceof Dataset) return x;
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new TypeError(`${op}: pass (x, y) tensors or a Dataset`);
  return Dataset.fromTensors(x, y);
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

/** `augment` then the user's `batchTransform`, as one transform. */
function batchTransformOf(augment: AugmentArg | undefined, user: BatchTransform | undefined): BatchTransform | undefined {
  if (!augment) return user;
  const aug = augmentBatches(augment);
  if (!user) return aug;
  const both: BatchTransform = (b, ctx) => user({ ...b, ...aug(b, ctx) }, ctx);
  both.checkSamples = (shape) => {
    aug.checkSamples?.(shape);
    user.checkSamples?.(shape);
  };
  return both;
}

/**
 * Train `model` on a Dataset, or on a batched StreamDataset read afresh each epoch (Keras's
 * fit; `model.fit` calls it). Returns the History of per-epoch logs.
 */
export async function fitDataset(model: TrainableModel, c: Compiled, data: Dataset | StreamDataset<unknown>, opts: FitOptions = {}): Promise<History> {
  if (data instanceof StreamDataset && !data.batched) throw new TypeError('fit: a StreamDataset must be batched to train on: call .batch(batchSize) on it (fit has no batchSize for streams)');
  const { augment, validationData: v, batchTransform, ...rest } = opts;
  if (v instanceof StreamDataset && !v.batched) throw new TypeError('fit: a StreamDataset as validationData must be batched: call .batch(batchSize) on it');
  const validationData = v ? (v instanceof Dataset || v instanceof StreamDataset ? v : toDataset(v[0], v[1], 'fit: validationData')) : undefined;
  return trainingLoop(model, c, data, { ...rest, validationData, batchTransform: batchTransformOf(augment, batchTransform) });
}
