/** Training: compile/fit/evaluate machinery, callbacks, metrics, ensembles, test-time augmentation. */
export {
  CallbackList, BaseCallback, History, EarlyStopping, TerminateOnNaN, LearningRateScheduler, ReduceLROnPlateauCallback, ProgressBar, allWeights,
} from './callbacks.js';
export type {
  Callback, Logs, TrainParams, TrainableModel, EarlyStoppingOptions, TerminateOnNaNOptions, StopRecord, ReduceLROnPlateauOptions, ProgressBarOptions,
} from './callbacks.js';
export { resolveCompile, fitDataset, evaluateDataset, predictDataset, LOSS_NAMES } from './fit.js';
export type { CompileArgs, Compiled, FitOptions, LossFn, LossName, LossSpec, KerasLossName, MetricFn, AugmentArg } from './fit.js';
export { accuracy, topKAccuracy, topKCorrect, topK, confusionMatrix, ConfusionMatrix, argMaxRows } from './metrics.js';
export { Ensemble, ensemble, predictInBatches } from './ensemble.js';
export type { Predictor, EnsembleOptions } from './ensemble.js';
export { multiCrops, multiCropPredict } from './tta.js';
export type { MultiCropOptions } from './tta.js';
