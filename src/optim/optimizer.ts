/**
 * Optimisers with PyTorch 1.13's update rules and defaults (torch/optim/*.py,
 * single-tensor path). Each optimiser updates a parameter with ONE fused kernel call
 * (SGDUpdate, AdamUpdate, RMSpropUpdate, AdaGradUpdate, AdaDeltaUpdate; contracts in
 * src/kernels/optim.ts), run without recording a graph and
 * inside `tidy`; the parameter keeps its identity (`p.assign`), its state tensors
 * (momentum buffers, moment estimates) are owned by the optimiser.
 */
import { noGrad } from '../autograd/reverse_mode.js';
import type { Kernel } from '../kernels/kernel.js';
import {
  AdaDeltaUpdate, AdaGradUpdate, AdamUpdate, RMSpropUpdate, SGDUpdate,
  type AdaDeltaUpdateAttrs, type AdaGradUpdateAttrs, type AdamUpdateAttrs, type RMSpropUpdateAttrs, type SGDUpdateAttrs,
} from '../kernels/optim.js';
import { keep, tidy } from '../registry/storage.js';
import { Fill } from '../kernels/elementwise.js';
import { outputOf, runKernel } from '../registry/dispatch.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { scheduleFromConfig, type Schedule, type ScheduleConfig } from './schedules.js';

/** A fixed rate or a schedule (step count -> rate). */
export type LearningRate = number | Schedule | ((step: number) => number);

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adadelta';

/** Plain data describing an optimiser; `makeOptimizer(config.name, config)` rebuilds it. */
export interface OptimizerConfig {
  name: OptimizerName;
  lr: number | ScheduleConfig;
  [option: string]: unknown;
}

/** Per-parameter state: how many updates it has had and its named state tensors. */
export interface ParamState {
  step: number;
  slots: Record<string, Tensor>;
}

function checkNumber(opt: string, name: string, v: unknown, lo: number, hi = Infinity, hiInclusive = true): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < lo || (hiInclusive ? v > hi : v >= hi)) {
    const range = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}${hiInclusive ? ']' : ')'}`;
    throw new RangeError(`${opt}: ${name} must be a number ${range}, received ${JSON.stringify(v)}`);
  }
  return v;
}

function checkLr(opt: string, lr: unknown): LearningRate {
  if (typeof lr === 'function') return lr as LearningRate;
  if (lr && typeof lr === 'object' && 'kind' in lr) return scheduleFromConfig(lr as ScheduleConfig);
  return checkNumber(opt, 'lr', lr, 0);
}

/** `A`: the attrs of the optimiser's update kernel. */
export abstract class Optimizer<A extends object = object> {
  abstract readonly name: OptimizerName;
  /** The learning rate: a number or a function of the step count. */
  lr: LearningRate;
  /** Scales the rate (ReduceLROnPlateau lowers it); 1 by default. */
  lrMultiplier = 1;
  /** step() calls completed; the schedule is evaluated at this count. */
  iterations = 0;
  private readonly state = new Map<Tensor, ParamState>();

  protected constructor(lr: unknown, optName: string) {
    this.lr = checkLr(optName, lr);
  }

  /** The fused kernel that performs one parameter's update. */
  protected abstract readonly kernel: Kernel<A>;
  /** Names of the state tensors, in kernel input order (they depend on the options). */
  protected abstract slotNames(): string[];
  /** Initial value of each state tensor. */
  protected initialValue(_slot: string): number {
    return 0;
  }
  /** The kernel's attrs for this update. */
  protected abstract kernelAttrs(lr: number, step: number): A;
  /** The options (without lr) that getConfig reports. */
  protected abstract options(): Record<string, unknown>;

  /** The rate the next step will use. */
  currentLr(): number {
    const base = typeof this.lr === 'number' ? this.lr : this.lr(this.iterations);
    if (typeof base !== 'number' || Number.isNaN(base)) throw new TypeError(`${this.name}: the learning-rate schedule returned ${String(base)} at step ${this.iterations}`);
    return base * this.lrMultiplier;
  }

  /**
   * Update every parameter that has a gradient (`p.grad`; those without one are
   * skipped, like PyTorch), in place, then count one iteration.
   */
  step(params: readonly Tensor[]): void {
    const lr = this.currentLr();
    const seen = new Set<Tensor>();
    noGrad(() => {
      for (const p of params) {
        if (seen.has(p)) continue;
        seen.add(p);
        const g = p.grad;
        if (!g) continue;
        if (!isFloat(p.dtype)) throw new TypeError(`${this.name}.step: parameter ${p.describe()} is not a float tensor`);
        if (!shapesEqual(g.shape, p.shape)) {
          throw new RangeError(`${this.name}.step: gradient of parameter ${p.describe()} has shape ${fmtShape(g.shape)}, expected ${fmtShape(p.shape)}`);
        }
        if (g.dtype !== p.dtype) throw new TypeError(`${this.name}.step: gradient dtype ${g.dtype} differs from parameter ${p.describe()}`);
        this.update(p, g, lr);
      }
    });
    this.iterations++;
  }

  private update(p: Tensor, g: Tensor, lr: number): void {
    const st = this.stateOf(p) ?? this.initState(p);
    const names = this.slotNames();
    const step = st.step + 1;
    tidy(() => {
      const outs = runKernel(this.kernel, [p, g, ...names.map((n) => st.slots[n])], this.kernelAttrs(lr, step));
      if (outs.length !== names.length + 1) throw new Error(`${this.kernel.name} returned ${outs.length} outputs, expected ${names.length + 1}`);
      p.assign(outs[0]);
      names.forEach((n, i) => {
        st.slots[n].dispose();
        st.slots[n] = keep(outs[i + 1]);
      });
    });
    st.step = step;
  }

  private initState(p: Tensor): ParamState {
    const slots: Record<string, Tensor> = {};
    for (const n of this.slotNames()) slots[n] = keep(outputOf(Fill, [], { shape: [...p.shape], dtype: p.dtype, value: this.initialValue(n) }));
    const st: ParamState = { step: 0, slots };
    this.state.set(p, st);
    return st;
  }

  /** The state of parameter `p` (undefined before its first update). Read-only. */
  stateOf(p: Tensor): ParamState | undefined {
    return this.state.get(p);
  }

  /** Drop the gradients of `params` (the next backward starts from zero). */
  zeroGrad(params: readonly Tensor[]): void {
    for (const p of params) p.zeroGrad();
  }

  /** Plain data for saving; `makeOptimizer(c.name, c)` rebuilds an equal optimiser. */
  getConfig(): OptimizerConfig {
    let lr: number | ScheduleConfig;
    if (typeof this.lr === 'number') lr = this.lr;
    else {
      const c = (this.lr as Schedule).config;
      if (!c) throw new TypeError(`${this.name}.getConfig: the learning rate is a plain function, which cannot be saved; use a schedule from convkit (constant, stepDecay, exponentialDecay, cosineDecay)`);
      lr = { ...c };
    }
    return { name: this.name, lr, ...this.options() };
  }

  /** Free every state tensor and forget all parameters. */
  dispose(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.slots)) t.dispose();
    this.state.clear();
  }
}

// ---------------------------------------------------------------- SGD

export interface SGDOptions {
  /** Required, as in PyTorch. */
  lr: LearningRate;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay:
 * d = g + wd p; buf = momentum buf + (1 - dampening) d (buf = d at the first step);
 * d = nesterov ? d + momentum buf : buf; p -= lr d.
 */
export class SGD extends Optimizer<SGDUpdateAttrs> {
  readonly name = 'sgd';
  protected readonly kernel = SGDUpdate;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(opts: SGDOptions) {
    if (!opts || opts.lr === undefined) throw new TypeError('sgd: lr is required (PyTorch has no default for SGD)');
    super(opts.lr, 'sgd');
    this.momentum = checkNumber('sgd', 'momentum', opts.momentum ?? 0, 0);
    this.dampening = checkNumber('sgd', 'dampening', opts.dampening ?? 0, -Infinity);
    this.weightDecay = checkNumber('sgd', 'weightDecay', opts.weightDecay ?? 0, 0);
    this.nesterov = !!opts.nesterov;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(`sgd: nesterov momentum requires momentum > 0 and dampening 0 (received momentum ${this.momentum}, dampening ${this.dampening})`);
    }
  }
  protected slotNames(): string[] {
    return this.momentum !== 0 ? ['momentumBuffer'] : [];
  }
  protected kernelAttrs(lr: number, step: number) {
    return { lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov, step };
  }
  protected options() {
    return { momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }
}

// ---------------------------------------------------------------- Adam / AdamW

export interface AdamOptions {
  lr?: LearningRate;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

abstract class AdamBase extends Optimizer<AdamUpdateAttrs> {
  protected readonly kernel = AdamUpdate;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  protected abstract readonly decoupled: boolean;

  protected constructor(opts: AdamOptions, name: string, dfltWd: number) {
    super(opts.lr ?? 1e-3, name);
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new RangeError(`${name}: betas must be [beta1, beta2], received ${JSON.stringify(betas)}`);
    checkNumber(name, 'betas[0]', betas[0], 0, 1, false);
    checkNumber(name, 'betas[1]', betas[1], 0, 1, false);
    this.betas = [betas[0], betas[1]];
    this.eps = checkNumber(name, 'eps', opts.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber(name, 'weightDecay', opts.weightDecay ?? dfltWd, 0);
    this.amsgrad = !!opts.amsgrad;
  }
  protected slotNames(): string[] {
    return this.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
  }
  protected kernelAttrs(lr: number, step: number) {
    return {
      lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: this.weightDecay,
      decoupled: this.decoupled, amsgrad: this.amsgrad, step,
    };
  }
  protected options() {
    return { betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay, amsgrad: this.amsgrad };
  }
}

/** Adam (defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8); weightDecay is L2 added to the gradient. */
export class Adam extends AdamBase {
  readonly name = 'adam';
  protected readonly decoupled = false;
  constructor(opts: AdamOptions = {}) {
    super(opts, 'adam', 0);
  }
}

/** AdamW: Adam with decoupled weight decay p *= 1 - lr wd before the update (default wd 0.01). */
export class AdamW extends AdamBase {
  readonly name = 'adamw';
  protected readonly decoupled = true;
  constructor(opts: AdamOptions = {}) {
    super(opts, 'adamw', 0.01);
  }
}

// ---------------------------------------------------------------- RMSprop

export interface RMSpropOptions {
  lr?: LearningRate;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/** RMSprop (defaults lr 0.01, alpha 0.99, eps 1e-8; eps is added outside the square root). */
export class RMSprop extends Optimizer<RMSpropUpdateAttrs> {
  readonly name = 'rmsprop';
  protected readonly kernel = RMSpropUpdate;
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;

  constructor(opts: RMSpropOptions = {}) {
    super(opts.lr ?? 0.01, 'rmsprop');
    this.alpha = checkNumber('rmsprop', 'alpha', opts.alpha ?? 0.99, 0);
    this.eps = checkNumber('rmsprop', 'eps', opts.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber('rmsprop', 'weightDecay', opts.weightDecay ?? 0, 0);
    this.momentum = checkNumber('rmsprop', 'momentum', opts.momentum ?? 0, 0);
    this.centered = !!opts.centered;
  }
  protected slotNames(): string[] {
    const s = ['squareAvg'];
    if (this.centered) s.push('gradAvg');
    if (this.momentum > 0) s.push('momentumBuffer');
    return s;
  }
  protected kernelAttrs(lr: number) {
    return { lr, alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered };
  }
  protected options() {
    return { alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered };
  }
}

// ---------------------------------------------------------------- AdaGrad

export interface AdaGradOptions {
  lr?: LearningRate;
  lrDecay?: number;
  weightDecay?: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulator?: number;
  eps?: number;
}

/** AdaGrad (defaults lr 0.01, eps 1e-10): p -= lr/(1 + (t-1) lrDecay) g / (sqrt(sum g^2) + eps). */
export class AdaGrad extends Optimizer<AdaGradUpdateAttrs> {
  readonly name = 'adagrad';
  protected readonly kernel = AdaGradUpdate;
  readonly lrDecay: number;
  readonly weightDecay: number;
  readonly initialAccumulator: number;
  readonly eps: number;

  constructor(opts: AdaGradOptions = {}) {
    super(opts.lr ?? 0.01, 'adagrad');
    this.lrDecay = checkNumber('adagrad', 'lrDecay', opts.lrDecay ?? 0, 0);
    this.weightDecay = checkNumber('adagrad', 'weightDecay', opts.weightDecay ?? 0, 0);
    this.initialAccumulator = checkNumber('adagrad', 'initialAccumulator', opts.initialAccumulator ?? 0, 0);
    this.eps = checkNumber('adagrad', 'eps', opts.eps ?? 1e-10, 0);
  }
  protected slotNames(): string[] {
    return ['sum'];
  }
  protected initialValue(): number {
    return this.initialAccumulator;
  }
  protected kernelAttrs(lr: number, step: number) {
    return { lr, lrDecay: this.lrDecay, eps: this.eps, weightDecay: this.weightDecay, step };
  }
  protected options() {
    return { lrDecay: this.lrDecay, weightDecay: this.weightDecay, initialAccumulator: this.initialAccumulator, eps: this.eps };
  }
}

// ---------------------------------------------------------------- AdaDelta

export interface AdaDeltaOptions {
  lr?: LearningRate;
  rho?: number;
  eps?: number;
  weightDecay?: number;
}

/** AdaDelta (defaults lr 1.0, rho 0.9, eps 1e-6). */
export class AdaDelta extends Optimizer<AdaDeltaUpdateAttrs> {
  readonly name = 'adadelta';
  protected readonly kernel = AdaDeltaUpdate;
  readonly rho: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(opts: AdaDeltaOptions = {}) {
    super(opts.lr ?? 1.0, 'adadelta');
    this.rho = checkNumber('adadelta', 'rho', opts.rho ?? 0.9, 0, 1);
    this.eps = checkNumber('adadelta', 'eps', opts.eps ?? 1e-6, 0);
    this.weightDecay = checkNumber('adadelta', 'weightDecay', opts.weightDecay ?? 0, 0);
  }
  protected slotNames(): string[] {
    return ['squareAvg', 'accDelta'];
  }
  protected kernelAttrs(lr: number) {
    return { lr, rho: this.rho, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected options() {
    return { rho: this.rho, eps: this.eps, weightDecay: this.weightDecay };
  }
}

// ---------------------------------------------------------------- factory

export type OptimizerKind = OptimizerName | 'momentum' | 'nesterov';
export const OPTIMIZER_NAMES: readonly OptimizerKind[] = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta'];

/** The options each optimiser takes (PyTorch's names), as makeOptimizer accepts them. */
export const OPTIMIZER_OPTIONS: Readonly<Record<OptimizerKind, readonly string[]>> = {
  sgd: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'],
  momentum: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'],
  nesterov: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'],
  adam: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'],
  adamw: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'],
  rmsprop: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered'],
  adagrad: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulator', 'eps'],
  adadelta: ['lr', 'rho', 'eps', 'weightDecay'],
};

/**
 * An optimiser by name. 'momentum' is SGD with momentum 0.9 by default and 'nesterov'
 * SGD with Nesterov momentum 0.9; the others take their class's options. Accepts a
 * getConfig() result as `opts` (its `name` field is ignored; `name` decides).
 */
export function makeOptimizer(name: OptimizerKind, opts: Record<string, unknown> = {}): Optimizer {
  const { name: _ignored, ...o } = opts as Record<string, unknown> & { name?: unknown };
  void _ignored;
  // An option the optimiser does not have is refused, not dropped: { learningRate: 0.01 }
  // (Keras's spelling) would otherwise train silently at the default rate.
  const known = Object.prototype.hasOwnProperty.call(OPTIMIZER_OPTIONS, name) ? OPTIMIZER_OPTIONS[name] : null;
  const extra = known ? Object.keys(o).filter((k) => o[k] !== undefined && !known.includes(k)) : [];
  if (extra.length) {
    throw new RangeError(`makeOptimizer: '${name}' has no option ${extra.map((k) => `'${k}'`).join(', ')} (its options: ${known!.join(', ')})`);
  }
  switch (name) {
    case 'sgd': return new SGD(o as unknown as SGDOptions);
    case 'momentum': return new SGD({ momentum: 0.9, ...o } as unknown as SGDOptions);
    case 'nesterov': return new SGD({ momentum: 0.9, ...o, nesterov: true } as unknown as SGDOptions);
    case 'adam': return new Adam(o as AdamOptions);
    case 'adamw': return new AdamW(o as AdamOptions);
    case 'rmsprop': return new RMSprop(o as RMSpropOptions);
    case 'adagrad': return new AdaGrad(o as AdaGradOptions);
    case 'adadelta': return new AdaDelta(o as AdaDeltaOptions);
    default: throw new RangeError(`makeOptimizer: unknown optimizer '${String(name)}' (known: ${OPTIMIZER_NAMES.join(', ')})`);
  }
}
