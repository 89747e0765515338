/**
 * What the training loop needs of a data set, as an interface: train/ recognises data
 * structurally, so it imports neither data/ nor vision/. data/'s `Dataset` satisfies
 * `TrainingData`; any object with the same members does too (e.g. a streaming source).
 *
 * A batch transform (`fit({ batchTransform })`) rewrites each training batch on the host
 * before upload, like `tf.data.Dataset.map` over `{ x, y }` batches in TF.js. The models
 * floor turns fit's `augment` option into one (vision/augment.ts's `augmentBatches`).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../ops/random.js';

/** Labels of a batch: class indices (Int32Array) or float targets (Float32Array). */
export type Labels = Int32Array | Float32Array;

/** One mini-batch on the host: `size` samples, row-major, and their labels. */
export interface HostBatch {
  x: Float32Array;
  y: Labels;
  size: number;
}

/** A data set as the training loop reads it (data/'s Dataset is one). */
export interface TrainingData {
  readonly length: number;
  /** Shape of one sample, e.g. [28, 28, 1]. */
  readonly sampleShape: readonly number[];
  /** Shape of one label: [] for class indices. */
  readonly labelShape: readonly number[];
  /** Samples [start, end) (validationSplit takes the last ones). */
  slice(start: number, end?: number): TrainingData;
  /** Host batches in order, or shuffled by the seeded generator. */
  hostBatches(batchSize: number, opts?: { shuffle?: boolean; seed?: number | Rng }): Iterable<HostBatch>;
  /** Number of batches an epoch has. */
  batchCount(batchSize: number): number;
  /** Upload a host batch as tensors x [size, ...sampleShape], y [size, ...labelShape]. */
  toBatch(b: HostBatch): { x: Tensor; y: Tensor; size: number };
  /** Batches as tensors, in order (prediction). */
  batches(batchSize: number): Iterable<{ x: Tensor; y: Tensor; size: number }>;
}

/** A training batch as a batch transform sees it: a host batch and the shape of one sample. */
export interface TrainBatch extends HostBatch {
  readonly sampleShape: readonly number[];
}

/** Where in the run a batch is: the epoch, and the run's seed (fit's `seed`, or the random one drawn without it). */
export interface BatchTransformContext {
  epoch: number;
  seed: number;
}

/**
 * Rewrites one training batch before upload (augmentation, label smoothing, mixing...):
 * returns samples and labels of the same count and shapes. Validation and evaluation
 * batches are not transformed.
 */
export interface BatchTransform {
  (batch: TrainBatch, context: BatchTransformContext): { x: Float32Array; y: Labels };
  /** Optional: throw before training starts when the samples are not what the transform handles. */
  checkSamples?(sampleShape: readonly number[]): void;
}

/** A batch of a stream: a host batch that carries its sample and label shapes. */
export interface StreamHostBatch extends HostBatch {
  readonly sampleShape: readonly number[];
  readonly labelShape: readonly number[];
}

/**
 * A data set read as a stream, one pass per epoch (data/'s StreamDataset after `.batch(n)`):
 * its length is unknown until a pass ends, and each epoch calls `epochBatches` again.
 */
export interface StreamingTrainingData {
  epochBatches(epoch: number): AsyncIterable<StreamHostBatch>;
}

export function isStreaming(d: unknown): d is StreamingTrainingData {
  return typeof d === 'object' && d !== null && typeof (d as StreamingTrainingData).epochBatches === 'function';
}
