/**
 * Fused optimiser updates on `ts`: one kernel per optimiser, one call per parameter
 * tensor, plain loops. They follow PyTorch 1.13's `_single_tensor_*` update rules
 * line for line (torch/optim/*.py); every other backend implements the same contracts.
 *
 * Common contract: inputs [param, grad, state...] all of one shape and one float dtype;
 * attrs are numbers/booleans (hyper-parameters, and `step` = 1 for the first update of
 * this parameter); outputs [newParam, newState...] in the order of the state inputs,
 * each in FRESH storage (inputs are never written). Intermediate arithmetic may be
 * carried in float64 and rounded once on store.
 *
 * 'SGDUpdate'      inputs [p, g] when momentum == 0, else [p, g, buf]
 *                  attrs { lr, momentum, dampening, weightDecay, nesterov, step }
 *                  d = g + weightDecay*p
 *                  buf' = step == 1 ? d : momentum*buf + (1 - dampening)*d   (buf ignored at step 1)
 *                  d = nesterov ? d + momentum*buf' : buf'
 *                  p' = p - lr*d
 *                  outputs [p'] or [p', buf']
 * 'AdamUpdate'     inputs [p, g, m, v] (+ vmax when amsgrad)
 *                  attrs { lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, step }
 *                  decoupled (AdamW): p = p*(1 - lr*weightDecay); else (Adam): g = g + weightDecay*p
 *                  m' = beta1*m + (1-beta1)*g ; v' = beta2*v + (1-beta2)*g*g
 *                  vmax' = max(vmax, v') (amsgrad) ; s = amsgrad ? vmax' : v'
 *                  p' = p - lr/(1 - beta1^step) * m' / (sqrt(s)/sqrt(1 - beta2^step) + eps)
 *                  outputs [p', m', v'] (+ vmax')
 * 'RMSpropUpdate'  inputs [p, g, sq] (+ gavg when centered) (+ buf when momentum > 0)
 *                  attrs { lr, alpha, eps, weightDecay, momentum, centered }
 *                  g = g + weightDecay*p ; sq' = alpha*sq + (1-alpha)*g*g
 *                  gavg' = alpha*gavg + (1-alpha)*g (centered) ; avg = sqrt(sq' - gavg'^2) or sqrt(sq') ; avg += eps
 *                  momentum > 0: buf' = momentum*buf + g/avg ; p' = p - lr*buf'
 *                  else p' = p - lr*g/avg
 *                  outputs in input order [p', sq', (gavg'), (buf')]
 * 'AdaGradUpdate'  inputs [p, g, sum]
 *                  attrs { lr, lrDecay, eps, weightDecay, step }
 *                  g = g + weightDecay*p ; clr = lr / (1 + (step-1)*lrDecay)
 *                  sum' = sum + g*g ; p' = p - clr*g/(sqrt(sum') + eps)
 *                  outputs [p', sum']
 * 'AdaDeltaUpdate' inputs [p, g, sq, acc]
 *                  attrs { lr, rho, eps, weightDecay }
 *                  g = g + weightDecay*p ; sq' = rho*sq + (1-rho)*g*g
 *                  delta = sqrt(acc + eps)/sqrt(sq' + eps) * g ; acc' = rho*acc + (1-rho)*delta^2
 *                  p' = p - lr*delta
 *                  outputs [p', sq', acc']
 */
import { registerKernel } from '../../../registry/kernels.js';
import type { Backend, TensorInfo } from '../../../tensor/backend.js';
import { allocArray, type TypedArray } from '../../../tensor/dtype.js';
import { out, vals } from '../backend.js';

type Attrs = Record<string, unknown>;

function num(attrs: Attrs, key: string, kernel: string): number {
  const v = attrs[key];
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${kernel}: attr '${key}' must be a number, received ${JSON.stringify(v)}`);
  return v;
}

function like(x: TensorInfo): TypedArray {
  return allocArray(x.dtype, vals(x).length);
}

function checkInputs(kernel: string, inputs: TensorInfo[], expected: number): void {
  if (inputs.length !== expected) throw new RangeError(`${kernel}: expected ${expected} inputs, received ${inputs.length}`);
  const n = vals(inputs[0]).length;
  for (const t of inputs) {
    if (vals(t).length !== n) throw new RangeError(`${kernel}: every input must have the parameter's ${n} elements, one has ${vals(t).length}`);
  }
}

function wrapAll(be: Backend, like: TensorInfo, arrays: TypedArray[]): TensorInfo[] {
  return arrays.map((a) => out(be, a, like.shape, like.dtype));
}

registerKernel({
  kernelName: 'SGDUpdate',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const K = 'SGDUpdate';
    const lr = num(attrs, 'lr', K), momentum = num(attrs, 'momentum', K), dampening = num(attrs, 'dampening', K);
    const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K), nesterov = !!attrs.nesterov;
    checkInputs(K, inputs, momentum !== 0 ? 3 : 2);
    const p = vals(inputs[0]), g = vals(inputs[1]);
    const pn = like(inputs[0]);
    if (momentum === 0) {
      for (let i = 0; i < p.length; i++) pn[i] = p[i] - lr * (g[i] + wd * p[i]);
      return wrapAll(be, inputs[0], [pn]);
    }
    const buf = vals(inputs[2]);
    const bn = like(inputs[0]);
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + wd * p[i];
      const b = step === 1 ? d : momentum * buf[i] + (1 - dampening) * d;
      bn[i] = b;
      d = nesterov ? d + momentum * b : b;
      pn[i] = p[i] - lr * d;
    }
    return wrapAll(be, inputs[0], [pn, bn]);
  },
});

registerKernel({
  kernelName: 'AdamUpdate',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const K = 'AdamUpdate';
    const lr = num(attrs, 'lr', K), beta1 = num(attrs, 'beta1', K), beta2 = num(attrs, 'beta2', K);
    const eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
    const decoupled = !!attrs.decoupled, amsgrad = !!attrs.amsgrad;
    checkInputs(K, inputs, amsgrad ? 5 : 4);
    const p = vals(inputs[0]), g = vals(inputs[1]), m = vals(inputs[2]), v = vals(inputs[3]);
    const vmax = amsgrad ? vals(inputs[4]) : null;
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
    return wrapAll(be, inputs[0], vmaxn ? [pn, mn, vn, vmaxn] : [pn, mn, vn]);
  },
});

registerKernel({
  kernelName: 'RMSpropUpdate',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const K = 'RMSpropUpdate';
    const lr = num(attrs, 'lr', K), alpha = num(attrs, 'alpha', K), eps = num(attrs, 'eps', K);
    const wd = num(attrs, 'weightDecay', K), momentum = num(attrs, 'momentum', K), centered = !!attrs.centered;
    checkInputs(K, inputs, 3 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0));
    const p = vals(inputs[0]), g = vals(inputs[1]), sq = vals(inputs[2]);
    let k = 3;
    const gavg = centered ? vals(inputs[k++]) : null;
    const buf = momentum > 0 ? vals(inputs[k++]) : null;
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
    return wrapAll(be, inputs[0], outs);
  },
});

registerKernel({
  kernelName: 'AdaGradUpdate',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const K = 'AdaGradUpdate';
    const lr = num(attrs, 'lr', K), lrDecay = num(attrs, 'lrDecay', K), eps = num(attrs, 'eps', K);
    const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
    checkInputs(K, inputs, 3);
    const p = vals(inputs[0]), g = vals(inputs[1]), acc = vals(inputs[2]);
    const pn = like(inputs[0]), accn = like(inputs[0]);
    const clr = lr / (1 + (step - 1) * lrDecay);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const a = acc[i] + gi * gi;
      accn[i] = a;
      pn[i] = p[i] - clr * (gi / (Math.sqrt(a) + eps));
    }
    return wrapAll(be, inputs[0], [pn, accn]);
  },
});

registerKernel({
  kernelName: 'AdaDeltaUpdate',
  backendName: 'ts',
  kernelFunc: (inputs, attrs, be) => {
    const K = 'AdaDeltaUpdate';
    const lr = num(attrs, 'lr', K), rho = num(attrs, 'rho', K), eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K);
    checkInputs(K, inputs, 4);
    const p = vals(inputs[0]), g = vals(inputs[1]), sq = vals(inputs[2]), acc = vals(inputs[3]);
    const pn = like(inputs[0]), sqn = like(inputs[0]), accn = like(inputs[0]);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const s = rho * sq[i] + (1 - rho) * gi * gi;
      sqn[i] = s;
      const delta = (Math.sqrt(acc[i] + eps) / Math.sqrt(s + eps)) * gi;
      accn[i] = rho * acc[i] + (1 - rho) * delta * delta;
      pn[i] = p[i] - lr * delta;
    }
    return wrapAll(be, inputs[0], [pn, sqn, accn]);
  },
});
