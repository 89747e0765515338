/**
 * fit's options, checked, and the split of the data into training and validation parts
 * (Keras's rules: validationSplit holds out the LAST samples, before shuffling).
 */
import type { Callback, ProgressBarOptions } from './callbacks.js';
import type { BatchTransform, StreamingTrainingData, TrainingData } from './training_data.js';

/** The training loop's options. The models floor adds `augment` and validation tensors (models/fit.ts). */
export interface TrainingLoopOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the training data held out for validation: the LAST samples, before shuffling (Keras). */
  validationSplit?: number;
  /** In-memory data, or a batched stream (one pass per evaluation). */
  validationData?: TrainingData | StreamingTrainingData;
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
  /** Rewrite every training batch on the host before upload (augmentation); validation batches are left alone. */
  batchTransform?: BatchTransform;
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

/** The options with their defaults, checked, and the data split into its training and validation parts. */
export interface FitPlan {
  epochs: number;
  batchSize: number;
  initialEpoch: number;
  verbose: 0 | 1 | 2;
  seed: number;
  train: TrainingData;
  val: TrainingData | StreamingTrainingData | null;
}

/** The options of fit over a stream (each epoch one pass; the stream batches itself), checked. */
export function planStreamFit(_data: StreamingTrainingData, opts: TrainingLoopOptions): Omit<FitPlan, 'train'> & { train: null } {
  if (opts.batchSize !== undefined) throw new RangeError('fit: batchSize does not apply to a StreamDataset: it is batched by its own .batch(n)');
  if (opts.validationSplit !== undefined && opts.validationSplit > 0) throw new RangeError('fit: validationSplit needs an in-memory data set (a stream has no last samples to hold out): pass validationData instead');
  const { epochs, initialEpoch, verbose, seed } = planFit(null, { ...opts, validationSplit: undefined });
  const val = opts.validationData ?? null;
  return { epochs, batchSize: opts.validationBatchSize ?? 32, initialEpoch, verbose, seed, train: null, val };
}

export function planFit(data: TrainingData, opts: TrainingLoopOptions): FitPlan;
export function planFit(data: null, opts: TrainingLoopOptions): Omit<FitPlan, 'train'> & { train: null };
export function planFit(data: TrainingData | null, opts: TrainingLoopOptions): FitPlan | (Omit<FitPlan, 'train'> & { train: null }) {
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  const initialEpoch = opts.initialEpoch ?? 0;
  const verbose = opts.verbose ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, received ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`fit: batchSize must be a positive integer, received ${opts.batchSize}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new RangeError(`fit: initialEpoch must be a non-negative integer, received ${opts.initialEpoch}`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new RangeError(`fit: seed must be an integer, received ${opts.seed}`);
  if (data === null) return { epochs, batchSize, initialEpoch, verbose, seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31), train: null, val: opts.validationData ?? null };
  if (data.length === 0) throw new RangeError('fit: the training data is empty');

  let train = data;
  let val: TrainingData | StreamingTrainingData | null = null;
  if (opts.validationData) {
    val = opts.validationData;
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
  return { epochs, batchSize, initialEpoch, verbose, seed, train, val };
}
