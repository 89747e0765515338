/**
 * wasm fused optimiser kernels: the kernels against the float64 reference over every
 * option combination are in the conformance suite (test/kernels/cases/optim.ts, every
 * backend); here the input check, and the optimiser classes themselves run for several
 * steps on wasm and ts.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { rand } from '../util/rand.mjs';

describe('wasm optimiser kernels: pinned cases', () => {
  it('rejects mismatched inputs like the oracle', () => {
    const attrs = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, step: 1 };
    const run = () => ck.withBackend('wasm', () => ck.tidy(() => ck.runKernel('SGDUpdate', [ck.tensor(rand(4, 1)), ck.tensor(rand(5, 2))], attrs)));
    expect(run).toThrow(/every input must have the parameter's 4 elements, one has 5/);
  });
});

describe('optimiser classes on wasm vs ts (five steps, no fallback)', () => {
  const makers: [string, () => ck.Optimizer][] = [
    ['sgd', () => new ck.SGD({ lr: 0.1 })],
    ['sgd nesterov', () => new ck.SGD({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['adam', () => new ck.Adam({ lr: 1e-2 })],
    ['adamw amsgrad', () => new ck.AdamW({ lr: 1e-2, amsgrad: true })],
    ['rmsprop centered momentum', () => new ck.RMSprop({ lr: 1e-2, centered: true, momentum: 0.5 })],
    ['adagrad', () => new ck.AdaGrad({ lr: 0.1 })],
    ['adadelta', () => new ck.AdaDelta({ lr: 1 })],
  ];
  for (const [label, make] of makers) {
    it(label, () => {
      const run = (backend: string) =>
        ck.withBackend(backend, () => {
          const w = ck.tensor(rand(13, 3), [13]);
          w.requiresGrad = true;
          const opt = make();
          for (let s = 0; s < 5; s++) {
            ck.tidy(() => ck.backward(ck.sum(ck.mul(ck.square(ck.sub(w, 0.3)), ck.tensor(rand(13, 4 + s, 0.5, 2), [13])))));
            opt.step([w]);
            opt.zeroGrad([w]);
          }
          const out = w.toArray();
          opt.dispose();
          w.dispose();
          return out;
        });
      const want = run('ts');
      ck.clearFallbacks();
      const got = run('wasm');
      expect(ck.getFallbacks()).toEqual([]);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(want[i])));
    });
  }
});
