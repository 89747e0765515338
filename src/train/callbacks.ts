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
  /** Batches per epoch (NaN for a stream until an epoch has run: its length is unknown). */
  steps: number;
  /** Training samples (NaN for a stream until an epoch has run). */
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

/**
 * Why training ended early. A callback that sets `model.stopTraining` also sets its
 * `stopped` to one of these; the History of the run records the first (`history.stopped`).
 */
export interface StopRecord {
  /** The callback that stopped training: 'TerminateOnNaN', 'EarlyStopping', or another's name. */
  by: string;
  /** The epoch in which training stopped, counted from 0 as in `history.epoch`. */
  epoch: number;
  /** The batch after which training stopped, counted from 0 (stops in the middle of an epoch). */
  step?: number;
  /** The message, as printed: 'Epoch 3, step 12: loss is NaN; training stopped (TerminateOnNaN)'. */
  reason: string;
  /** EarlyStopping with restoreBestWeights: the epoch (from 0) whose weights were put back. */
  restoredEpoch?: number;
}

/** Runs callbacks in order, awaiting each hook. */
export class CallbackList {
  readonly callbacks: Callback[];
  private readonly reported = new Set<StopRecord>();
  constructor(callbacks: readonly Callback[] = []) {
    this.callbacks = [...callbacks];
  }
  /** Hand a callback's new stop record to the run's History (the first stop of a run is kept). */
  private collectStops(): void {
    for (const c of this.callbacks) {
      const rec = (c as { stopped?: StopRecord | null }).stopped;
      if (!rec || this.reported.has(rec)) continue;
      this.reported.add(rec);
      for (const h of this.callbacks) if (h instanceof History) h.stopped ??= rec;
    }
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
    this.collectStops();
  }
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin?.(batch, logs);
  }
  async onBatchEnd(batch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
    this.collectStops();
  }
}

/** Records every epoch's logs: `history.history.loss[e]`, `history.epoch`. fit() returns it. */
export class History extends BaseCallback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  /** Why training ended before its last epoch (TerminateOnNaN, EarlyStopping, ...); null when it ran to the end. */
  stopped: StopRecord | null = null;
  onTrainBegin(): void {
    this.epoch = [];
    this.history = {};
    this.stopped = null;
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
  /** 1: print when and why training stopped; 0: only record it. Default: fit's verbose (on unless verbose 0). */
  verbose?: 0 | 1;
}

/** Keras's EarlyStopping: end training when `monitor` has stopped improving for `patience` epochs. */
export class EarlyStopping extends BaseCallback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  readonly verbose?: 0 | 1;
  wait = 0;
  /** Best value so far (starts at +Infinity for 'min', -Infinity for 'max', as in Keras). */
  best: number;
  bestEpoch = -1;
  /** The epoch after which training stopped (-1 if it did not). */
  stoppedEpoch = -1;
  /** When and why this callback stopped training (null if it did not). */
  stopped: StopRecord | null = null;
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
    this.verbose = opts.verbose;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** A NaN is never an improvement (nor is anything over a NaN reference). */
  private improved(v: number, ref: number): boolean {
    return this.mode === 'min' ? v < ref - this.minDelta : v > ref + this.minDelta;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.stopped = null;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
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
      const best = this.bestEpoch >= 0 ? `best ${fmtNum(this.best)} at epoch ${this.bestEpoch + 1}` : 'no finite value yet';
      const why = this.baseline !== undefined && !this.improved(this.best, this.baseline)
        ? `${this.monitor} did not beat the baseline ${this.baseline} in ${this.wait} epoch(s) (${best})`
        : `${this.monitor} did not improve for ${this.wait} epoch(s) (${best})`;
      let reason = `Epoch ${epoch + 1}: early stopping: ${why}`;
      const restoring = this.restoreBestWeights && this.bestWeights !== null && this.bestEpoch >= 0;
      if (restoring) {
        restore(this.model, this.bestWeights!);
        reason += `; restored the weights from the end of the best epoch, ${this.bestEpoch + 1}`;
      }
      this.stopped = { by: 'EarlyStopping', epoch, reason, ...(restoring ? { restoredEpoch: this.bestEpoch } : {}) };
      if (this.verbose ?? (this.params?.verbose ?? 1) > 0) console.log(reason);
    }
  }
}

export interface TerminateOnNaNOptions {
  /** 1 (default): console.warn the message when it stops training; 0: only record it on the History. */
  verbose?: 0 | 1;
}

/**
 * Keras's TerminateOnNaN: after each batch, if the logged loss is NaN or an infinity,
 * stop training right there (fit stops after that batch) and say where:
 * 'Epoch 3, step 12: loss is NaN; training stopped (TerminateOnNaN)' (epochs and steps
 * counted from 1). fit() adds one unless `terminateOnNaN: false` or one is passed.
 */
export class TerminateOnNaN extends BaseCallback {
  readonly verbose: 0 | 1;
  /** Where training stopped (null if it did not). */
  stopped: StopRecord | null = null;
  private epoch = 0;
  constructor(opts: TerminateOnNaNOptions = {}) {
    super();
    this.verbose = opts.verbose ?? 1;
  }
  onTrainBegin(): void {
    this.stopped = null;
  }
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  onBatchEnd(batch: number, logs: Logs): void {
    const loss = logs.loss;
    if (typeof loss !== 'number' || Number.isFinite(loss) || this.stopped) return;
    const what = Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'Infinity' : '-Infinity';
    const reason = `Epoch ${this.epoch + 1}, step ${batch + 1}: loss is ${what}; training stopped (TerminateOnNaN)`;
    this.stopped = { by: 'TerminateOnNaN', epoch: this.epoch, step: batch, reason };
    this.model.stopTraining = true;
    if (this.verbose > 0) console.warn(reason);
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
    // A NaN (a diverged epoch, e.g. the one TerminateOnNaN stops) is no improvement, as in Keras:
    // the scheduler gets the worst value of its mode rather than a NaN it would reject.
    const worst = this.scheduler!.mode === 'min' ? Infinity : -Infinity;
    this.scheduler!.step(Number.isNaN(v) ? worst : v);
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
  private done = 0;
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
    this.done = 0;
  }

  onBatchEnd(batch: number, logs: Logs): void {
    this.seen += logs.size ?? this.params.batchSize;
    this.done = batch + 1;
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
    const where = Number.isFinite(steps) ? `[${bar}] ${done}/${steps}  ETA ${fmtTime(eta)}` : `batch ${done}`; // a stream: length unknown
    const text = `Epoch ${this.epoch + 1}/${this.params.epochs} ${where}  ${this.logText(logs, new Set(['batch', 'size']))}  ${Math.round(ips)} img/s`;
    this.write(`\r${text}\x1b[K`);
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const el = (now() - this.epochStart) / 1000;
    // The steps this epoch ran: fewer than params.steps when a callback stopped it early.
    const head = `Epoch ${epoch + 1}/${this.params.epochs}  ${this.done}${Number.isFinite(this.params.steps) ? `/${this.params.steps}` : ' batches'}  ${fmtTime(el)}`;
    const ips = logs.images_per_sec;
    const text = `${head}  ${this.logText(logs, new Set(['images_per_sec', 'seconds']))}${ips !== undefined ? `  ${Math.round(ips)} img/s` : ''}`;
    this.write(this.tty && !this.lineMode ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}
