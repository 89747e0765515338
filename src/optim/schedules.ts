/**
 * Learning-rate schedules: functions of the step count (the number of optimiser steps
 * already taken, 0 for the first step) that return the learning rate to use. Each
 * carries a plain-data `config` so an optimiser's configuration can be saved and the
 * schedule rebuilt with `scheduleFromConfig`.
 *
 * stepDecay is PyTorch's StepLR, exponentialDecay with decaySteps 1 is ExponentialLR
 * (with decaySteps > 1 it is TF/Keras's ExponentialDecay), cosineDecay is
 * CosineAnnealingLR / Keras's CosineDecay with an optional linear warm-up in front.
 */

export type ScheduleConfig =
  | { kind: 'constant'; lr: number }
  | { kind: 'stepDecay'; initial: number; stepSize: number; gamma: number }
  | { kind: 'exponentialDecay'; initial: number; decayRate: number; decaySteps: number; staircase: boolean }
  | { kind: 'cosineDecay'; initial: number; decaySteps: number; alpha: number; warmupSteps: number; warmupStart: number };

/** A learning-rate schedule: step count (0-based) -> learning rate. */
export interface Schedule {
  (step: number): number;
  readonly config?: ScheduleConfig;
}

function make(config: ScheduleConfig, f: (step: number) => number): Schedule {
  const s = (step: number): number => {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`learning-rate schedule '${config.kind}': step must be a non-negative integer, received ${step}`);
    return f(step);
  };
  Object.defineProperty(s, 'config', { value: Object.freeze({ ...config }), enumerable: true });
  return s as Schedule;
}

function finite(op: string, name: string, v: number, min = -Infinity, minInclusive = true): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (minInclusive ? v < min : v <= min)) {
    throw new RangeError(`${op}: ${name} must be a finite number ${minInclusive ? '>=' : '>'} ${min}, received ${String(v)}`);
  }
}

/** The same rate at every step. */
export function constant(lr: number): Schedule {
  finite('constant', 'lr', lr, 0);
  return make({ kind: 'constant', lr }, () => lr);
}

/** initial * gamma^floor(step / stepSize) (PyTorch StepLR). */
export function stepDecay(opts: { initial: number; stepSize: number; gamma?: number }): Schedule {
  const gamma = opts.gamma ?? 0.1;
  finite('stepDecay', 'initial', opts.initial, 0);
  finite('stepDecay', 'gamma', gamma, 0);
  if (!Number.isInteger(opts.stepSize) || opts.stepSize < 1) throw new RangeError(`stepDecay: stepSize must be a positive integer, received ${opts.stepSize}`);
  return make({ kind: 'stepDecay', initial: opts.initial, stepSize: opts.stepSize, gamma }, (s) => opts.initial * Math.pow(gamma, Math.floor(s / opts.stepSize)));
}

/**
 * initial * decayRate^(step / decaySteps), or ^floor(step / decaySteps) with staircase.
 * decaySteps 1 (the default) is PyTorch's ExponentialLR with gamma = decayRate.
 */
export function exponentialDecay(opts: { initial: number; decayRate: number; decaySteps?: number; staircase?: boolean }): Schedule {
  const decaySteps = opts.decaySteps ?? 1;
  const staircase = opts.staircase ?? false;
  finite('exponentialDecay', 'initial', opts.initial, 0);
  finite('exponentialDecay', 'decayRate', opts.decayRate, 0);
  finite('exponentialDecay', 'decaySteps', decaySteps, 0, false);
  return make({ kind: 'exponentialDecay', initial: opts.initial, decayRate: opts.decayRate, decaySteps, staircase }, (s) => {
    const e = s / decaySteps;
    return opts.initial * Math.pow(opts.decayRate, staircase ? Math.floor(e) : e);
  });
}

/**
 * Linear warm-up from `warmupStart` to `initial` over `warmupSteps` steps, then a
 * half cosine from `initial` down to `alpha * initial` over `decaySteps` steps, then
 * flat at `alpha * initial`:
 *   step < W:  warmupStart + (initial - warmupStart) * step / W
 *   else:      t = min(step - W, decaySteps);
 *              initial * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decaySteps)) + alpha)
 */
export function cosineDecay(opts: { initial: number; decaySteps: number; alpha?: number; warmupSteps?: number; warmupStart?: number }): Schedule {
  const alpha = opts.alpha ?? 0, warmupSteps = opts.warmupSteps ?? 0, warmupStart = opts.warmupStart ?? 0;
  finite('cosineDecay', 'initial', opts.initial, 0);
  finite('cosineDecay', 'alpha', alpha, 0);
  finite('cosineDecay', 'warmupStart', warmupStart, 0);
  if (!Number.isInteger(opts.decaySteps) || opts.decaySteps < 1) throw new RangeError(`cosineDecay: decaySteps must be a positive integer, received ${opts.decaySteps}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`cosineDecay: warmupSteps must be a non-negative integer, received ${warmupSteps}`);
  const { initial, decaySteps } = opts;
  return make({ kind: 'cosineDecay', initial, decaySteps, alpha, warmupSteps, warmupStart }, (s) => {
    if (s < warmupSteps) return warmupStart + ((initial - warmupStart) * s) / warmupSteps;
    const t = Math.min(s - warmupSteps, decaySteps);
    return initial * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * t) / decaySteps)) + alpha);
  });
}

/** Rebuild a schedule from its `config` (as saved by an optimiser's getConfig). */
export function scheduleFromConfig(c: ScheduleConfig): Schedule {
  switch (c.kind) {
    case 'constant': return constant(c.lr);
    case 'stepDecay': return stepDecay(c);
    case 'exponentialDecay': return exponentialDecay(c);
    case 'cosineDecay': return cosineDecay(c);
    default: throw new TypeError(`scheduleFromConfig: unknown schedule kind '${(c as { kind: unknown }).kind}' (constant, stepDecay, exponentialDecay, cosineDecay)`);
  }
}

/** Anything whose learning rate a plateau helper can scale (every Optimizer). */
export interface LrScalable {
  lrMultiplier: number;
  currentLr(): number;
}

export interface PlateauOptions {
  /** 'min' for a loss, 'max' for an accuracy. */
  mode?: 'min' | 'max';
  /** Multiply the rate by this on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': relative to the best value (default), 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The rate never goes below this (default 0). */
  minLr?: number;
}

/**
 * PyTorch's ReduceLROnPlateau: call `step(metric)` once per epoch (e.g. from a training
 * callback with the validation loss); after more than `patience` epochs without an
 * improvement the optimiser's rate is multiplied by `factor` (never below `minLr`).
 * Works with a number or a schedule as the optimiser's `lr`: it scales the
 * optimiser's `lrMultiplier`.
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  best: number;
  badEpochs = 0;
  cooldownLeft = 0;
  /** Number of reductions made so far. */
  reductions = 0;

  constructor(readonly optimizer: LrScalable, opts: PlateauOptions = {}) {
    this.mode = opts.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`reduceOnPlateau: mode must be 'min' or 'max', received '${String(opts.mode)}'`);
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1)) throw new RangeError(`reduceOnPlateau: factor must be in (0, 1), received ${this.factor}`);
    this.patience = opts.patience ?? 10;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`reduceOnPlateau: patience must be a non-negative integer, received ${this.patience}`);
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new RangeError(`reduceOnPlateau: thresholdMode must be 'rel' or 'abs', received '${String(opts.thresholdMode)}'`);
    this.cooldown = opts.cooldown ?? 0;
    this.minLr = opts.minLr ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: th, best } = this;
    if (mode === 'min') return tm === 'rel' ? a < best * (1 - th) : a < best - th;
    return tm === 'rel' ? a > best * (1 + th) : a > best + th;
  }

  /** Record this epoch's metric; returns true when the learning rate was reduced. */
  step(metric: number): boolean {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new RangeError(`reduceOnPlateau: metric must be a number, received ${String(metric)}`);
    if (this.isBetter(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs <= this.patience) return false;
    this.cooldownLeft = this.cooldown;
    this.badEpochs = 0;
    const old = this.optimizer.currentLr();
    const target = Math.max(old * this.factor, this.minLr);
    // PyTorch ignores reductions smaller than 1e-8.
    if (old - target <= 1e-8 || old === 0) return false;
    this.optimizer.lrMultiplier *= target / old;
    this.reductions++;
    return true;
  }
}

/** `new ReduceLROnPlateau(optimizer, opts)`. */
export function reduceOnPlateau(optimizer: LrScalable, opts: PlateauOptions = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(optimizer, opts);
}
