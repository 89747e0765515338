/**
 * Training callbacks (Keras's hooks and names): History, EarlyStopping,
 * LearningRateScheduler, ReduceLROnPlateau, ProgressBar, and CallbackList that runs
 * them in order. Hooks may return promises (awaited), so a browser page can redraw a
 * chart between epochs. Nothing here imports Node modules: the progress bar writes to
 * process.stdout when it exists and to console.log otherwise.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import { ReduceLROnPlateau as PlateauScheduler } from '../optim/schedules.js';
import { tensor } from '../ops/creation.js';

/** Numbers reported to callbacks: loss, metrics, 'val_' + each, lr, images_per_sec, seconds. */
export type Logs = Record<string, number>;

/** What fit() trains: anything with a forward pass and weights. */
export interface TrainableModel {
  apply(x: Tensor, opts?: { training?: boolean }): Tensor;
  readonly trainableWeights: readonly Tensor[];
  /** Frozen weights and statistics such as batch norm's running mean and variance. */
  readonly nonTrainableWeights?: readonly Tensor[];
  regularizationLoss?(): Tensor | null;
  /** Set to true (by EarlyStopping or any callback) to end fit() after the current epoch. */
  stopTraining?: boolean;
  name?: string;
}

/** What fit() tells callbacks before training starts. */
export interface TrainParams {
  epochs: number;
  initialEpoch: number;
  /** Batches per epoch. */
  steps: number;
  samples: number;
  batchSize: number;
  /** Names of the logged values: loss, metrics and their val_ versions. */
  metrics: string[];
  doValidation: boolean;
  optimizer: Optimizer;
  verbose: number;
}

export interface Callback {
  setModel?(model: TrainableModel): void;
  setParams?(params: TrainParams): void;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** Base class keeping the model and params, with no-op hooks. */
export class BaseCallback implements Callback {
  model!: TrainableModel;
  params!: TrainParams;
  setModel(model: TrainableModel): void {
    this.model = model;
  }
  setParams(params: TrainParams): void {
    this.params = params;
  }
}

/** Runs callbacks in order, awaiting each hook. */
export class CallbackList {
  readonly callbacks: Callback[];
  constructor(callbacks: readonly Callback[] = []) {
    this.callbacks = [...callbacks];
  }
  append(cb: Callback): void {
    this.callbacks.push(cb);
  }
  setModel(m: TrainableModel): void {
    for (const c of this.callbacks) c.setModel?.(m);
  }
  setParams(p: TrainParams): void {
    for (const c of this.callbacks) c.setParams?.(p);
  }
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(logs);
  }
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(logs);
  }
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs);
  }
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin?.(batch, logs);
  }
  async onBatchEnd(batch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
  }
}

/** Records every epoch's logs: `history.history.loss[e]`, `history.epoch`. fit() returns it. */
export class History extends BaseCallback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  onTrainBegin(): void {
    this.epoch = [];
    this.history = {};
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
  /** The last value of `key`. */
  last(key: string): number | undefined {
    const h = this.history[key];
    return h ? h[h.length - 1] : undefined;
  }
}

type Mode = 'auto' | 'min' | 'max';
function resolveMode(mode: Mode, monitor: string): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|top\d|auc|precision|recall/.test(monitor) ? 'max' : 'min';
}

/** Every weight tensor of a model, trainable ones first. */
export function allWeights(m: TrainableModel): Tensor[] {
  return [...m.trainableWeights, ...(m.nonTrainableWeights ?? [])];
}

/** Values of every weight, to restore later (EarlyStopping's restoreBestWeights). */
function snapshot(m: TrainableModel): Float32Array[] | Float64Array[] {
  return allWeights(m).map((w) => (w.dtype === 'float64' ? Float64Array.from(w.dataSync()) : Float32Array.from(w.dataSync()))) as Float32Array[];
}
function restore(m: TrainableModel, values: ArrayLike<number>[]): void {
  const ws = allWeights(m);
  if (ws.length !== values.length) throw new Error(`EarlyStopping: the model has ${ws.length} weights now, ${values.length} when the best epoch was saved`);
  ws.forEach((w, i) => w.assign(tensor(values[i] as Float32Array, w.shape, w.dtype)));
}

export interface EarlyStoppingOptions {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** A change smaller than this is no improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  mode?: Mode;
  /** Stop unless the value beats this baseline. */
  baseline?: number;
  /** Put back the weights of the best epoch when stopping (default false). */
  restoreBestWeights?: boolean;
}

/** Keras's EarlyStopping: end training when `monitor` has stopped improving for `patience` epochs. */
export class EarlyStopping extends BaseCallback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  wait = 0;
  best = NaN;
  bestEpoch = -1;
  /** The epoch after which training stopped (-1 if it did not). */
  stoppedEpoch = -1;
  private bestWeights: ArrayLike<number>[] | null = null;
  private warned = false;

  constructor(opts: EarlyStoppingOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'val_loss';
    this.minDelta = Math.abs(opts.minDelta ?? 0);
    this.patience = opts.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`EarlyStopping: patience must be a non-negative integer, received ${opts.patience}`);
    this.mode = resolveMode(opts.mode ?? 'auto', this.monitor);
    this.baseline = opts.baseline;
    this.restoreBestWeights = opts.restoreBestWeights ?? false;
  }

  private improved(v: number, ref: number): boolean {
    if (Number.isNaN(ref)) return true;
    return this.mode === 'min' ? v < ref - this.minDelta : v > ref + this.minDelta;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.best = NaN;
    this.bestEpoch = -1;
    this.bestWeights = null;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined) {
      if (!this.warned) console.warn(`EarlyStopping: '${this.monitor}' is not logged (available: ${Object.keys(logs).join(', ')}); not stopping`);
      this.warned = true;
      return;
    }
    if (this.restoreBestWeights && this.bestWeights === null) this.bestWeights = snapshot(this.model);
    this.wait++;
    if (this.improved(v, this.best)) {
      this.best = v;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = snapshot(this.model);
      // Only restart the wait if we beat both the baseline and our previous best.
      if (this.baseline === undefined || this.improved(v, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) restore(this.model, this.bestWeights);
    }
  }
}

/**
 * Keras's LearningRateScheduler: before each epoch, set the optimiser's rate to
 * `schedule(epoch, currentRate)`. (A per-step schedule can instead be given to the
 * optimiser as its `lr`.)
 */
export class LearningRateScheduler extends BaseCallback {
  constructor(readonly schedule: (epoch: number, lr: number) => number) {
    super();
  }
  onEpochBegin(epoch: number): void {
    const opt = this.params.optimizer;
    const lr = this.schedule(epoch, opt.currentLr());
    if (typeof lr !== 'number' || !(lr >= 0)) throw new RangeError(`LearningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch}; expected a number >= 0`);
    opt.lr = lr / opt.lrMultiplier;
  }
}

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  /** New rate = rate * factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  mode?: Mode;
  /** Smallest absolute change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  minLr?: number;
}

/**
 * Keras's ReduceLROnPlateau callback: multiply the optimiser's rate by `factor` once
 * `monitor` has not improved for `patience` epochs. Built on optim's scheduler of the
 * same name (PyTorch's rule, which counts patience one epoch later than Keras; the
 * difference is absorbed here).
 */
export class ReduceLROnPlateauCallback extends BaseCallback {
  readonly monitor: string;
  private readonly opts: ReduceLROnPlateauOptions;
  private scheduler: PlateauScheduler | null = null;
  private warned = false;
  constructor(opts: ReduceLROnPlateauOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'val_loss';
    this.opts = opts;
  }
  /** Reductions made so far. */
  get reductions(): number {
    return this.scheduler?.reductions ?? 0;
  }
  onTrainBegin(): void {
    const o = this.opts;
    this.scheduler = new PlateauScheduler(this.params.optimizer, {
      mode: resolveMode(o.mode ?? 'auto', this.monitor),
      factor: o.factor ?? 0.1,
      patience: Math.max(0, (o.patience ?? 10) - 1),
      threshold: o.minDelta ?? 1e-4,
      thresholdMode: 'abs',
      cooldown: o.cooldown ?? 0,
      minLr: o.minLr ?? 0,
    });
  }
  onEpochEnd(_epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined) {
      if (!this.warned) console.warn(`ReduceLROnPlateau: '${this.monitor}' is not logged (available: ${Object.keys(logs).join(', ')})`);
      this.warned = true;
      return;
    }
    // Like Keras, the logged 'lr' stays the rate this epoch used; a reduction applies from the next epoch.
    this.scheduler!.step(v);
  }
}

// ---------------------------------------------------------------- progress

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export interface ProgressBarOptions {
  /** Where text goes; default process.stdout.write, or console.log where there is no process. */
  write?: (text: string) => void;
  /** Redraw one line in place (a terminal). Default: process.stdout.isTTY. */
  tty?: boolean;
  /** Bar width in characters (default 30). */
  width?: number;
  /** Minimum milliseconds between redraws (default 100). */
  intervalMs?: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Shows training progress. On a terminal: a bar redrawn in place with the running
 * loss and metrics, images/s and the epoch's ETA. Elsewhere (a pipe, a log file, a
 * browser console): one plain line per epoch.
 */
export class ProgressBar extends BaseCallback {
  private readonly write: (s: string) => void;
  private readonly lineMode: boolean;
  readonly tty: boolean;
  private readonly width: number;
  private readonly intervalMs: number;
  private epochStart = 0;
  private lastDraw = 0;
  private seen = 0;
  private epoch = 0;

  constructor(opts: ProgressBarOptions = {}) {
    super();
    const proc = (globalThis as { process?: { stdout?: { isTTY?: boolean; write?: (s: string) => unknown } } }).process;
    const out = proc?.stdout;
    this.tty = opts.tty ?? !!out?.isTTY;
    if (opts.write) {
      this.write = opts.write;
      this.lineMode = false;
    } else if (out?.write) {
      this.write = (s) => void out.write!(s);
      this.lineMode = false;
    } else {
      // console.log adds its own newline: emit whole lines only.
      this.write = (s) => console.log(s.replace(/\n$/, ''));
      this.lineMode = true;
    }
    this.width = opts.width ?? 30;
    this.intervalMs = opts.intervalMs ?? 100;
  }

  private logText(logs: Logs, skip: Set<string>): string {
    return Object.entries(logs)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k} ${fmtNum(v)}`)
      .join('  ');
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.epochStart = now();
    this.lastDraw = 0;
    this.seen = 0;
  }

  onBatchEnd(batch: number, logs: Logs): void {
    this.seen += logs.size ?? this.params.batchSize;
    if (!this.tty || this.lineMode) return;
    const t = now();
    const steps = this.params.steps;
    if (t - this.lastDraw < this.intervalMs && batch + 1 < steps) return;
    this.lastDraw = t;
    const el = (t - this.epochStart) / 1000;
    const done = batch + 1;
    const filled = Math.min(this.width, Math.floor((done / steps) * this.width));
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (done === steps ? '=' : '>') : '') + '.'.repeat(this.width - filled);
    const eta = (el / done) * (steps - done);
    const ips = this.seen / Math.max(el, 1e-9);
    const text = `Epoch ${this.epoch + 1}/${this.params.epochs} [${bar}] ${done}/${steps}  ETA ${fmtTime(eta)}  ${this.logText(logs, new Set(['batch', 'size']))}  ${Math.round(ips)} img/s`;
    this.write(`\r${text}\x1b[K`);
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const el = (now() - this.epochStart) / 1000;
    const head = `Epoch ${epoch + 1}/${this.params.epochs}  ${this.params.steps}/${this.params.steps}  ${fmtTime(el)}`;
    const ips = logs.images_per_sec;
    const text = `${head}  ${this.logText(logs, new Set(['images_per_sec', 'seconds']))}${ips !== undefined ? `  ${Math.round(ips)} img/s` : ''}`;
    this.write(this.tty && !this.lineMode ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}
