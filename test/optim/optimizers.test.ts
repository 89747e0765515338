/**
 * Optimisers against first (and second) steps derived by hand from PyTorch's update
 * rules; the longer trajectories with weight decay, Nesterov, AMSGrad, centred
 * RMSprop etc. are checked against PyTorch itself through test/vectors/torch.json
 * (test/verify).
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';

const F64 = { atol: 1e-12, rtol: 1e-12 };

/** A float64 parameter with a fixed gradient attached. */
function param(values: number[], grad: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const p = ck.tensor(values, [values.length], dtype).requireGrad();
  p.grad = ck.keep(ck.tensor(grad, [grad.length], dtype));
  return p;
}

function setGrad(p: Tensor, grad: number[]): void {
  p.zeroGrad();
  p.grad = ck.keep(ck.tensor(grad, [grad.length], p.dtype));
}

const P = [1, -2, 0.5];
const G = [0.5, 1, -0.25];
const map = (f: (p: number, g: number, i: number) => number) => P.map((p, i) => f(p, G[i], i));

describe('SGD', () => {
  it('plain step: p - lr g', () => {
    const p = param(P, G);
    new ck.SGD({ lr: 0.1 }).step([p]);
    expectClose(p.dataSync(), map((p, g) => p - 0.1 * g), F64);
  });

  it('momentum + weight decay: first step uses buf = d, second buf = m buf + d', () => {
    const p = param(P, G);
    const opt = new ck.SGD({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    opt.step([p]);
    const d1 = map((p, g) => g + 0.1 * p);
    const p1 = map((p, _g, i) => p - 0.1 * d1[i]);
    expectClose(p.dataSync(), p1, F64);
    expectClose(opt.stateOf(p)!.slots.momentumBuffer.dataSync(), d1, F64);
    opt.step([p]);
    const d2 = p1.map((q, i) => G[i] + 0.1 * q);
    const b2 = d2.map((d, i) => 0.9 * d1[i] + d);
    expectClose(p.dataSync(), p1.map((q, i) => q - 0.1 * b2[i]), F64);
    expect(opt.stateOf(p)!.step).toBe(2);
  });

  it('dampening scales the new gradient after the first step', () => {
    const p = param(P, G);
    const opt = new ck.SGD({ lr: 0.1, momentum: 0.5, dampening: 0.5 });
    opt.step([p]);
    opt.step([p]);
    const p1 = map((p, g) => p - 0.1 * g);
    const b2 = G.map((g) => 0.5 * g + 0.5 * g);
    expectClose(p.dataSync(), p1.map((q, i) => q - 0.1 * b2[i]), F64);
  });

  it('nesterov: first step moves by lr (g + m g)', () => {
    const p = param(P, G);
    ck.makeOptimizer('nesterov', { lr: 0.1 }).step([p]);
    expectClose(p.dataSync(), map((p, g) => p - 0.1 * (g + 0.9 * g)), F64);
  });

  it('rejects nesterov without momentum and a missing lr', () => {
    expect(() => new ck.SGD({ lr: 0.1, nesterov: true })).toThrow(/nesterov momentum requires momentum > 0/);
    expect(() => ck.makeOptimizer('sgd', {})).toThrow(/lr is required/);
    expect(() => new ck.SGD({ lr: -1 })).toThrow(/lr must be a number >= 0/);
  });
});

describe('Adam and AdamW', () => {
  const eps = 1e-8;
  it('Adam first step is p - lr g / (|g| + eps) (bias correction undoes the averages)', () => {
    const p = param(P, G);
    const opt = new ck.Adam({ lr: 0.01 });
    opt.step([p]);
    expectClose(p.dataSync(), map((p, g) => p - 0.01 * g / (Math.abs(g) + eps)), F64);
    expectClose(opt.stateOf(p)!.slots.expAvg.dataSync(), G.map((g) => 0.1 * g), F64);
    expectClose(opt.stateOf(p)!.slots.expAvgSq.dataSync(), G.map((g) => 0.001 * g * g), F64);
  });

  it('Adam second step with L2 weight decay in the gradient', () => {
    const p = param(P, G);
    const opt = new ck.Adam({ lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.5 });
    opt.step([p]);
    opt.step([p]);
    // by hand: two steps of the rule, with g_t = G + 0.5 p_{t-1}
    let q = [...P], m = [0, 0, 0], v = [0, 0, 0];
    for (let t = 1; t <= 2; t++) {
      q = q.map((pi, i) => {
        const g = G[i] + 0.5 * pi;
        m[i] = 0.8 * m[i] + 0.2 * g;
        v[i] = 0.9 * v[i] + 0.1 * g * g;
        const mh = m[i] / (1 - 0.8 ** t), vh = v[i] / (1 - 0.9 ** t);
        return pi - 0.01 * mh / (Math.sqrt(vh) + eps);
      });
    }
    expectClose(p.dataSync(), q, { atol: 1e-12, rtol: 1e-10 });
  });

  it('AdamW decays the weights before the step, default weightDecay 0.01', () => {
    const p = param(P, G);
    const opt = new ck.AdamW({ lr: 0.1 });
    expect(opt.weightDecay).toBe(0.01);
    opt.step([p]);
    expectClose(p.dataSync(), map((p, g) => p * (1 - 0.1 * 0.01) - 0.1 * g / (Math.abs(g) + eps)), F64);
  });

  it('AMSGrad keeps the running maximum of the second moment', () => {
    const p = param(P, G);
    const opt = new ck.Adam({ lr: 0.01, amsgrad: true });
    opt.step([p]);
    setGrad(p, [0, 0, 0]);
    opt.step([p]);
    const st = opt.stateOf(p)!.slots;
    expectClose(st.maxExpAvgSq.dataSync(), G.map((g) => 0.001 * g * g), F64);
    expectClose(st.expAvgSq.dataSync(), G.map((g) => 0.999 * 0.001 * g * g), F64);
  });
});

describe('RMSprop, AdaGrad, AdaDelta', () => {
  it('RMSprop first step: p - lr g / (sqrt((1-alpha) g^2) + eps)', () => {
    const p = param(P, G);
    new ck.RMSprop().step([p]);
    expectClose(p.dataSync(), map((p, g) => p - 0.01 * g / (Math.sqrt(0.01 * g * g) + 1e-8)), F64);
  });

  it('RMSprop centred with momentum: buffer = g / avg at step 1', () => {
    const p = param(P, G);
    const opt = new ck.RMSprop({ lr: 0.1, alpha: 0.9, momentum: 0.5, centered: true });
    opt.step([p]);
    const avg = G.map((g) => Math.sqrt(0.1 * g * g - (0.1 * g) ** 2) + 1e-8);
    const buf = G.map((g, i) => g / avg[i]);
    expectClose(opt.stateOf(p)!.slots.momentumBuffer.dataSync(), buf, F64);
    expectClose(opt.stateOf(p)!.slots.gradAvg.dataSync(), G.map((g) => 0.1 * g), F64);
    expectClose(p.dataSync(), map((p, _g, i) => p - 0.1 * buf[i]), F64);
  });

  it('AdaGrad with an initial accumulator and lr decay', () => {
    const p = param(P, G);
    const opt = new ck.AdaGrad({ lr: 0.1, initialAccumulator: 0.1, lrDecay: 0.5 });
    opt.step([p]);
    const s1 = G.map((g) => 0.1 + g * g);
    const p1 = map((p, g, i) => p - 0.1 * g / (Math.sqrt(s1[i]) + 1e-10));
    expectClose(p.dataSync(), p1, F64);
    opt.step([p]);
    const s2 = s1.map((s, i) => s + G[i] * G[i]);
    expectClose(p.dataSync(), p1.map((q, i) => q - (0.1 / 1.5) * G[i] / (Math.sqrt(s2[i]) + 1e-10)), F64);
  });

  it('AdaDelta first step (lr 1, rho 0.9, eps 1e-6)', () => {
    const p = param(P, G);
    const opt = new ck.AdaDelta();
    opt.step([p]);
    const delta = G.map((g) => (Math.sqrt(1e-6) / Math.sqrt(0.1 * g * g + 1e-6)) * g);
    expectClose(p.dataSync(), map((p, _g, i) => p - delta[i]), F64);
    expectClose(opt.stateOf(p)!.slots.accDelta.dataSync(), delta.map((d) => 0.1 * d * d), F64);
  });
});

describe('Optimizer mechanics', () => {
  it('skips parameters without a gradient, keeps parameter identity, counts iterations', () => {
    const a = param(P, G);
    const b = ck.tensor([3, 4], [2], 'float64').requireGrad();
    const opt = new ck.SGD({ lr: 1 });
    opt.step([a, b, a]); // a listed twice is updated once
    expect(b.toArray()).toEqual([3, 4]);
    expect(opt.stateOf(b)).toBeUndefined();
    expectClose(a.dataSync(), map((p, g) => p - g), F64);
    expect(a.requiresGrad).toBe(true);
    expect(opt.iterations).toBe(1);
    opt.zeroGrad([a, b]);
    expect(a.grad).toBeNull();
  });

  it('frees what it replaces: storage count is stable across steps', () => {
    const p = param(P, G);
    const opt = new ck.Adam({ amsgrad: true });
    opt.step([p]);
    const before = ck.memory().ts.storages;
    for (let i = 0; i < 5; i++) opt.step([p]);
    expect(ck.memory().ts.storages).toBe(before);
    opt.dispose();
    expect(ck.memory().ts.storages).toBe(before - 3);
  });

  it('state survives an enclosing tidy and the update records no graph', () => {
    const p = param(P, G);
    const opt = new ck.SGD({ lr: 0.1, momentum: 0.9 });
    ck.tidy(() => opt.step([p]));
    expect(opt.stateOf(p)!.slots.momentumBuffer.isDisposed).toBe(false);
    expect(p.node).toBeNull();
    expect(p.isDisposed).toBe(false);
  });

  it('runs in float32 with one fused kernel per parameter', () => {
    const p = param(P, G, 'float32');
    const opt = new ck.Adam({ lr: 0.01 });
    opt.step([p]);
    expect(p.dtype).toBe('float32');
    expectClose(p.dataSync(), map((p, g) => p - 0.01 * Math.sign(g)), { atol: 1e-6, rtol: 1e-6 });
  });

  it('rejects a gradient of the wrong shape', () => {
    const p = ck.tensor([1, 2], [2], 'float64').requireGrad();
    p.grad = ck.tensor([1, 2, 3], [3], 'float64');
    expect(() => new ck.SGD({ lr: 0.1 }).step([p])).toThrow(/gradient of parameter .* has shape \[3\], expected \[2\]/);
  });

  it('getConfig round-trips through makeOptimizer, schedules included', () => {
    const opts: [ck.OptimizerKind, Record<string, unknown>][] = [
      ['sgd', { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }],
      ['adam', { lr: ck.cosineDecay({ initial: 0.01, decaySteps: 10, warmupSteps: 2 }), amsgrad: true }],
      ['adamw', { lr: 0.002 }],
      ['rmsprop', { centered: true, momentum: 0.1 }],
      ['adagrad', { initialAccumulator: 0.1 }],
      ['adadelta', { rho: 0.95 }],
    ];
    for (const [name, o] of opts) {
      const a = ck.makeOptimizer(name, o);
      const c = a.getConfig();
      const b = ck.makeOptimizer(c.name, JSON.parse(JSON.stringify(c)));
      expect(b.getConfig()).toEqual(c);
      expect(b.currentLr()).toBe(a.currentLr());
    }
    expect(ck.makeOptimizer('momentum', { lr: 0.1 }).getConfig()).toMatchObject({ name: 'sgd', momentum: 0.9, nesterov: false });
    expect(() => new ck.SGD({ lr: (s: number) => 0.1 / (s + 1) }).getConfig()).toThrow(/plain function, which cannot be saved/);
    expect(() => ck.makeOptimizer('lbfgs' as ck.OptimizerKind)).toThrow(/unknown optimizer 'lbfgs'/);
  });

  it('a schedule sets the rate of each step from the iteration count', () => {
    const p = param([0], [1]);
    const opt = new ck.SGD({ lr: ck.stepDecay({ initial: 1, stepSize: 2, gamma: 0.5 }) });
    const moves: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = p.item();
      opt.step([p]);
      moves.push(before - p.item());
    }
    expect(moves).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
});
