/**
 * Fused optimiser updates: one kernel per optimiser, one call per parameter tensor. They
 * follow PyTorch 1.13's `_single_tensor_*` update rules line for line (torch/optim/*.py).
 *
 * Common contract: inputs [param, grad, state...] all of one size and one float dtype;
 * attrs are numbers/booleans (hyper-parameters, and `step` = 1 for the first update of
 * this parameter); outputs [newParam, newState...] in the order of the state inputs,
 * each in FRESH storage (inputs are never written). Intermediate arithmetic may be
 * carried in float64 and rounded once on store.
 *
 * SGDUpdate      inputs [p, g] when momentum == 0, else [p, g, buf]
 *                d = g + weightDecay*p
 *                buf' = step == 1 ? d : momentum*buf + (1 - dampening)*d   (buf ignored at step 1)
 *                d = nesterov ? d + momentum*buf' : buf'
 *                p' = p - lr*d
 *                outputs [p'] or [p', buf']
 * AdamUpdate     inputs [p, g, m, v] (+ vmax when amsgrad)
 *                decoupled (AdamW): p = p*(1 - lr*weightDecay); else (Adam): g = g + weightDecay*p
 *                m' = beta1*m + (1-beta1)*g ; v' = beta2*v + (1-beta2)*g*g
 *                vmax' = max(vmax, v') (amsgrad) ; s = amsgrad ? vmax' : v'
 *                p' = p - lr/(1 - beta1^step) * m' / (sqrt(s)/sqrt(1 - beta2^step) + eps)
 *                outputs [p', m', v'] (+ vmax')
 * RMSpropUpdate  inputs [p, g, sq] (+ gavg when centered) (+ buf when momentum > 0)
 *                g = g + weightDecay*p ; sq' = alpha*sq + (1-alpha)*g*g
 *                gavg' = alpha*gavg + (1-alpha)*g (centered) ; avg = sqrt(sq' - gavg'^2) or sqrt(sq') ; avg += eps
 *                momentum > 0: buf' = momentum*buf + g/avg ; p' = p - lr*buf'
 *                else p' = p - lr*g/avg
 *                outputs in input order [p', sq', (gavg'), (buf')]
 * AdaGradUpdate  inputs [p, g, sum]
 *                g = g + weightDecay*p ; clr = lr / (1 + (step-1)*lrDecay)
 *                sum' = sum + g*g ; p' = p - clr*g/(sqrt(sum') + eps)
 *                outputs [p', sum']
 * AdaDeltaUpdate inputs [p, g, sq, acc]
 *                g = g + weightDecay*p ; sq' = rho*sq + (1-rho)*g*g
 *                delta = sqrt(acc + eps)/sqrt(sq' + eps) * g ; acc' = rho*acc + (1-rho)*delta^2
 *                p' = p - lr*delta
 *                outputs [p', sq', acc']
 *
 * Every backend returns one output per input but the gradient: inputs.length - 1.
 */
import type { TensorInfo } from '../tensor/backend.js';
import { allocArray, type TypedArray } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import { defineKernel, type HostTensor } from './kernel.js';

export interface SGDUpdateAttrs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  step: number;
}
export interface AdamUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: weight decay applied to the parameter, not added to the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  step: number;
}
export interface RMSpropUpdateAttrs {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}
export interface AdaGradUpdateAttrs {
  lr: number;
  lrDecay: number;
  eps: number;
  weightDecay: number;
  step: number;
}
export interface AdaDeltaUpdateAttrs {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
}

/** The shared check: numeric attrs are numbers, `expected` inputs of the parameter's size. */
function checkUpdate<A extends object>(kernel: string, numeric: readonly (keyof A & string)[], inputsOf: (attrs: A) => number) {
  return (inputs: readonly TensorInfo[], attrs: A): void => {
    for (const key of numeric) {
      const v: unknown = attrs[key];
      if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${kernel}: attr '${key}' must be a number, received ${JSON.stringify(v)}`);
    }
    const expected = inputsOf(attrs);
    if (inputs.length !== expected) throw new RangeError(`${kernel}: expected ${expected} inputs, received ${inputs.length}`);
    const n = sizeOf(inputs[0].shape);
    for (const t of inputs) {
      if (sizeOf(t.shape) !== n) throw new RangeError(`${kernel}: every input must have the parameter's ${n} elements, one has ${sizeOf(t.shape)}`);
    }
  };
}

const like = (x: HostTensor): TypedArray => allocArray(x.dtype, x.values.length, x.shape);
const wrapAll = (p: HostTensor, arrays: TypedArray[]): HostTensor[] => arrays.map((values) => ({ values, shape: p.shape, dtype: p.dtype }));

export const SGDUpdate = defineKernel<SGDUpdateAttrs>({
  name: 'SGDUpdate',
  inputs: ['param', 'grad', 'momentumBuffer'],
  check: checkUpdate<SGDUpdateAttrs>('SGDUpdate', ['lr', 'momentum', 'dampening', 'weightDecay', 'step'], (a) => (a.momentum !== 0 ? 3 : 2)),
  reference(inputs, { lr, momentum, dampening, weightDecay: wd, nesterov, step }) {
    const p = inputs[0].values, g = inputs[1].values;
    const pn = like(inputs[0]);
    if (momentum === 0) {
      for (let i = 0; i < p.length; i++) pn[i] = p[i] - lr * (g[i] + wd * p[i]);
      return wrapAll(inputs[0], [pn]);
    }
    const buf = inputs[2].values;
    const bn = like(inputs[0]);
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + wd * p[i];
      const b = step === 1 ? d : momentum * buf[i] + (1 - dampening) * d;
      bn[i] = b;
      d = nesterov ? d + momentum * b : b;
      pn[i] = p[i] - lr * d;
    }
    return wrapAll(inputs[0], [pn, bn]);
  },
});

export const AdamUpdate = defineKernel<AdamUpdateAttrs>({
  name: 'AdamUpdate',
  inputs: ['param', 'grad', 'm', 'v', 'vmax'],
  check: checkUpdate<AdamUpdateAttrs>('AdamUpdate', ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'step'], (a) => (a.amsgrad ? 5 : 4)),
  reference(inputs, { lr, beta1, beta2, eps, weightDecay: wd, step, decoupled, amsgrad }) {
    const p = inputs[0].values, g = inputs[1].values, m = inputs[2].values, v = inputs[3].values;
    const vmax = amsgrad ? inputs[4].values : null;
    const pn = like(inputs[0]), mn = like(inputs[0]), vn = like(inputs[0]);
    const vmaxn = amsgrad ? like(inputs[0]) : null;
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
    const stepSize = lr / bc1;
    for (let i = 0; i < p.length; i++) {
      let pi = p[i], gi = g[i];
      if (decoupled) pi = pi * (1 - lr * wd);
      else gi = gi + wd * pi;
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      mn[i] = mi;
      vn[i] = vi;
      let s = vi;
      if (vmax && vmaxn) {
        s = Math.max(vmax[i], vi);
        vmaxn[i] = s;
      }
      pn[i] = pi - stepSize * (mi / (Math.sqrt(s) / bc2sqrt + eps));
    }
    return wrapAll(inputs[0], vmaxn ? [pn, mn, vn, vmaxn] : [pn, mn, vn]);
  },
});

/** Where RMSprop's optional states sit among the inputs (-1: absent); outputs sit one lower. */
export function rmspropSlots({ centered, momentum }: RMSpropUpdateAttrs): { gavg: number; buf: number; inputs: number } {
  const gavg = centered ? 3 : -1;
  const buf = momentum > 0 ? (centered ? 4 : 3) : -1;
  return { gavg, buf, inputs: 3 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0) };
}

export const RMSpropUpdate = defineKernel<RMSpropUpdateAttrs>({
  name: 'RMSpropUpdate',
  inputs: ['param', 'grad', 'squareAvg', 'gradAvg', 'momentumBuffer'],
  check: checkUpdate<RMSpropUpdateAttrs>('RMSpropUpdate', ['lr', 'alpha', 'eps', 'weightDecay', 'momentum'], (a) => rmspropSlots(a).inputs),
  reference(inputs, attrs) {
    const { lr, alpha, eps, weightDecay: wd, momentum } = attrs;
    const slots = rmspropSlots(attrs);
    const p = inputs[0].values, g = inputs[1].values, sq = inputs[2].values;
    const gavg = slots.gavg > 0 ? inputs[slots.gavg].values : null;
    const buf = slots.buf > 0 ? inputs[slots.buf].values : null;
    const pn = like(inputs[0]), sqn = like(inputs[0]);
    const gavgn = gavg ? like(inputs[0]) : null;
    const bufn = buf ? like(inputs[0]) : null;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const s = alpha * sq[i] + (1 - alpha) * gi * gi;
      sqn[i] = s;
      let avg: number;
      if (gavg && gavgn) {
        const ga = alpha * gavg[i] + (1 - alpha) * gi;
        gavgn[i] = ga;
        avg = Math.sqrt(s - ga * ga);
      } else avg = Math.sqrt(s);
      avg += eps;
      if (buf && bufn) {
        const b = momentum * buf[i] + gi / avg;
        bufn[i] = b;
        pn[i] = p[i] - lr * b;
      } else pn[i] = p[i] - lr * (gi / avg);
    }
    const outs = [pn, sqn];
    if (gavgn) outs.push(gavgn);
    if (bufn) outs.push(bufn);
    return wrapAll(inputs[0], outs);
  },
});

/** AdaGrad's decayed rate at `step` (1-based), computed once per call in float64. */
export function adagradRate({ lr, lrDecay, step }: AdaGradUpdateAttrs): number {
  return lr / (1 + (step - 1) * lrDecay);
}

export const AdaGradUpdate = defineKernel<AdaGradUpdateAttrs>({
  name: 'AdaGradUpdate',
  inputs: ['param', 'grad', 'sum'],
  check: checkUpdate<AdaGradUpdateAttrs>('AdaGradUpdate', ['lr', 'lrDecay', 'eps', 'weightDecay', 'step'], () => 3),
  reference(inputs, attrs) {
    const { eps, weightDecay: wd } = attrs;
    const p = inputs[0].values, g = inputs[1].values, acc = inputs[2].values;
    const pn = like(inputs[0]), accn = like(inputs[0]);
    const clr = adagradRate(attrs);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const a = acc[i] + gi * gi;
      accn[i] = a;
      pn[i] = p[i] - clr * (gi / (Math.sqrt(a) + eps));
    }
    return wrapAll(inputs[0], [pn, accn]);
  },
});

export const AdaDeltaUpdate = defineKernel<AdaDeltaUpdateAttrs>({
  name: 'AdaDeltaUpdate',
  inputs: ['param', 'grad', 'squareAvg', 'accDelta'],
  check: checkUpdate<AdaDeltaUpdateAttrs>('AdaDeltaUpdate', ['lr', 'rho', 'eps', 'weightDecay'], () => 4),
  reference(inputs, { lr, rho, eps, weightDecay: wd }) {
    const p = inputs[0].values, g = inputs[1].values, sq = inputs[2].values, acc = inputs[3].values;
    const pn = like(inputs[0]), sqn = like(inputs[0]), accn = like(inputs[0]);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const s = rho * sq[i] + (1 - rho) * gi * gi;
      sqn[i] = s;
      const delta = (Math.sqrt(acc[i] + eps) / Math.sqrt(s + eps)) * gi;
      accn[i] = rho * acc[i] + (1 - rho) * delta * delta;
      pn[i] = p[i] - lr * delta;
    }
    return wrapAll(inputs[0], [pn, sqn, accn]);
  },
});
