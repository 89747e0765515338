/**
 * Finite-difference gradient checks in float64 (PyTorch gradcheck's numbers: central
 * differences, eps 1e-6, atol 1e-5, rtol 1e-3).
 *
 * `gradcheck(f, inputs)` reduces f's output to a scalar with a fixed random cotangent
 * (so every output element matters), then compares autograd's gradient for every
 * input element with (L(x + eps) - L(x - eps)) / 2 eps. `directionalCheck` compares
 * only the derivative along one random direction (JAX check_grads), for big ops.
 */
import { expect } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

export interface GradcheckOpts {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Indices of inputs to check (default all float inputs). */
  wrt?: number[];
}

function scalarLoss(f: (...xs: Tensor[]) => Tensor, seed: number) {
  let cot: Tensor | null = null;
  return (...xs: Tensor[]): Tensor => {
    const y = f(...xs);
    if (!cot) cot = ck.keep(ck.randomNormal(y.shape, { seed, dtype: 'float64' }));
    if (y.dtype !== 'float64') throw new Error(`gradcheck needs float64 outputs, got ${y.dtype}`);
    return ck.sum(ck.mul(y, cot));
  };
}

export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOpts = {}): void {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-3;
  for (const x of inputs) if (x.dtype === 'float64' || x.dtype === 'int32') continue; else throw new Error(`gradcheck: input ${x.describe()} must be float64`);
  const L = scalarLoss(f, opts.seed ?? 7);
  const wrt = opts.wrt ?? inputs.map((x, i) => (x.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  const analytic = ck.valueAndGrad((...xs: Tensor[]) => L(...xs))(...inputs).grads;
  const evalAt = (xs: Tensor[]) => ck.noGrad(() => L(...xs).item());
  for (const i of wrt) {
    const base = Float64Array.from(inputs[i].dataSync());
    const ga = analytic[i].dataSync();
    for (let j = 0; j < base.length; j++) {
      const plus = base.slice(); plus[j] += eps;
      const minus = base.slice(); minus[j] -= eps;
      const xp = inputs.map((t, k) => (k === i ? ck.tensor(plus, t.shape, 'float64') : t));
      const xm = inputs.map((t, k) => (k === i ? ck.tensor(minus, t.shape, 'float64') : t));
      const numeric = (evalAt(xp) - evalAt(xm)) / (2 * eps);
      const a = ga[j];
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        expect.fail(`gradient of input ${i} at element ${j}: autograd ${a}, finite differences ${numeric}`);
      }
    }
  }
}

/** Compare <grad, v> with (L(x + eps v) - L(x - eps v)) / 2 eps for one random v per input. */
export function directionalCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOpts = {}): void {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-3;
  const L = scalarLoss(f, opts.seed ?? 7);
  const wrt = opts.wrt ?? inputs.map((x, i) => (x.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  const { grads } = ck.valueAndGrad((...xs: Tensor[]) => L(...xs))(...inputs);
  const dirs = inputs.map((t, i) => (wrt.includes(i) ? ck.randomNormal(t.shape, { seed: 100 + i, dtype: 'float64' }) : ck.zerosLike(t)));
  let analytic = 0;
  for (const i of wrt) analytic += ck.sum(ck.mul(grads[i], dirs[i])).item();
  const shifted = (s: number) => inputs.map((t, i) => (wrt.includes(i) ? ck.add(t, ck.mul(dirs[i], s)) : t));
  const numeric = ck.noGrad(() => (L(...shifted(eps)).item() - L(...shifted(-eps)).item()) / (2 * eps));
  expect(Math.abs(analytic - numeric), `directional derivative: autograd ${analytic}, finite differences ${numeric}`).toBeLessThanOrEqual(atol + rtol * Math.abs(numeric));
}
