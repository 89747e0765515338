/**
 * wasm activation, softmax and batch-norm kernels: the cases the conformance suite's
 * random draws (test/kernels, every backend) do not pin: far tails and special values,
 * the relu kink, rows with -inf and NaN, batch norm over many rows, the ops end to end,
 * and writes that stay inside the output. The vector exp/log/tanh/erfc are polynomial
 * approximations with ~1e-7 relative error, so activations are held to ACT below (a few
 * float32 ulp, plus an absolute floor where the function crosses 0).
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectKernel } from '../kernels/harness.js';
import { f32 } from '../kernels/cases/common.js';
import { rand } from '../util/rand.mjs';

/** Relative error of a few ulp (2^-23 = 1.2e-7), absolute floor for values near 0. */
const ACT = { atol: 1e-7, rtol: 6e-7 };

const fwd: [string, Record<string, unknown>][] = [
  ['Relu', {}], ['LeakyRelu', { alpha: 0.01 }], ['LeakyRelu', { alpha: 0.3 }], ['Elu', { alpha: 1 }], ['Elu', { alpha: 0.5 }],
  ['Sigmoid', {}], ['Tanh', {}], ['Step', {}], ['Gelu', { approximate: 'none' }], ['Gelu', { approximate: 'tanh' }],
];

describe('wasm activations: pinned cases', () => {
  it('tails: large |x| keep relative accuracy (sigmoid, gelu); NaN and infinities', async () => {
    const far = Float32Array.from({ length: 64 }, (_, i) => -87 + i * 2.7);
    const special = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1]);
    for (const [name, attrs] of fwd) {
      if (!ck.listKernels('ts').includes(name)) continue; // a fused kernel replaced by a composite
      await expectKernel('wasm', name, [{ values: far, shape: [64] }], attrs, ACT);
      await expectKernel('wasm', name, [{ values: special, shape: [6] }], attrs, ACT);
    }
  });
  it("relu and its gradient at the kink: relu(-0) = 0, relu'(0) = 0, NaN kept", async () => {
    await expectKernel('wasm', 'Relu', [{ values: Float32Array.from([-0, 0, NaN, -1, 2]), shape: [5] }]);
    await expectKernel('wasm', 'ReluGrad', [{ values: Float32Array.from([1, 1, 1, 1, 1]), shape: [5] }, { values: Float32Array.from([-0, 0, 1e-30, -1, 2]), shape: [5] }]);
  });
});

describe('wasm softmax family: pinned cases', () => {
  it('rows with -inf, huge logits and NaN', async () => {
    const x = Float32Array.from([-Infinity, 0, 1, 2, 1e30, -1e30, 3, 4, NaN, 1, 2, 3]);
    await expectKernel('wasm', 'Softmax', [{ values: x, shape: [3, 4] }], { axis: 1 }, ACT);
    await expectKernel('wasm', 'LogSoftmax', [{ values: x, shape: [3, 4] }], { axis: 1 }, ACT);
  });
});

describe('wasm batch norm: pinned cases', () => {
  it('many rows: blocks of rows (4096 / C of them) with a partial last block, channel tails', async () => {
    for (const [shape, seed] of [[[3, 50, 41, 5], 1], [[2, 30, 30, 17], 2], [[4, 9, 7, 64], 3], [[1, 1, 3, 1000], 4]] as [number[], number][]) {
      const C = shape[shape.length - 1], M = shape.reduce((a, b) => a * b, 1) / C;
      const x = f32(shape, seed, 2, 4), gamma = f32([C], seed + 1, 0.5, 1.5), beta = f32([C], seed + 2), dy = f32(shape, seed + 3);
      await expectKernel('wasm', 'BatchNorm', [x, gamma, beta], { epsilon: 1e-5, training: true }, 2e-6, M);
      const stats = ck.withBackend('ts', () =>
        ck.tidy(() => {
          const r = ck.runKernel('BatchNorm', [ck.tensor(x.values, shape), ck.tensor(gamma.values, [C]), ck.tensor(beta.values, [C])], { epsilon: 1e-5, training: true });
          return [r[1].dataSync().slice() as Float32Array, r[2].dataSync().slice() as Float32Array];
        }),
      );
      // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) cancels
      await expectKernel('wasm', 'BatchNormGrad', [dy, x, gamma, { values: stats[0], shape: [C] }, { values: stats[1], shape: [C] }], { epsilon: 1e-5 }, 2e-5, M);
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
