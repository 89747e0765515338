/** Optimisers (PyTorch update rules and defaults) and learning-rate schedules. */
export {
  Optimizer, SGD, Adam, AdamW, RMSprop, AdaGrad, AdaDelta, makeOptimizer, OPTIMIZER_NAMES, OPTIMIZER_OPTIONS,
} from './optimizer.js';
export type {
  LearningRate, OptimizerName, OptimizerKind, OptimizerConfig, ParamState,
  SGDOptions, AdamOptions, RMSpropOptions, AdaGradOptions, AdaDeltaOptions,
} from './optimizer.js';
export {
  constant, stepDecay, exponentialDecay, cosineDecay, scheduleFromConfig, ReduceLROnPlateau, reduceOnPlateau,
} from './schedules.js';
export type { Schedule, ScheduleConfig, PlateauOptions, LrScalable } from './schedules.js';
