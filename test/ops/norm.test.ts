import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';
import { torchVectorTests } from './nn_vectors.js';
import { describeOnCpuBackends } from '../util/backends.js';

const f64 = (shape: number[], seed: number, std = 1, mean = 0) => ck.randomNormal(shape, { seed, std, mean, dtype: 'float64' });
const t64 = (v: number[], shape: number[]) => ck.tensor(v, shape, 'float64');

describe('batchNorm', () => {
  it('training: a worked example with batch statistics (biased variance)', () => {
    // Channel 0: 1, 3 -> mean 2, variance 1. Channel 1: 2, 6 -> mean 4, variance 4.
    const x = t64([1, 2, 3, 6], [2, 2]);
    const { y, mean, variance } = ck.batchNormWithStats(x, t64([2, 0.5], [2]), t64([1, -1], [2]), { epsilon: 0 });
    expect(mean.toArray()).toEqual([2, 4]);
    expect(variance.toArray()).toEqual([1, 4]);
    expect(y.toArray()).toEqual([2 * -1 + 1, 0.5 * -1 - 1, 2 * 1 + 1, 0.5 * 1 - 1]);
    // No gamma/beta: plain standardisation; epsilon enters under the square root.
    expectClose(ck.batchNorm(x, null, null, { epsilon: 1 }), [-1 / Math.sqrt(2), -2 / Math.sqrt(5), 1 / Math.sqrt(2), 2 / Math.sqrt(5)], { atol: 1e-15, rtol: 1e-15 });
  });
  it('inference: uses the given mean and variance, and training defaults to false when they are given', () => {
    const x = t64([1, 2, 3, 6], [2, 2]);
    const mean = t64([0, 2], [2]), variance = t64([4, 1], [2]);
    const expected = [0.5 * 3 + 1, 0 * 2 - 1, 1.5 * 3 + 1, 4 * 2 - 1];
    expect(ck.batchNorm(x, t64([3, 2], [2]), t64([1, -1], [2]), { mean, variance, epsilon: 0 }).toArray()).toEqual(expected);
    expect(ck.batchNorm(x, t64([3, 2], [2]), t64([1, -1], [2]), { mean, variance, epsilon: 0, training: false }).toArray()).toEqual(expected);
    // training: true ignores the running statistics.
    expect(ck.batchNorm(x, null, null, { mean, variance, epsilon: 0, training: true }).toArray()).toEqual([-1, -1, 1, 1]);
  });
  it('NHWC: statistics over N, H and W per channel', () => {
    const x = f64([3, 4, 5, 2], 1, 3, 7);
    const y = ck.batchNorm(x, null, null, { epsilon: 0 });
    expectClose(ck.mean(y, { axes: [0, 1, 2] }), [0, 0], { atol: 1e-13, rtol: 0 });
    expectClose(ck.mean(ck.square(y), { axes: [0, 1, 2] }), [1, 1], { atol: 1e-12, rtol: 0 });
  });
  it('NaN in a channel makes that channel NaN and leaves the others alone', () => {
    const y = ck.batchNorm(t64([NaN, 1, 2, 3, 4, 5], [3, 2])).toArray();
    expect([y[0], y[2], y[4]].every(Number.isNaN)).toBe(true);
    expect([y[1], y[3], y[5]].some(Number.isNaN)).toBe(false);
  });
  it('gradients in training mode (BatchNormGrad kernel) over random shapes, with and without gamma/beta', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), (rank, C, seed) => {
        const shape = [2, ...Array(rank - 2).fill(2), C];
        const x = f64(shape, seed, 2, 1);
        const g = f64([C], seed + 1), b = f64([C], seed + 2);
        gradcheck((t, gg, bb) => ck.batchNorm(t, gg, bb, { epsilon: 1e-3 }), [x, g, b]);
        gradcheck((t) => ck.batchNorm(t, null, null), [x]);
        gradcheck((t, gg) => ck.batchNorm(t, gg, null), [x, g]);
      }),
      { numRuns: 8 },
    );
  });
  it('gradients in inference mode reach x, gamma, beta, mean and variance', () => {
    const x = f64([2, 3, 2, 3], 5);
    const g = f64([3], 6), b = f64([3], 7), m = f64([3], 8), v = ck.add(ck.abs(f64([3], 9)), 0.5);
    gradcheck((t, gg, bb, mm, vv) => ck.batchNorm(t, gg, bb, { mean: mm, variance: vv, training: false }), [x, g, b, m, v]);
  });
  it('float32 agrees with float64', () => {
    const x = f64([4, 3, 3, 5], 11, 2, 3);
    const g = f64([5], 12), b = f64([5], 13);
    const y64 = ck.batchNorm(x, g, b);
    const y32 = ck.batchNorm(ck.cast(x, 'float32'), ck.cast(g, 'float32'), ck.cast(b, 'float32'));
    expect(y32.dtype).toBe('float32');
    // Normalised values are O(|gamma| * 3); input rounding is relative 6e-8 of |x| ~ 9.
    expectClose(y32, y64, { atol: 1e-5, rtol: 1e-5 });
  });
  it("activation 'relu': relu of the batch norm, values and gradients, in training and inference", () => {
    const x = f64([3, 2, 2, 3], 21, 1.5, 0.2), g = f64([3], 22), b = f64([3], 23);
    const m = f64([3], 24), v = ck.add(ck.abs(f64([3], 25)), 0.5);
    for (const opts of [{ epsilon: 1e-3 }, { mean: m, variance: v, epsilon: 1e-3 }]) {
      const fused = ck.batchNorm(x, g, b, { ...opts, activation: 'relu' });
      const plain = ck.batchNorm(x, g, b, opts);
      expect(fused.toArray()).toEqual(ck.relu(plain).toArray());
      expect(plain.toArray().some((e) => e < 0)).toBe(true); // the relu clips something
      // the gradient equals that of relu(batchNorm) exactly, and finite differences agree
      const dy = f64(x.shape, 26);
      const grads = (f: (t: Tensor, gg: Tensor, bb: Tensor) => Tensor) => ck.grad((t: Tensor, gg: Tensor, bb: Tensor) => ck.sum(ck.mul(f(t, gg, bb), dy)))(x, g, b).map((t) => t.toArray());
      expect(grads((t, gg, bb) => ck.batchNorm(t, gg, bb, { ...opts, activation: 'relu' }))).toEqual(grads((t, gg, bb) => ck.relu(ck.batchNorm(t, gg, bb, opts))));
      gradcheck((t, gg, bb) => ck.batchNorm(t, gg, bb, { ...opts, activation: 'relu' }), [x, g, b]);
    }
    // NaN stays NaN, as Relu keeps it
    expect(Number.isNaN(ck.batchNorm(t64([NaN, 1, 2, 3], [2, 2]), null, null, { activation: 'relu' }).toArray()[0])).toBe(true);
  });
  it('clear errors', () => {
    const x = ck.zeros([2, 3]);
    // @ts-expect-error: not an activation batchNorm fuses
    expect(() => ck.batchNorm(x, null, null, { activation: 'relu6' })).toThrow(/batchNorm: activation must be 'linear' or 'relu', received "relu6"/);
    expect(() => ck.batchNorm(x, ck.ones([2]))).toThrow(/batchNorm: gamma must have shape \[3\] \(the channels of x \[2, 3\]\), received \[2\]/);
    expect(() => ck.batchNorm(ck.zeros([3]))).toThrow(/batchNorm: x must have rank >= 2/);
    expect(() => ck.batchNorm(x, null, null, { training: false })).toThrow(/training is false, so mean and variance \(shape \[3\]\) must be given/);
    expect(() => ck.batchNorm(x, null, null, { epsilon: -1 })).toThrow(/epsilon must be a finite number >= 0/);
    expect(() => ck.batchNorm(x, ck.ones([3], 'float64'))).toThrow(/gamma is float64 but x is float32/);
  });
});

describeOnCpuBackends('batchNorm of empty tensors', () => {
  it('no channels or no rows: empty outputs and gradients, no error (plain and fused with a ReLU)', () => {
    for (const shape of [[2, 3, 0], [0, 3, 4], [0, 0]]) {
      for (const activation of ['linear', 'relu'] as const) {
        const x = ck.zeros(shape);
        const { y, mean, variance } = ck.batchNormWithStats(x, null, null, { training: true, activation });
        expect(y.shape).toEqual(shape);
        expect(mean.shape).toEqual([shape[shape.length - 1]]);
        expect(variance.shape).toEqual([shape[shape.length - 1]]);
        const { grads } = ck.valueAndGrad((t: Tensor) => ck.sum(ck.batchNorm(t, null, null, { training: true, activation })))(x);
        expect(grads[0].shape).toEqual(shape);
      }
    }
  });
});

describe('moments and layerNorm', () => {
  it('moments: mean and biased variance over axes', () => {
    const x = t64([1, 2, 3, 4, 5, 9], [2, 3]);
    const { mean, variance } = ck.moments(x, 1);
    expect(mean.toArray()).toEqual([2, 6]);
    expectClose(variance, [2 / 3, 14 / 3], { atol: 1e-15, rtol: 1e-15 });
    expect(ck.moments(x, [0, 1], { keepDims: true }).mean.shape).toEqual([1, 1]);
    gradcheck((t) => ck.moments(t, 0).variance, [f64([3, 2], 1)]);
  });
  it('layerNorm: a worked example', () => {
    // [1, 2, 3, 4]: mean 2.5, variance 1.25.
    const y = ck.layerNorm(t64([1, 2, 3, 4, 2, 2, 2, 2], [2, 4]), null, null, { epsilon: 0.25 });
    const s = Math.sqrt(1.5);
    expectClose(y, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0], { atol: 1e-15, rtol: 1e-15 });
    const g = ck.layerNorm(t64([1, 2, 3, 4], [1, 4]), t64([1, 2, 3, 4], [4]), t64([0, 0, 0, 1], [4]), { epsilon: 0.25 });
    expectClose(g, [-1.5 / s, -1 / s, 1.5 / s, 6 / s + 1], { atol: 1e-15, rtol: 1e-15 });
  });
  it('layerNorm gradients over axes choices (including non-trailing axes)', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.constantFrom([-1], [1, 2], [0, 2], [1]), (seed, axes) => {
        const x = f64([2, 3, 2], seed, 2);
        const pShape = axes.map((a) => [2, 3, 2][(a + 3) % 3]);
        gradcheck((t, g, b) => ck.layerNorm(t, g, b, { axes }), [x, f64(pShape, seed + 1), f64(pShape, seed + 2)]);
      }),
      { numRuns: 6 },
    );
  });
  it('layerNorm errors name the expected parameter shape', () => {
    expect(() => ck.layerNorm(ck.zeros([2, 3, 4]), ck.ones([3]), null, { axes: [1, 2] })).toThrow(/layerNorm: gamma must have shape \[3, 4\]/);
  });
});

/** The LRN formula written out directly over flat arrays (independent of the kernel's loops). */
function lrnDirect(x: Tensor, size: number, alpha: number, beta: number, k: number): number[] {
  const v = x.toArray();
  const C = x.shape[x.rank - 1];
  return v.map((xi, i) => {
    const c = i % C;
    let s = 0;
    for (let j = c - Math.floor(size / 2); j <= c + Math.floor((size - 1) / 2); j++) if (j >= 0 && j < C) s += v[i - c + j] ** 2;
    return xi / (k + (alpha / size) * s) ** beta;
  });
}

describe('lrn', () => {
  it('matches the direct formula for odd and even window sizes, and AlexNet defaults', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 }), fc.nat(1000), (size, C, seed) => {
        const x = f64([2, 2, 1, C], seed, 3);
        const o = { size, alpha: 0.3, beta: 0.75, k: 1.5 };
        expectClose(ck.lrn(x, o), lrnDirect(x, size, 0.3, 0.75, 1.5), { atol: 1e-14, rtol: 1e-13 });
        gradcheck((t) => ck.lrn(t, o), [x]);
      }),
      { numRuns: 12 },
    );
    const x = f64([1, 2, 2, 6], 3, 10);
    expectClose(ck.lrn(x), lrnDirect(x, 5, 1e-4, 0.75, 2), { atol: 1e-14, rtol: 1e-13 });
  });
  it('float32 agrees with float64; errors', () => {
    const x = f64([2, 3, 3, 8], 4, 3);
    expectClose(ck.lrn(ck.cast(x, 'float32'), { alpha: 0.1 }), ck.cast(ck.lrn(x, { alpha: 0.1 }), 'float32'), { atol: 1e-6, rtol: 1e-5 });
    expect(() => ck.lrn(x, { size: 0 })).toThrow(/lrn: size must be a positive integer, received 0/);
    expect(() => ck.lrn(x, { beta: NaN })).toThrow(/lrn: beta must be a finite number/);
  });
});

describe('dropout', () => {
  it('is reproducible from a seed, and an Rng advances between calls', () => {
    const x = ck.ones([64], 'float64');
    expect(ck.dropout(x, 0.5, { seed: 42 }).toArray()).toEqual(ck.dropout(x, 0.5, { seed: 42 }).toArray());
    expect(ck.dropout(x, 0.5, { seed: 42 }).toArray()).not.toEqual(ck.dropout(x, 0.5, { seed: 43 }).toArray());
    const rng = new ck.Rng(5);
    const a = ck.dropout(x, 0.5, { rng }).toArray(), b = ck.dropout(x, 0.5, { rng }).toArray();
    expect(a).not.toEqual(b);
    const again = new ck.Rng(5);
    expect(ck.dropout(x, 0.5, { rng: again }).toArray()).toEqual(a);
  });
  it('keeps about 1 - rate of the elements, scales them by 1/(1 - rate), and preserves the mean', () => {
    const n = 100_000, rate = 0.3;
    const y = ck.dropout(ck.ones([n], 'float64'), rate, { seed: 7 }).toArray();
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => v === 1 / (1 - rate))).toBe(true);
    // Kept fraction: binomial sd sqrt(0.21 / n) = 0.0014; mean of y: sd 0.0021. Both within 5 sd.
    expect(Math.abs(kept.length / n - (1 - rate))).toBeLessThan(0.007);
    expect(Math.abs(y.reduce((s, v) => s + v, 0) / n - 1)).toBeLessThan(0.011);
  });
  it('the gradient is the same mask: zero where dropped, 1/(1 - rate) where kept', () => {
    const x = f64([10, 10], 1);
    const [g] = ck.grad((t) => ck.sum(ck.dropout(t, 0.4, { seed: 3 })))(x);
    const y = ck.dropout(x, 0.4, { seed: 3 }).toArray();
    const xv = x.toArray();
    g.toArray().forEach((gi, i) => {
      if (y[i] === 0) expect(gi).toBe(0);
      else expect(gi).toBeCloseTo(1 / 0.6, 14);
      if (y[i] !== 0) expect(y[i]).toBeCloseTo(xv[i] / 0.6, 14);
    });
  });
  it('is the identity at inference and for rate 0 (values and gradient)', () => {
    const x = f64([3, 4], 2);
    expect(ck.dropout(x, 0.9, { training: false }).toArray()).toEqual(x.toArray());
    expect(ck.dropout(x, 0, { seed: 1 }).toArray()).toEqual(x.toArray());
    expect(ck.grad((t) => ck.sum(ck.dropout(t, 0.5, { training: false })))(x)[0].toArray()).toEqual(Array(12).fill(1));
  });
  it('rejects rates outside [0, 1)', () => {
    const x = ck.ones([2]);
    for (const r of [1, 1.5, -0.1, NaN]) expect(() => ck.dropout(x, r)).toThrow(/dropout: rate must be in \[0, 1\), received/);
  });
});

describe('normalisation vs PyTorch 1.13 (test/ops/vectors/nn-torch.json)', () => {
  torchVectorTests(['batchNorm', 'lrn', 'layerNorm']);
});
