/**
 * Training: compile and the fit loop (over any data set shaped like `TrainingData`),
 * evaluation, callbacks, metrics, ensembles. `fitDataset` with fit's `augment` option is
 * the models floor's (src/models/fit.ts); multi-crop test-time augmentation is vision's.
 */
export {
  CallbackList, BaseCallback, History, EarlyStopping, TerminateOnNaN, LearningRateScheduler, ReduceLROnPlateauCallback, ProgressBar, allWeights,
} from './callbacks.js';
export type {
  Callback, Logs, TrainParams, TrainableModel, EarlyStoppingOptions, TerminateOnNaNOptions, StopRecord, ReduceLROnPlateauOptions, ProgressBarOptions,
} from './callbacks.js';
export { resolveCompile } from './compile.js';
export type { CompileArgs, Compiled } from './compile.js';
export { LOSS_NAMES } from './losses.js';
export type { LossFn, LossName, LossSpec, KerasLossName } from './losses.js';
export type { MetricFn } from './metric_specs.js';
export { trainingLoop } from './fit.js';
export type { TrainingLoopOptions } from './fit_options.js';
export type { TrainingData, TrainBatch, BatchTransform, BatchTransformContext } from './training_data.js';
export { evaluateDataset, predictDataset } from './evaluate.js';
export { accuracy, topKAccuracy, topKCorrect, topK, confusionMatrix, ConfusionMatrix, argMaxRows } from './metrics.js';
export { Ensemble, ensemble, predictInBatches } from './ensemble.js';
export type { Predictor, EnsembleOptions } from './ensemble.js';
