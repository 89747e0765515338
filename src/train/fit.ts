/**
 * The training loop behind Model.fit (Keras's semantics): mini-batches from a data set,
 * an optional batch transform (augmentation), one optimiser step per batch, running loss
 * and metrics, validation each epoch, callbacks.
 *
 * One step: tidy(() => { loss = lossFn(y, model.apply(x, {training: true})) +
 * regularisation; loss.backward() }); optimizer.step(trainableWeights); zero grads.
 *
 * The rest of fit lives beside it, one concern a file: compile.ts (optimiser, loss and
 * metric resolution, with losses.ts and metric_specs.ts), fit_options.ts (options and
 * the validation split), batch_step.ts (one batch), evaluate.ts (evaluate and predict
 * over a data set), callbacks.ts (History, progress, early stopping...).
 */
import { Rng } from '../ops/random.js';
import { Accumulator, batchStepAsync } from './batch_step.js';
import { allWeights, CallbackList, History, ProgressBar, TerminateOnNaN, type Callback, type Logs, type TrainableModel, type TrainParams } from './callbacks.js';
import type { Compiled } from './compile.js';
import { evaluateDatasetAsync } from './evaluate.js';
import { planFit, planStreamFit, type TrainingLoopOptions } from './fit_options.js';
import { isStreaming, type HostBatch, type StreamHostBatch, type StreamingTrainingData, type TrainingData } from './training_data.js';
import { streamBatchSource, type BatchSource } from './batch_step.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

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

/** The random streams of an epoch: the shuffle, and the batch transform's (augmentation, see vision/augment.ts). */
export const SHUFFLE_STREAM = 0;
export const TRANSFORM_STREAM = 1;

/**
 * Train `model` on `data` (Keras's fit over a data set; `model.fit` and `ck.fitDataset`
 * call it with their options turned into these). Returns the History of per-epoch logs.
 */
export async function trainingLoop(model: TrainableModel, c: Compiled, data: TrainingData | StreamingTrainingData, opts: TrainingLoopOptions = {}): Promise<History> {
  const stream = isStreaming(data) ? data : null;
  const { epochs, batchSize, initialEpoch, verbose, seed, train, val } = stream ? planStreamFit(stream, opts) : planFit(data as TrainingData, opts);
  const transform = opts.batchTransform ?? null;
  if (train) transform?.checkSamples?.(train.sampleShape);

  const history = new History();
  const userCallbacks = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks as Callback];
  const list = new CallbackList([history, ...userCallbacks]);
  if ((opts.terminateOnNaN ?? true) && !userCallbacks.some((cb) => cb instanceof TerminateOnNaN)) list.append(new TerminateOnNaN({ verbose: verbose > 0 ? 1 : 0 }));
  if (verbose > 0) list.append(new ProgressBar(verbose === 2 ? { ...opts.progress, tty: false } : opts.progress));
  const names = ['loss', ...c.metrics.map((m) => m.name)];
  const params: TrainParams = {
    epochs, initialEpoch, batchSize, samples: train ? train.length : NaN, steps: train ? train.batchCount(batchSize) : NaN, verbose,
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
    // A stream is read afresh each epoch (its own shuffle buffer reshuffles per pass); fit's `shuffle` is for in-memory data.
    const source: Iterable<HostBatch> | AsyncIterable<StreamHostBatch> = train ? train.hostBatches(batchSize, { shuffle: opts.shuffle ?? true, seed: shuffleRng }) : stream!.epochBatches(epoch);
    for await (const b of source) {
      const ds: BatchSource = train ?? streamBatchSource(b as StreamHostBatch, batch);
      if (!train && epoch === initialEpoch && batch === 0) transform?.checkSamples?.((b as StreamHostBatch).sampleShape);
      await list.onBatchBegin(batch, { batch, size: b.size });
      const { x: xb, y: yb } = transform ? transform({ ...b, sampleShape: train ? train.sampleShape : (b as StreamHostBatch).sampleShape }, { epoch, seed }) : b;
      // Read the weights each step: a callback may freeze or unfreeze layers (fine-tuning).
      const trainable = model.trainableWeights;
      try {
        await batchStepAsync(model, c, ds, xb, yb, b.size, true, acc, warn);
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
    if (stream) {
      // Now the stream's length is known (the progress bar shows it from the next epoch).
      params.steps = batch;
      params.samples = seen;
    }
    if (stream && batch === 0 && !model.stopTraining) throw new RangeError(`fit: the stream yielded no batches in epoch ${epoch + 1} (is its generator factory returning a fresh iterator each time?)`);
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

