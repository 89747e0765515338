/**
 * Loss resolution for compile: the named losses (Keras's and convkit's own), `{ name,
 * fromLogits }` specs and user functions, each resolved to a LossFn (yTrue, yPred) -> scalar.
 */
import type { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/elementwise.js';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, softmaxCrossEntropy } from '../ops/loss.js';
import * as kerasLosses from '../ops/keras_losses.js';

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
  /**
   * For the Keras cross-entropies: label smoothing in [0, 1) (default 0), as Keras's
   * `label_smoothing` and PyTorch's `label_smoothing` (targets t (1 - s) + s / classes).
   */
  labelSmoothing?: number;
}

const matchDtype = (y: Tensor, p: Tensor): Tensor => (y.dtype === p.dtype ? y : cast(y, p.dtype));
const sameShape = (y: Tensor, p: Tensor): Tensor => (y.rank === 1 && p.rank === 2 && p.shape[1] === 1 ? y.reshape([y.shape[0], 1]) : y);
const logitsXent: LossFn = (y, p) => softmaxCrossEntropy(p, y.dtype === 'int32' ? y : matchDtype(y, p));

export type Canonical = 'sparse' | 'categorical' | 'binary';
export const KERAS_CE: Record<KerasLossName, Canonical> = {
  sparseCategoricalCrossentropy: 'sparse', sparse_categorical_crossentropy: 'sparse',
  categoricalCrossentropy: 'categorical', categorical_crossentropy: 'categorical',
  binaryCrossentropy: 'binary', binary_crossentropy: 'binary',
};
export const isKerasCE = (n: string): n is KerasLossName => Object.prototype.hasOwnProperty.call(KERAS_CE, n);

function kerasCE(kind: Canonical, fromLogits: boolean, labelSmoothing = 0): LossFn {
  const o = { fromLogits, labelSmoothing };
  if (kind === 'sparse') return (y, p) => kerasLosses.sparseCategoricalCrossentropy(y, p, o);
  if (kind === 'categorical') return (y, p) => kerasLosses.categoricalCrossentropy(matchDtype(y, p), p, o);
  return (y, p) => kerasLosses.binaryCrossentropy(sameShape(matchDtype(y, p), p), p, o);
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

/** A loss as compile resolves it. */
export interface ResolvedLoss {
  loss: LossFn;
  lossName: string;
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
}

/** A loss name, `{ name, fromLogits }` or a function, resolved (compile's errors for unknown names and options). */
export function resolveLoss(l: LossName | LossSpec | LossFn): ResolvedLoss {
  if (typeof l === 'function') return { loss: l, lossName: l.name || 'loss', lossFromOneHot: null, expectsProbabilities: false };
  const spec: LossSpec = typeof l === 'string' ? { name: l } : l && typeof l === 'object' ? l : ({ name: String(l) } as LossSpec);
  const known = `known: ${LOSS_NAMES.join(', ')}, { name, fromLogits, labelSmoothing }, or a function (yTrue, yPred) => scalar`;
  if (typeof spec.name !== 'string') throw new TypeError(`compile: loss must be a name, { name, fromLogits } or a function, received ${JSON.stringify(l)} (${known})`);
  const extra = Object.keys(spec).filter((k) => k !== 'name' && k !== 'fromLogits' && k !== 'labelSmoothing');
  if (extra.length) throw new RangeError(`compile: loss option '${extra[0]}' is not known (options: name, fromLogits, labelSmoothing)`);
  if (spec.fromLogits !== undefined && typeof spec.fromLogits !== 'boolean') {
    throw new TypeError(`compile: loss fromLogits must be true or false, received ${JSON.stringify(spec.fromLogits)}`);
  }
  const ls = spec.labelSmoothing;
  if (ls !== undefined && (typeof ls !== 'number' || !(ls >= 0 && ls < 1))) {
    throw new RangeError(`compile: loss labelSmoothing must be a number in [0, 1), received ${JSON.stringify(ls)}`);
  }
  if (isKerasCE(spec.name)) {
    const kind = KERAS_CE[spec.name];
    const fromLogits = spec.fromLogits ?? false;
    return {
      loss: kerasCE(kind, fromLogits, ls),
      lossName: spec.name,
      lossFromOneHot: kind === 'binary' ? null : kerasCE('categorical', fromLogits, ls),
      expectsProbabilities: !fromLogits,
    };
  }
  const f = OTHER_LOSSES[spec.name as Exclude<LossName, KerasLossName>];
  if (!f || !Object.prototype.hasOwnProperty.call(OTHER_LOSSES, spec.name)) throw new RangeError(`compile: unknown loss '${spec.name}' (${known})`);
  if (ls !== undefined) throw new RangeError(`compile: loss '${spec.name}' has no labelSmoothing option (only the Keras cross-entropies have one)`);
  if (spec.fromLogits !== undefined) {
    throw new RangeError(
      `compile: loss '${spec.name}' has no fromLogits option (${spec.name === 'binaryCrossEntropy' ? "it takes probabilities; use 'binaryCrossEntropyWithLogits' for logits" : 'only the Keras cross-entropies have one'})`,
    );
  }
  const logitsLoss = spec.name === 'softmaxCrossEntropy' || spec.name === 'crossEntropy';
  return { loss: f, lossName: spec.name, lossFromOneHot: logitsLoss ? logitsXent : null, expectsProbabilities: false };
}
