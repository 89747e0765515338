/**
 * wasm fused optimiser kernels against the ts oracle (which carries the update in
 * float64 and rounds once): every option combination, first and later steps, sizes
 * around the SIMD width. The wasm kernels compute in float32, so parameters and states
 * agree to a few ulp of their magnitude (OPT); then the optimiser classes themselves
 * are run for several steps on both backends.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { checkKernel, inp, rand, simdSize, type In } from './helpers.js';

/**
 * float32 rounds each update term to ~2^-23 relative; terms reach a few units (g/avg,
 * m/sqrt(v) with the state floors below) and may cancel (momentum*buf + g/avg), so the
 * absolute part allows ~16 ulp of a term of size 1.
 */
const OPT = { atol: 2e-6, rtol: 2e-6 };

const size = fc.oneof(simdSize, fc.constantFrom(31, 64, 100));

/**
 * [p, g] and one state tensor per entry of `nonNeg`: running averages of squares are in
 * [0.05, 1] (a squared-gradient average near 0 with a gradient of 1 is not a state an
 * optimiser reaches), the others in [-1, 1].
 */
function operands(n: number, seed: number, nonNeg: boolean[]): In[] {
  const out = [inp([n], seed, -1, 1), inp([n], seed + 1, -1, 1)];
  nonNeg.forEach((nn, i) => out.push(inp([n], seed + 2 + i, nn ? 0.05 : -1, 1)));
  return out;
}

describe('wasm optimiser kernels vs ts', () => {
  it('SGDUpdate: plain, momentum, dampening, Nesterov, weight decay, first and later steps', () => {
    fc.assert(
      fc.property(size, fc.nat(1000), fc.constantFrom(0, 0.9), fc.constantFrom(0, 0.1), fc.constantFrom(0, 1e-2), fc.boolean(), fc.constantFrom(1, 2, 7), (n, seed, momentum, damp, wd, nesterov, step) => {
        const nest = nesterov && momentum > 0;
        const dampening = nest ? 0 : damp;
        const attrs = { lr: 0.05, momentum, dampening, weightDecay: wd, nesterov: nest, step };
        checkKernel('SGDUpdate', operands(n, seed, momentum ? [false] : []), attrs, OPT);
      }),
      { numRuns: 80 },
    );
  });
  it('AdamUpdate: Adam, AdamW (decoupled), amsgrad, several steps', () => {
    fc.assert(
      fc.property(size, fc.nat(1000), fc.boolean(), fc.boolean(), fc.constantFrom(0, 1e-2), fc.constantFrom(1, 2, 10, 1000), (n, seed, decoupled, amsgrad, wd, step) => {
        const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, decoupled, amsgrad, step };
        const ops = operands(n, seed, amsgrad ? [false, true, true] : [false, true]);
        // second moments: running means of squared gradients, so sqrt(v) is of the order of
        // |m| and the step m / sqrt(v) stays O(1) (float32 then rounds it to a few ulp)
        for (let i = 3; i < ops.length; i++) ops[i].values.forEach((v, j) => (ops[i].values[j] = 1e-2 + v * v * 0.1));
        checkKernel('AdamUpdate', ops, attrs, OPT);
      }),
      { numRuns: 80 },
    );
  });
  it('RMSpropUpdate: plain, centered, momentum, weight decay', () => {
    fc.assert(
      fc.property(size, fc.nat(1000), fc.boolean(), fc.constantFrom(0, 0.9), fc.constantFrom(0, 1e-2), (n, seed, centered, momentum, wd) => {
        const ops = operands(n, seed, [true, ...(centered ? [false] : []), ...(momentum ? [false] : [])]);
        // a centred average needs sq >= gavg^2 (it is a running variance)
        if (centered) ops[2].values.forEach((v, j) => (ops[2].values[j] = ops[3].values[j] ** 2 + 0.1 + v));
        const attrs = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: wd, momentum, centered };
        checkKernel('RMSpropUpdate', ops, attrs, OPT);
      }),
      { numRuns: 60 },
    );
  });
  it('AdaGradUpdate and AdaDeltaUpdate', () => {
    fc.assert(
      fc.property(size, fc.nat(1000), fc.constantFrom(0, 1e-2), fc.constantFrom(0, 0.1), fc.constantFrom(1, 3, 50), (n, seed, wd, lrDecay, step) => {
        checkKernel('AdaGradUpdate', operands(n, seed, [true]), { lr: 1e-2, lrDecay, eps: 1e-10, weightDecay: wd, step }, OPT);
        checkKernel('AdaDeltaUpdate', operands(n, seed, [true, true]), { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: wd }, OPT);
      }),
      { numRuns: 60 },
    );
  });
  it('rejects mismatched inputs like the oracle', () => {
    const bad = [inp([4], 1), inp([5], 2)];
    expect(() => checkKernel('SGDUpdate', bad, { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, step: 1 })).toThrow(/every input must have the parameter's 4 elements, one has 5/);
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
