/**
 * What `convkit train` does, as a function (the command parses flags and prints):
 * load the data, build the model, fit, measure held-out loss, accuracy and the
 * confusion matrix, and save the model with a note of how it was trained.
 */
import { getFallbacks } from '../registry/dispatch.js';
import type { Model } from '../models/model.js';
import * as zoo from '../models/zoo/index.js';
import type { OptimizerKind } from '../optim/optimizer.js';
import { cosineDecay } from '../optim/schedules.js';
import { confusionMatrix, type ConfusionMatrix } from '../train/metrics.js';
import { TerminateOnNaN, type Callback, type ProgressBarOptions, type StopRecord } from '../train/callbacks.js';
import { transformBatch, type AugmentOptions } from '../vision/augment.js';
import { Dataset } from '../data/dataset.js';
import { loadData, type DataChoice, type LoadedData } from './data_source.js';
import { confusionMatrixImage, historyChart } from '../plot/charts.js';
import type { Plot } from '../plot/scene.js';

/** The model each data set trains by default, with the options that make it fit the data. */
export type ScheduleName = 'constant' | 'cosine';

/**
 * Test-time augmentation of the held-out evaluation: 'flip' classifies each image and its mirror
 * image and averages the two softmax probabilities (the mirrored half of AlexNet's ten views);
 * 'none' classifies each image once.
 */
export type TtaName = 'none' | 'flip';
export const TTA_NAMES: readonly TtaName[] = ['none', 'flip'];

export const DEFAULT_MODELS: Record<string, { model: string; opts?: Record<string, unknown>; epochs: number; batchSize: number; lr: number; schedule?: ScheduleName; augment?: AugmentOptions; labelSmoothing?: number; tta?: TtaName; optimizer?: OptimizerKind; weightDecay?: number; why: string }> = {
  digits: { model: 'smallCnn8', epochs: 20, batchSize: 32, lr: 0.003, why: 'UCI 8x8 digits' },
  mnist: { model: 'smallCnn28', opts: { filters: [16, 32] }, epochs: 3, batchSize: 64, lr: 0.002, schedule: 'cosine', why: '28x28 digits' },
  // a third convolution at 7x7 (no pool after it), 16 epochs with random mirror images, AdamW (weight decay
  // 0.01) and label smoothing 0.1, the held-out images classified with their mirror images: 93.38-93.52% held out
  // over seeds 1-3, 93.45% on average (93.0-93.1% on single views), in 4.3-4.7 minutes on 2 cores (bench/README.md;
  // 15 epochs: 93.3% on average; random erasing or less dropout: within the seeds' spread; the 16/32 two-block model 92.5%)
  'fashion-mnist': {
    model: 'smallCnn28', opts: { filters: [16, 32, 64], pools: [true, true, false] }, epochs: 16, batchSize: 64, optimizer: 'adamw', weightDecay: 0.01, lr: 0.002,
    schedule: 'cosine', augment: { flipHorizontal: true }, labelSmoothing: 0.1, tta: 'flip', why: '28x28 clothes',
  },
  semeion: { model: 'smallCnn28', epochs: 15, batchSize: 32, lr: 0.001, why: '16x16 digits' },
};

export interface TrainRunOptions extends DataChoice {
  model?: string;
  modelOpts?: Record<string, unknown>;
  epochs?: number;
  batchSize?: number;
  /** Default the data set's preset for its default model, else 'adam'. */
  optimizer?: OptimizerKind;
  lr?: number;
  /** Weight decay of the optimizer (adamw: decoupled, as PyTorch's AdamW; the others: L2 added to the gradient); default the preset's, else the optimizer's own (adamw 0.01, others 0). */
  weightDecay?: number;
  /** 'constant' rate, or 'cosine': half-cosine decay from lr to 0 over all the steps of training. */
  schedule?: ScheduleName;
  seed?: number;
  validationSplit?: number;
  /** Augmentation on the fly; default the data set's (fashion-mnist: horizontal flips), `false` for none. */
  augment?: AugmentOptions | false;
  /**
   * Random erasing (torchvision's RandomErasing, default areas and ratios) with this probability, added to
   * the augmentation; default the data set's preset for its default model (AugmentOptions.erasing), else none.
   */
  erasing?: number;
  /** Label smoothing of the cross-entropy in [0, 1); default the data set's preset (0 unless it says otherwise). */
  labelSmoothing?: number;
  /** Test-time augmentation of the held-out evaluation; default the data set's preset for its default model, else 'none'. */
  tta?: TtaName;
  save?: string;
  /** Write the training curves and the confusion matrix as PNG and SVG in this folder (created if needed). */
  plot?: string;
  /** 0 silent, 1 progress (bar on a terminal). */
  verbose?: 0 | 1;
  progress?: ProgressBarOptions;
  callbacks?: Callback[];
  backend: string;
  /** How the log line names the backend (e.g. 'wasm (relaxed SIMD build)'); `backend` if absent. */
  backendLabel?: string;
}

export interface SplitResult {
  loss: number;
  accuracy: number;
}

export interface TrainResult {
  dataset: string;
  model: string;
  params: number;
  backend: string;
  optimizer: string;
  lr: number;
  schedule: ScheduleName;
  epochs: number;
  epochsRun: number;
  batchSize: number;
  seed: number;
  trainSamples: number;
  testSamples: number;
  testKind: string;
  /** Wall time of fit (training and any validation), seconds. */
  seconds: number;
  /** Training images per second of training time. */
  imagesPerSec: number;
  /** Running averages over the last epoch (as Keras reports them). */
  train: SplitResult;
  /** Held-out metrics, with the test-time augmentation `tta` (and then also `singleView`, each image classified once). */
  test: HeldOutResult;
  /** Test accuracy after each epoch is not measured (it would cost a pass); history per epoch: */
  history: Record<string, number[]>;
  saved: string | null;
  /** The chart files written with `plot` (loss, accuracy, confusion matrix; .png and .svg), or null. */
  plots: string[] | null;
  /** Kernels that ran on `ts` because the chosen backend lacks them. */
  fallbacks: string[];
  /** Why training ended before the last epoch (a callback such as EarlyStopping), or null. */
  stopped: StopRecord | null;
}

/** Training was stopped because the loss became NaN or infinite; the message names the epoch and step. */
export class TrainingStoppedError extends Error {
  constructor(readonly stop: StopRecord) {
    super(stop.reason);
    this.name = 'TrainingStoppedError';
  }
}

/**
 * Make sure `dir` can hold the saved model before training: create it (and its parents)
 * and write and remove a probe file. Throws an error naming the folder and the problem
 * (e.g. a parent that is a file, or no permission).
 */
export async function prepareSaveDir(dir: string, flag = '--save'): Promise<void> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const fail = (why: string): never => {
    throw new Error(`${flag} ${dir}: ${why}; expected a folder that can be created and written`);
  };
  // The nearest existing ancestor tells a file in the way from a missing permission.
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  if (fs.existsSync(probe) && !fs.statSync(probe).isDirectory()) {
    fail(probe === path.resolve(dir) ? `${dir} is a file, not a folder` : `${probe} is a file, not a folder, so ${dir} cannot be created`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(`cannot create the folder (${(e as Error).message})`);
  }
  const test = path.join(dir, `.convkit-write-test-${process.pid}`);
  try {
    fs.writeFileSync(test, '');
    fs.rmSync(test, { force: true });
  } catch (e) {
    fail(`cannot write in the folder (${(e as Error).message})`);
  }
}

/** Softmax cross-entropy and accuracy of logits [N, K] against labels, on the host. */
export function scoreLogits(logits: Float32Array, n: number, k: number, labels: ArrayLike<number>): SplitResult {
  let loss = 0, ok = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity, arg = 0;
    for (let j = 0; j < k; j++) {
      const v = logits[i * k + j];
      if (v > m) {
        m = v;
        arg = j;
      }
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits[i * k + j] - m);
    loss += Math.log(s) + m - logits[i * k + labels[i]];
    if (arg === labels[i]) ok++;
  }
  return { loss: loss / n, accuracy: ok / n };
}

export function buildModel(name: string, data: Dataset, seed: number, opts: Record<string, unknown> = {}): Model {
  return zoo.get(name, { classes: data.numClasses, inputShape: [...data.sampleShape], seed, ...opts });
}

export interface HeldOutResult extends SplitResult {
  top5?: number;
  /** The test-time augmentation the loss and accuracy were measured with. */
  tta: TtaName;
  /** With tta 'flip': loss and accuracy of single views (each image classified once). */
  singleView?: SplitResult;
}

/** The same images mirrored left to right (samples [H, W, C]). */
function mirrored(ds: Dataset): Dataset {
  const [h, w, c] = ds.sampleShape;
  const { data } = transformBatch({ data: ds.x, shape: [ds.length, h, w, c] }, { flipH: true });
  return new Dataset({ x: data, y: ds.y, sampleShape: ds.sampleShape, numClasses: ds.numClasses, classNames: ds.classNames });
}

/** Log of the mean of the softmax probabilities of two logit rows [N, K] (the log-probabilities of the average). */
function averageProbabilities(a: Float32Array, b: Float32Array, n: number, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let ma = -Infinity, mb = -Infinity;
    for (let j = 0; j < k; j++) {
      ma = Math.max(ma, a[i * k + j]);
      mb = Math.max(mb, b[i * k + j]);
    }
    let sa = 0, sb = 0;
    for (let j = 0; j < k; j++) {
      sa += Math.exp(a[i * k + j] - ma);
      sb += Math.exp(b[i * k + j] - mb);
    }
    for (let j = 0; j < k; j++) out[i * k + j] = Math.log((Math.exp(a[i * k + j] - ma) / sa + Math.exp(b[i * k + j] - mb) / sb) / 2);
  }
  return out;
}

/**
 * Held-out metrics and confusion matrix of `model` on `test`; with tta 'flip' (images [H, W, C]
 * only) from the average of each image's and its mirror image's probabilities.
 */
export async function heldOut(model: Model, test: Dataset, batchSize = 256, tta: TtaName = 'none'): Promise<{ result: HeldOutResult; matrix: ConfusionMatrix }> {
  if (!TTA_NAMES.includes(tta)) throw new RangeError(`heldOut: tta must be one of ${TTA_NAMES.join(', ')}, received ${JSON.stringify(tta)}`);
  if (tta === 'flip' && test.sampleShape.length !== 3) {
    throw new RangeError(`heldOut: tta 'flip' mirrors images [height, width, channels], and the samples have shape [${test.sampleShape.join(', ')}]`);
  }
  // Asynchronous reads: the model may live on webgpu.
  const p = await model.predictDatasetAsync(test, { batchSize });
  const k = p.shape[1];
  let scores = p.data;
  let singleView: SplitResult | undefined;
  if (tta === 'flip') {
    singleView = scoreLogits(p.data, test.length, k, test.y);
    const q = await model.predictDatasetAsync(mirrored(test), { batchSize });
    scores = averageProbabilities(p.data, q.data, test.length, k);
  }
  const result: HeldOutResult = { ...scoreLogits(scores, test.length, k, test.y), tta, ...(singleView ? { singleView } : {}) };
  const matrix = confusionMatrix({ data: scores, shape: [test.length, k] }, test.y, { numClasses: test.numClasses, classNames: test.classNames });
  if (k > 5) {
    let ok = 0;
    for (let i = 0; i < test.length; i++) {
      const t = scores[i * k + test.y[i]];
      let higher = 0;
      for (let j = 0; j < k; j++) if (scores[i * k + j] > t) higher++;
      if (higher < 5) ok++;
    }
    result.top5 = ok / test.length;
  }
  return { result, matrix };
}

/**
 * The training curves (loss.*, accuracy.*: training and, with a validation split,
 * validation values per epoch) and the held-out confusion matrix (confusion_matrix.*), each
 * as PNG and SVG in `dir`. Returns the paths written.
 */
export async function writePlots(dir: string, history: Record<string, number[]>, matrix: ConfusionMatrix, what: string): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const charts: [string, Plot][] = [];
  for (const metric of ['loss', 'accuracy']) {
    // A NaN epoch cannot be drawn; training stopped on it is reported elsewhere.
    const keys = [metric, `val_${metric}`].filter((k) => history[k]?.length && history[k].every(Number.isFinite));
    if (keys.length) charts.push([metric, historyChart(Object.fromEntries(keys.map((k) => [k, history[k]])), { metric, title: `${metric}: ${what}` })]);
  }
  charts.push(['confusion_matrix', confusionMatrixImage(matrix, { title: `held-out confusion matrix: ${what}` })]);
  const written: string[] = [];
  for (const [name, chart] of charts) {
    for (const [ext, body] of [['png', chart.png()], ['svg', chart.svg()]] as const) {
      const file = path.join(dir, `${name}.${ext}`);
      fs.writeFileSync(file, body);
      written.push(file);
    }
  }
  return written;
}

/** Train as `convkit train` does. Returns the result, the confusion matrix and the model. */
export async function runTraining(o: TrainRunOptions, log: (line: string) => void = () => {}): Promise<{ result: TrainResult; matrix: ConfusionMatrix; model: Model; data: LoadedData }> {
  // A folder that cannot be written fails now, not after the training it would have kept.
  if (o.save) await prepareSaveDir(o.save);
  if (o.plot) await prepareSaveDir(o.plot, '--plot');
  const data = await loadData(o);
  const preset = DEFAULT_MODELS[data.name] ?? DEFAULT_MODELS[o.dataset] ?? (data.train.sampleShape[0] === 8 ? DEFAULT_MODELS.digits : DEFAULT_MODELS.mnist);
  const modelName = o.model ?? preset.model;
  const seed = o.seed ?? 1;
  const model = buildModel(modelName, data.train, seed, o.model ? o.modelOpts : { ...preset.opts, ...o.modelOpts });
  const epochs = o.epochs ?? preset.epochs;
  // the data set's augmentation applies to its default model only (another model gets none unless asked)
  let augment = o.augment === false ? undefined : o.augment ?? (o.model ? undefined : preset.augment);
  if (o.erasing !== undefined) {
    if (!(typeof o.erasing === 'number' && o.erasing >= 0 && o.erasing <= 1)) throw new RangeError(`erasing must be a probability in [0, 1], received ${String(o.erasing)}`);
    const { erasing: _dropped, ...rest } = augment ?? {};
    augment = o.erasing > 0 ? { ...rest, erasing: o.erasing } : Object.keys(rest).length ? rest : undefined;
  }
  const batchSize = o.batchSize ?? preset.batchSize;
  const labelSmoothing = o.labelSmoothing ?? (o.model ? 0 : preset.labelSmoothing ?? 0);
  const tta = o.tta ?? (o.model ? 'none' : preset.tta ?? 'none');
  if (!TTA_NAMES.includes(tta)) throw new RangeError(`tta must be one of ${TTA_NAMES.join(', ')}, received ${JSON.stringify(tta)}`);
  const optimizer = o.optimizer ?? (o.model ? undefined : preset.optimizer) ?? 'adam';
  const weightDecay = o.weightDecay ?? (o.model || o.optimizer ? undefined : preset.weightDecay);
  const lr = o.lr ?? (optimizer === 'adam' || optimizer === 'adamw' ? preset.lr : optimizer === 'sgd' || optimizer === 'momentum' || optimizer === 'nesterov' ? 0.01 : 0.001);
  const schedule = o.schedule ?? preset.schedule ?? 'constant';
  const rate = schedule === 'cosine' ? cosineDecay({ initial: lr, decaySteps: Math.max(1, epochs * data.train.batchCount(batchSize)) }) : lr;
  model.compile({ optimizer: { name: optimizer, lr: rate, ...(weightDecay !== undefined ? { weightDecay } : {}) }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true, ...(labelSmoothing ? { labelSmoothing } : {}) }, metrics: ['accuracy'] });
  const params = model.countParams('trainable');
  const [h, w, c] = data.train.sampleShape;
  log(`convkit train: ${data.name}, ${data.train.length} training / ${data.test.length} held-out images (${h}x${w}x${c}, ${data.train.numClasses} classes; held-out: ${data.testKind})`);
  log(`model ${modelName} (${params.toLocaleString('en-US')} trainable parameters), backend ${o.backendLabel ?? o.backend}, ${optimizer} lr ${lr}${weightDecay !== undefined ? ` weight decay ${weightDecay}` : ''}${schedule === 'cosine' ? ' (cosine decay to 0)' : ''}, batch ${batchSize}, ${epochs} epochs, seed ${seed}${augment ? `, augmentation on (${describeAugment(augment)})` : ''}${labelSmoothing ? `, label smoothing ${labelSmoothing}` : ''}${tta === 'flip' ? ', held-out images classified with their mirror images (tta flip)' : ''}`);
  const t0 = performance.now();
  // NaN stops are reported by the caller (TrainingStoppedError), not printed by the callback.
  const callbacks = [...(o.callbacks ?? [])];
  if (!callbacks.some((c) => c instanceof TerminateOnNaN)) callbacks.push(new TerminateOnNaN({ verbose: 0 }));
  const history = await model.fit(data.train, {
    epochs, batchSize, seed, verbose: o.verbose ?? 1, progress: o.progress, validationSplit: o.validationSplit, augment, callbacks,
  });
  // A model whose weights went NaN is neither evaluated nor saved.
  if (history.stopped?.by === 'TerminateOnNaN') throw new TrainingStoppedError(history.stopped);
  const seconds = (performance.now() - t0) / 1000;
  const trainSeconds = history.history.seconds.reduce((a, b) => a + b, 0);
  const epochsRun = history.epoch.length;
  const { result: test, matrix } = await heldOut(model, data.test, 256, tta);
  let saved: string | null = null;
  if (o.save) {
    await model.save(o.save);
    const fs = await import('node:fs');
    const note = {
      format: 'convkit-training/1', dataset: o.dataset, dataDir: o.dataDir ?? null, testSplit: o.testSplit ?? 0.2, splitSeed: o.splitSeed ?? 0,
      model: modelName, inputShape: data.train.sampleShape, classNames: data.train.classNames ?? null, numClasses: data.train.numClasses,
      epochs: epochsRun, tta, test,
    };
    fs.writeFileSync(`${o.save.replace(/\/$/, '')}/training.json`, JSON.stringify(note, null, 2) + '\n');
    saved = o.save;
  }
  const plots = o.plot ? await writePlots(o.plot, history.history, matrix, `${modelName} on ${data.name}`) : null;
  const result: TrainResult = {
    dataset: data.name, model: modelName, params, backend: o.backend, optimizer, lr, schedule, epochs, epochsRun, batchSize, seed,
    trainSamples: data.train.length, testSamples: data.test.length, testKind: data.testKind,
    seconds, imagesPerSec: (data.train.length * epochsRun) / Math.max(trainSeconds, 1e-9),
    train: { loss: history.last('loss')!, accuracy: history.last('accuracy')! },
    test, history: history.history, saved, plots,
    fallbacks: getFallbacks().map((f) => `${f.kernel} (${f.reason}, ${f.count}x)`),
    stopped: history.stopped,
  };
  return { result, matrix, model, data };
}

/** 'flips, crops 2 px, ...': the augmentation options that are on, for the log line. */
function describeAugment(a: AugmentOptions): string {
  return Object.entries(a).filter(([, v]) => v !== undefined && v !== false && v !== 0).map(([k, v]) => (v === true ? k : `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)).join(', ');
}
