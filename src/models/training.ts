/**
 * Training methods for Model, added by prototype augmentation so that the model class
 * stays about architecture: `compile`, `fit`, `evaluate` (Keras's semantics; the loop
 * is in src/train/fit.ts, fit's options on top of it in ./fit.ts).
 *
 *   model.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
 *   const history = await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
 *   const { loss, accuracy } = await model.evaluate(xTest, yTest);
 */
import { Tensor } from '../tensor/tensor.js';
import { Dataset } from '../data/dataset.js';
import { StreamDataset } from '../data/stream.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { History, Logs } from '../train/callbacks.js';
import { resolveCompile, type CompileArgs, type Compiled } from '../train/compile.js';
import { evaluateDataset, evaluateDatasetAsync, predictDataset, predictDatasetAsync } from '../train/evaluate.js';
import { fitDataset, toDataset, toDatasetAsync, type FitOptions } from './fit.js';
import { Model } from './model.js';

declare module './model.js' {
  interface Model {
    /** Set by `compile`: the optimiser, loss and metrics that `fit` and `evaluate` use. */
    compiled?: Compiled;
    /** Set to true by a callback (EarlyStopping) to end `fit` after the current epoch. */
    stopTraining?: boolean;
    /** The compiled optimiser. */
    readonly optimizer: Optimizer | undefined;
    /** Choose the optimiser, the loss and the metrics (Keras's compile). */
    compile(args: CompileArgs): this;
    /**
     * Train on tensors x [N, ...] and y ([N] int32 class indices or [N, ...] targets), or on
     * a Dataset, or on a batched StreamDataset (read afresh each epoch; fit's batchSize and
     * validationSplit do not apply to it). Returns the per-epoch History (loss, metrics, val_*, lr, images_per_sec).
     */
    fit(x: Tensor, y: Tensor, opts?: FitOptions): Promise<History>;
    fit(data: Dataset | StreamDataset<unknown>, opts?: FitOptions): Promise<History>;
    /**
     * Loss and metrics on tensors or a Dataset, in inference mode. Asynchronous like fit,
     * so that it runs on every backend (webgpu reads results asynchronously).
     */
    evaluate(x: Tensor, y: Tensor, opts?: { batchSize?: number }): Promise<Logs>;
    evaluate(data: Dataset | StreamDataset<unknown>, opts?: { batchSize?: number }): Promise<Logs>;
    /** `evaluate` with synchronous reads, for backends that have them (ts, wasm); webgpu throws. */
    evaluateSync(x: Tensor, y: Tensor, opts?: { batchSize?: number }): Logs;
    evaluateSync(data: Dataset, opts?: { batchSize?: number }): Logs;
    /** Outputs for every sample of a Dataset as one host array (for metrics over big sets). */
    predictDataset(data: Dataset, opts?: { batchSize?: number }): { data: Float32Array; shape: number[] };
    /** `predictDataset` with asynchronous reads: works on every backend, webgpu included. */
    predictDatasetAsync(data: Dataset, opts?: { batchSize?: number }): Promise<{ data: Float32Array; shape: number[] }>;
    /** The same as `evaluate` (kept from when evaluate was synchronous). */
    evaluateAsync(data: Dataset, opts?: { batchSize?: number }): Promise<Logs>;
  }
}

function requireCompiled(m: Model, op: string): Compiled {
  if (!m.compiled) throw new Error(`${m.label}: call compile({ optimizer, loss, metrics }) before ${op}()`);
  return m.compiled;
}

Object.defineProperty(Model.prototype, 'optimizer', {
  get(this: Model) {
    return this.compiled?.optimizer;
  },
  configurable: true,
});

Model.prototype.compile = function (this: Model, args: CompileArgs) {
  this.compiled = resolveCompile(args);
  return this;
};

Model.prototype.fit = async function (this: Model, x: Tensor | Dataset | StreamDataset<unknown>, y?: Tensor | FitOptions, opts?: FitOptions): Promise<History> {
  const c = requireCompiled(this, 'fit');
  if (x instanceof Dataset || x instanceof StreamDataset) return fitDataset(this, c, x, (y as FitOptions | undefined) ?? {});
  return fitDataset(this, c, await toDatasetAsync(x, y instanceof Tensor ? y : undefined, 'fit'), opts ?? {});
} as Model['fit'];

Model.prototype.evaluate = async function (this: Model, x: Tensor | Dataset | StreamDataset<unknown>, y?: Tensor | { batchSize?: number }, opts?: { batchSize?: number }): Promise<Logs> {
  const c = requireCompiled(this, 'evaluate');
  if (x instanceof StreamDataset) {
    if (!x.batched) throw new TypeError('evaluate: a StreamDataset must be batched: call .batch(batchSize) on it');
    return evaluateDatasetAsync(this, c, x);
  }
  if (x instanceof Dataset) return evaluateDatasetAsync(this, c, x, (y as { batchSize?: number } | undefined)?.batchSize ?? 32);
  return evaluateDatasetAsync(this, c, await toDatasetAsync(x, y instanceof Tensor ? y : undefined, 'evaluate'), opts?.batchSize ?? 32);
} as Model['evaluate'];

Model.prototype.evaluateSync = function (this: Model, x: Tensor | Dataset, y?: Tensor | { batchSize?: number }, opts?: { batchSize?: number }): Logs {
  const c = requireCompiled(this, 'evaluateSync');
  if (x instanceof Dataset) return evaluateDataset(this, c, x, (y as { batchSize?: number } | undefined)?.batchSize ?? 32);
  return evaluateDataset(this, c, toDataset(x, y instanceof Tensor ? y : undefined, 'evaluateSync'), opts?.batchSize ?? 32);
} as Model['evaluateSync'];

Model.prototype.predictDataset = function (this: Model, data: Dataset, opts: { batchSize?: number } = {}) {
  return predictDataset(this, data, opts.batchSize ?? 128);
};

Model.prototype.predictDatasetAsync = function (this: Model, data: Dataset, opts: { batchSize?: number } = {}) {
  return predictDatasetAsync(this, data, opts.batchSize ?? 128);
};

Model.prototype.evaluateAsync = function (this: Model, data: Dataset, opts: { batchSize?: number } = {}) {
  return evaluateDatasetAsync(this, requireCompiled(this, 'evaluateAsync'), data, opts.batchSize ?? 32);
};
