/**
 * The composites of src/ops/composites.ts (what the fused Elu, LeakyRelu, Step, LRN and
 * inference batch-norm kernels are benchmarked against) compute the ops' values and
 * gradients, on ts (float64) and wasm (float32). (softplus is itself a composite now, in
 * src/ops/activation.ts, tested in test/ops/activation.test.ts.)
 */
import { describe, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import {
  batchNormInferenceComposite, eluComposite, leakyReluComposite, lrnComposite, stepComposite,
} from '../../src/ops/composites.js';
import { expectClose } from '../util/close.js';

function values(n: number, seed: number, lim: number): number[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return i % 7 === 0 ? 0 : (s / 2147483648 * 2 - 1) * lim;
  });
}

const lrnOpts = { size: 5, alpha: 1e-2, beta: 0.75, k: 2 };
const pairs: [string, (x: Tensor) => Tensor, (x: Tensor) => Tensor, number][] = [
  ['leakyRelu', (x) => ck.leakyRelu(x, 0.2), (x) => leakyReluComposite(x, 0.2), 5],
  ['elu', (x) => ck.elu(x, 0.7), (x) => eluComposite(x, 0.7), 5],
  ['step', (x) => ck.step(x), (x) => stepComposite(x), 3],
  ['lrn', (x) => ck.lrn(x, lrnOpts), (x) => lrnComposite(x, lrnOpts), 4],
];

for (const [backend, dtype, tol] of [['ts', 'float64', { atol: 1e-12, rtol: 1e-10 }], ['wasm', 'float32', { atol: 1e-6, rtol: 1e-5 }]] as const) {
  describe(`composites match the fused kernels on ${backend}`, () => {
    for (const [name, fused, composite, lim] of pairs) {
      it(name, () =>
        ck.withBackend(backend, () => {
          const x = ck.tensor(values(2 * 3 * 11, name.length, lim), [2, 3, 11], dtype);
          expectClose(composite(x), fused(x), tol);
          if (name === 'step') return;
          const gf = ck.grad((t: Tensor) => ck.sum(ck.mul(fused(t), t)))(x)[0];
          const gc = ck.grad((t: Tensor) => ck.sum(ck.mul(composite(t), t)))(x)[0];
          expectClose(gc, gf, tol);
        }));
    }
    it('batchNorm inference', () =>
      ck.withBackend(backend, () => {
        const x = ck.tensor(values(4 * 5 * 6, 3, 3), [4, 5, 6], dtype);
        const [g, b, m] = [7, 8, 9].map((s) => ck.tensor(values(6, s, 2), [6], dtype));
        const v = ck.tensor(values(6, 10, 1).map((u) => u * u + 0.1), [6], dtype);
        expectClose(batchNormInferenceComposite(x, g, b, m, v, 1e-3), ck.batchNorm(x, g, b, { mean: m, variance: v, epsilon: 1e-3, training: false }), tol);
      }));
  });
}
