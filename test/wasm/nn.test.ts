/**
 * wasm activation, softmax, cross-entropy and batch-norm kernels against the ts oracle
 * (which evaluates in float64 and rounds once). The vector exp/log/tanh/erfc are
 * polynomial approximations with ~1e-7 relative error, so activations are held to
 * ACT below (a few float32 ulp, plus an absolute floor where the function crosses 0);
 * row reductions (softmax sums, batch-norm statistics) to tolForK of the row length.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { tolForK } from '../util/close.js';
import { checkKernel, inp, rand, shapeArb, simdSize, smallSize, type In } from './helpers.js';

/** Relative error of a few ulp (2^-23 = 1.2e-7), absolute floor for values near 0. */
const ACT = { atol: 1e-7, rtol: 6e-7 };

/** Values spread over [-lim, lim] with the kinks and specials mixed in. */
function spread(shape: number[], seed: number, lim: number): In {
  const x = inp(shape, seed, -lim, lim);
  const specials = [0, -0, 1e-8, -1e-8, 0.625, -0.625, 0.5, -0.5];
  for (let i = 0; i < x.values.length; i += 5) x.values[i] = specials[(i / 5) % specials.length];
  return x;
}

describe('wasm activations vs ts', () => {
  const fwd: [string, Record<string, unknown>, number][] = [
    ['Relu', {}, 10], ['LeakyRelu', { alpha: 0.01 }, 10], ['LeakyRelu', { alpha: 0.3 }, 10], ['Elu', { alpha: 1 }, 20], ['Elu', { alpha: 0.5 }, 20],
    ['Sigmoid', {}, 30], ['Tanh', {}, 12], ['Step', {}, 3], ['Gelu', { approximate: 'none' }, 12], ['Gelu', { approximate: 'tanh' }, 12],
  ];
  it('forward kernels over drawn shapes and value ranges', () => {
    fc.assert(
      fc.property(shapeArb(3), fc.nat(1000), fc.constantFrom(...fwd), (shape, seed, [name, attrs, lim]) => {
        checkKernel(name, [spread(shape, seed, lim)], attrs, ACT);
      }),
      { numRuns: 150 },
    );
  });
  it('tails: large |x| keep relative accuracy (sigmoid, gelu); NaN and infinities', () => {
    const far = Float32Array.from({ length: 64 }, (_, i) => -87 + i * 2.7);
    for (const [name, attrs] of fwd) checkKernel(name, [{ values: far, shape: [64] }], attrs, ACT);
    const special = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1]);
    for (const [name, attrs] of fwd) checkKernel(name, [{ values: special, shape: [6] }], attrs, ACT);
  });
  it('gradient kernels: [dy, x] or [dy, y] as the oracle documents', () => {
    const grads: [string, Record<string, unknown>, 'x' | 'sig' | 'tanh'][] = [
      ['ReluGrad', {}, 'x'], ['LeakyReluGrad', { alpha: 0.2 }, 'x'], ['EluGrad', { alpha: 0.7 }, 'x'], ['GeluGrad', { approximate: 'none' }, 'x'],
      ['GeluGrad', { approximate: 'tanh' }, 'x'], ['SigmoidGrad', {}, 'sig'], ['TanhGrad', {}, 'tanh'],
    ];
    fc.assert(
      fc.property(shapeArb(3), fc.nat(1000), fc.constantFrom(...grads), (shape, seed, [name, attrs, saved]) => {
        const x = spread(shape, seed, 8);
        if (saved === 'sig') x.values.forEach((v, i) => (x.values[i] = 1 / (1 + Math.exp(-v))));
        if (saved === 'tanh') x.values.forEach((v, i) => (x.values[i] = Math.tanh(v)));
        checkKernel(name, [inp(shape, seed + 1, -2, 2), x], attrs, ACT);
      }),
      { numRuns: 120 },
    );
  });
  it('relu and its gradient at the kink: relu(-0) = 0, relu\'(0) = 0, NaN kept', () => {
    checkKernel('Relu', [{ values: Float32Array.from([-0, 0, NaN, -1, 2]), shape: [5] }], {}, { atol: 0, rtol: 0 });
    checkKernel('ReluGrad', [{ values: Float32Array.from([1, 1, 1, 1, 1]), shape: [5] }, { values: Float32Array.from([-0, 0, 1e-30, -1, 2]), shape: [5] }], {}, { atol: 0, rtol: 0 });
  });
});

describe('wasm softmax family vs ts', () => {
  it('Softmax / LogSoftmax and their gradients along every axis', () => {
    fc.assert(
      fc.property(shapeArb(3).chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length - 1), fc.nat(1000))), ([shape, axis, seed]) => {
        const K = shape[axis];
        const x = inp(shape, seed, -20, 20);
        checkKernel('Softmax', [x], { axis }, { atol: 1e-7, rtol: tolForK(K).rtol });
        checkKernel('LogSoftmax', [x], { axis }, tolForK(K));
        const dy = inp(shape, seed + 1);
        const y = inp(shape, seed + 2, 0, 1);
        checkKernel('SoftmaxGrad', [dy, y], { axis }, tolForK(K));
        const ly = inp(shape, seed + 3, -5, 0);
        checkKernel('LogSoftmaxGrad', [dy, ly], { axis }, tolForK(K));
      }),
      { numRuns: 100 },
    );
  });
  it('rows with -inf, huge logits and NaN', () => {
    const x = Float32Array.from([-Infinity, 0, 1, 2, 1e30, -1e30, 3, 4, NaN, 1, 2, 3]);
    checkKernel('Softmax', [{ values: x, shape: [3, 4] }], { axis: 1 }, ACT);
    checkKernel('LogSoftmax', [{ values: x, shape: [3, 4] }], { axis: 1 }, ACT);
  });
  it('SoftmaxCrossEntropy and its gradient (one-hot and soft labels, -inf in a non-target class)', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 3, 5, 8), simdSize, fc.nat(1000), fc.boolean(), (N, K, seed, soft) => {
        const z = inp([N, K], seed, -10, 10);
        const t = inp([N, K], seed + 1, 0, 1);
        for (let n = 0; n < N; n++) {
          const row = t.values.subarray(n * K, n * K + K);
          if (soft) {
            const s = row.reduce((a, b) => a + b, 0);
            row.forEach((v, i) => (row[i] = v / s));
          } else {
            const c = (seed + n) % K;
            row.fill(0);
            row[c] = 1;
            if (K > 1) z.values[n * K + ((c + 1) % K)] = -Infinity;
          }
        }
        checkKernel('SoftmaxCrossEntropy', [z, t], {}, tolForK(K));
        checkKernel('SoftmaxCrossEntropyGrad', [inp([N], seed + 2), z, t], {}, tolForK(K));
      }),
      { numRuns: 80 },
    );
  });
});

describe('wasm batch norm vs ts', () => {
  it('training forward (y, mean, variance), inference forward and the training gradient', () => {
    fc.assert(
      fc.property(fc.array(smallSize, { minLength: 1, maxLength: 3 }), simdSize, fc.nat(1000), (lead, C, seed) => {
        const shape = [...lead, C];
        const M = lead.reduce((a, b) => a * b, 1);
        // an offset mean per channel makes the centring matter
        const x = inp(shape, seed, 2, 4);
        const gamma = inp([C], seed + 1, 0.5, 1.5), beta = inp([C], seed + 2);
        const tol = tolForK(M);
        // y = (x - mean) * scale: when M = 1 every x equals its mean and y is beta exactly
        checkKernel('BatchNorm', [x, gamma, beta], { epsilon: 1e-5, training: true }, [tol, tol, tol]);
        const mean = inp([C], seed + 3, 2, 4), variance = inp([C], seed + 4, 0.1, 2);
        checkKernel('BatchNorm', [x, gamma, beta, mean, variance], { epsilon: 1e-3, training: false }, ACT);
        const dy = inp(shape, seed + 5);
        // the gradient needs the statistics of x itself (training mode)
        const stats = ck.withBackend('ts', () =>
          ck.tidy(() => {
            const r = ck.runKernel('BatchNorm', [ck.tensor(x.values, shape), ck.tensor(gamma.values, [C]), ck.tensor(beta.values, [C])], { epsilon: 1e-5, training: true });
            return [r[1].dataSync().slice() as Float32Array, r[2].dataSync().slice() as Float32Array];
          }),
        );
        // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) cancels: scale atol by the sizes involved
        checkKernel('BatchNormGrad', [dy, x, gamma, { values: stats[0], shape: [C] }, { values: stats[1], shape: [C] }], { epsilon: 1e-5 }, [{ atol: 2e-5 * Math.sqrt(M), rtol: tol.rtol }, tol, tol]);
      }),
      { numRuns: 80 },
    );
  });
  it('many rows: blocks of rows (4096 / C of them) with a partial last block, channel tails', () => {
    for (const [shape, seed] of [[[3, 50, 41, 5], 1], [[2, 30, 30, 17], 2], [[4, 9, 7, 64], 3], [[1, 1, 3, 1000], 4]] as [number[], number][]) {
      const C = shape[shape.length - 1], M = shape.reduce((a, b) => a * b, 1) / C;
      const x = inp(shape, seed, 2, 4), gamma = inp([C], seed + 1, 0.5, 1.5), beta = inp([C], seed + 2), dy = inp(shape, seed + 3);
      const tol = tolForK(M);
      checkKernel('BatchNorm', [x, gamma, beta], { epsilon: 1e-5, training: true }, [tol, tol, tol]);
      const stats = ck.withBackend('ts', () =>
        ck.tidy(() => {
          const r = ck.runKernel('BatchNorm', [ck.tensor(x.values, shape), ck.tensor(gamma.values, [C]), ck.tensor(beta.values, [C])], { epsilon: 1e-5, training: true });
          return [r[1].dataSync().slice() as Float32Array, r[2].dataSync().slice() as Float32Array];
        }),
      );
      checkKernel('BatchNormGrad', [dy, x, gamma, { values: stats[0], shape: [C] }, { values: stats[1], shape: [C] }], { epsilon: 1e-5 }, [{ atol: 2e-5 * Math.sqrt(M), rtol: tol.rtol }, tol, tol]);
    }
  });
  it('the batchNorm op trains on wasm without fallback and matches ts gradients', () => {
    const xv = rand(4 * 3 * 3 * 6, 5, -2, 3);
    const run = (b: string) =>
      ck.withBackend(b, () =>
        ck.tidy(() => {
          const x = ck.tensor(xv, [4, 3, 3, 6]);
          const g = ck.tensor(rand(6, 6, 0.5, 1.5), [6]), bt = ck.tensor(rand(6, 7), [6]);
          const { value, grads } = ck.valueAndGrad((a: ck.Tensor, b2: ck.Tensor, c: ck.Tensor) => ck.sum(ck.square(ck.batchNorm(a, b2, c, { training: true }))))(x, g, bt);
          return [value.item(), ...grads.map((t) => t.toArray())] as [number, ...number[][]];
        }),
      );
    const want = run('ts');
    ck.clearFallbacks();
    const got = run('wasm');
    expect(ck.getFallbacks()).toEqual([]);
    expect(got[0]).toBeCloseTo(want[0] as number, 3);
    for (let i = 1; i < 4; i++) (got[i] as number[]).forEach((v, j) => expect(Math.abs(v - (want[i] as number[])[j])).toBeLessThan(1e-3));
  });
});

describe('wasm local response normalisation vs ts', () => {
  it('LRN and LRNGrad over channel counts around the SIMD width and window sizes', () => {
    fc.assert(
      fc.property(fc.array(smallSize, { minLength: 1, maxLength: 3 }), simdSize, fc.constantFrom(1, 2, 3, 5, 7), fc.nat(1000), (lead, C, size, seed) => {
        const shape = [...lead, C];
        const attrs = { size, alpha: 1e-2 * (1 + (seed % 5)), beta: 0.75, k: seed % 2 ? 2 : 1 };
        const x = inp(shape, seed, -3, 3);
        checkKernel('LRN', [x], attrs, ACT);
        // dx sums up to `size` terms of either sign
        checkKernel('LRNGrad', [inp(shape, seed + 1), x], attrs, { atol: 1e-6, rtol: 2e-6 });
      }),
      { numRuns: 80 },
    );
  });
});

describe('wasm nn kernels: sizes that are not a multiple of 4 read and write nothing outside', () => {
  it('outputs are exactly the tensor (neighbouring storages untouched)', () => {
    ck.withBackend('wasm', () =>
      ck.tidy(() => {
        const guard1 = ck.full([5], 7);
        const x = ck.tensor(rand(7, 1), [7]);
        const guard2 = ck.full([5], 9);
        for (const op of [ck.relu, ck.sigmoid, ck.tanh, (t: ck.Tensor) => ck.softmax(t), (t: ck.Tensor) => ck.exp(t)]) op(x);
        expect(guard1.toArray()).toEqual([7, 7, 7, 7, 7]);
        expect(guard2.toArray()).toEqual([9, 9, 9, 9, 9]);
      }),
    );
  });
});
