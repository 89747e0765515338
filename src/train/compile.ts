/**
 * compile: the optimiser, the loss and the metrics that fit and evaluate use (Keras's
 * semantics), resolved once from names, specs or objects.
 */
import { makeOptimizer, Optimizer, type OptimizerKind } from '../optim/optimizer.js';
import { resolveLoss, type LossFn, type LossName, type LossSpec, type ResolvedLoss } from './losses.js';
import { makeMetric, type MetricFn, type MetricSpec } from './metric_specs.js';

export interface CompileArgs {
  /** An optimiser, or its name ('sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta') with default settings, or { name, ...options }. */
  optimizer: Optimizer | OptimizerKind | ({ name: OptimizerKind } & Record<string, unknown>);
  /** A loss name, `{ name, fromLogits }`, or a function (yTrue, yPred) => scalar. */
  loss: LossName | LossSpec | LossFn;
  metrics?: readonly (string | MetricFn | { name: string; fn: MetricFn })[];
}

export interface Compiled extends ResolvedLoss {
  optimizer: Optimizer;
  metrics: MetricSpec[];
  /** Set once fit has warned that a loss taking probabilities sees no softmax or sigmoid output. */
  warnedLogits?: boolean;
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
  const loss = resolveLoss(args.loss);
  const metrics = (args.metrics ?? []).map((m) => makeMetric(m, loss.lossName, loss.expectsProbabilities));
  const seen = new Set<string>(['loss']);
  for (const m of metrics) {
    if (seen.has(m.name)) throw new RangeError(`compile: metric name '${m.name}' is used twice`);
    seen.add(m.name);
  }
  return { optimizer, ...loss, metrics };
}
