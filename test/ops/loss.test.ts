import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';
import { torchVectorTests } from './nn_vectors.js';

const f64 = (shape: number[], seed: number, std = 1) => ck.randomNormal(shape, { seed, std, dtype: 'float64' });
const t64 = (v: number[], shape: number[]) => ck.tensor(v, shape, 'float64');
const u64 = (shape: number[], seed: number, min = 0, max = 1) => ck.randomUniform(shape, { seed, min, max, dtype: 'float64' });
const i32 = (v: number[]) => ck.tensor(v, [v.length], 'int32');
const close = (a: number, b: number, tol = 1e-14) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

const shape2Arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }));

describe('meanSquaredError', () => {
  it('every reduction on a hand example', () => {
    const y = t64([1, 2, 3], [3]), t = t64([1, 0, 0], [3]);
    close(ck.meanSquaredError(y, t).item(), 13 / 3);
    expect(ck.meanSquaredError(y, t, { reduction: 'sum' }).item()).toBe(13);
    expect(ck.meanSquaredError(y, t, { reduction: 'halfSum' }).item()).toBe(6.5);
    expect(ck.meanSquaredError(y, t, { reduction: 'none' }).toArray()).toEqual([0, 4, 9]);
    expect(ck.meanSquaredError(y, t).shape).toEqual([]);
  });
  it('names both shapes when y and target differ', () => {
    expect(() => ck.meanSquaredError(ck.zeros([2, 3]), ck.zeros([3, 2]))).toThrow(/meanSquaredError: y has shape \[2, 3\] but target has shape \[3, 2\]; they must be equal/);
    expect(() => ck.meanSquaredError(ck.zeros([2]), ck.zeros([2]), { reduction: 'avg' as never })).toThrow(/reduction must be one of 'mean', 'sum', 'halfSum', 'none', received 'avg'/);
  });
});

describe('binary cross-entropy', () => {
  it('on probabilities: hand values and the PyTorch clamp at log >= -100', () => {
    close(ck.binaryCrossEntropy(t64([0.9, 0.2], [2]), t64([1, 0], [2])).item(), -(Math.log(0.9) + Math.log(0.8)) / 2);
    const edge = ck.binaryCrossEntropy(t64([0, 1, 1, 0], [4]), t64([1, 0, 1, 0], [4]), { reduction: 'none' }).toArray();
    expect(edge[0]).toBeCloseTo(100, 10);
    expect(edge[1]).toBeCloseTo(100, 10);
    expect(Math.abs(edge[2])).toBe(0);
    expect(Math.abs(edge[3])).toBe(0);
    // The gradient stays finite where p is clamped.
    const [g] = ck.grad((p) => ck.binaryCrossEntropy(p, t64([1, 0, 1, 0], [4])))(t64([0, 1, 1, 0], [4]));
    expect(g.toArray().every(Number.isFinite)).toBe(true);
  });
  it('on logits: equals BCE(sigmoid(z)), stays finite for huge |z|, gradient sigmoid(z) - t', () => {
    const z = t64([-3, -0.5, 0, 2, 7], [5]), t = t64([0, 1, 0.3, 1, 0], [5]);
    expectClose(ck.binaryCrossEntropyWithLogits(z, t, { reduction: 'none' }), ck.binaryCrossEntropy(ck.sigmoid(z), t, { reduction: 'none' }), { atol: 1e-13, rtol: 1e-12 });
    const huge = ck.binaryCrossEntropyWithLogits(t64([1000, -1000, 1000], [3]), t64([0, 0, 1], [3]), { reduction: 'none' }).toArray();
    expect(huge).toEqual([1000, 0, 0]);
    const [g] = ck.grad((q) => ck.binaryCrossEntropyWithLogits(q, t, { reduction: 'sum' }))(z);
    expectClose(g, ck.sub(ck.sigmoid(z), t), { atol: 1e-15, rtol: 1e-14 });
    // At z = 0 exactly the gradient is 0.5 - t (no kink in the stable form).
    const [g0] = ck.grad((q) => ck.binaryCrossEntropyWithLogits(q, t64([1], [1])))(t64([0], [1]));
    expect(g0.item()).toBe(-0.5);
  });
});

describe('softmaxCrossEntropy', () => {
  it('hand values: uniform logits give log K; a confident correct row gives ~0', () => {
    close(ck.softmaxCrossEntropy(t64([0, 0, 0, 0], [1, 4]), i32([2])).item(), Math.log(4));
    close(ck.softmaxCrossEntropy(t64([1, 2, 3], [1, 3]), i32([2])).item(), Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3);
    expect(ck.softmaxCrossEntropy(t64([50, -50], [1, 2]), i32([0])).item()).toBeLessThan(1e-40);
    // -Infinity in a class that is not the target does not make the loss NaN.
    close(ck.softmaxCrossEntropy(t64([-Infinity, 0, 0], [1, 3]), t64([0, 1, 0], [1, 3])).item(), Math.log(2));
  });
  it('sparse labels == one-hot labels (values and gradients), over random shapes', () => {
    fc.assert(
      fc.property(shape2Arb, fc.nat(1000), ([N, K], seed) => {
        const z = f64([N, K], seed, 3);
        const labels = Array.from({ length: N }, (_, i) => (seed + i * 7) % K);
        const sparse = i32(labels);
        const dense = ck.oneHot(sparse, K, 'float64');
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          expectClose(ck.softmaxCrossEntropy(z, sparse, { reduction }), ck.softmaxCrossEntropy(z, dense, { reduction }), { atol: 1e-14, rtol: 1e-14 });
        }
        const gs = ck.grad((q) => ck.softmaxCrossEntropy(q, sparse))(z)[0];
        const gd = ck.grad((q) => ck.softmaxCrossEntropy(q, dense))(z)[0];
        expectClose(gs, gd, { atol: 1e-15, rtol: 1e-14 });
        // mean divides by N: the gradient is (softmax - onehot) / N.
        expectClose(gs, ck.div(ck.sub(ck.softmax(z), dense), N), { atol: 1e-15, rtol: 1e-13 });
        gradcheck((q) => ck.softmaxCrossEntropy(q, sparse), [z]);
        // Probability labels: gradients for logits and labels.
        gradcheck((q, p) => ck.softmaxCrossEntropy(q, p, { reduction: 'sum' }), [z, ck.softmax(f64([N, K], seed + 1))]);
      }),
      { numRuns: 12 },
    );
  });
  it('errors name the label out of range and the shapes', () => {
    const z = ck.zeros([3, 5]);
    expect(() => ck.softmaxCrossEntropy(z, i32([0, 5, 1]))).toThrow(/softmaxCrossEntropy: label 5 at index 1 is out of range \[0, 5\) for logits \[3, 5\]/);
    expect(() => ck.softmaxCrossEntropy(z, i32([0, -1, 1]))).toThrow(/label -1 at index 1 is out of range/);
    expect(() => ck.softmaxCrossEntropy(z, i32([0, 1]))).toThrow(/int32 labels must have shape \[3\].*received \[2\]/);
    expect(() => ck.softmaxCrossEntropy(z, ck.zeros([3]))).toThrow(/float labels must have the logits' shape \[3, 5\].*received \[3\]; class indices must be int32 \[3\]/);
    expect(() => ck.softmaxCrossEntropy(ck.zeros([5]), i32([0]))).toThrow(/logits must have rank 2 \[N, K\], received shape \[5\]/);
  });
});

describe('tripletLoss', () => {
  it('is zero once the negative is margin farther than the positive, and linear before', () => {
    const a = t64([0, 0], [1, 2]), p = t64([1, 0], [1, 2]), n = t64([2, 0], [1, 2]);
    // d(a,p) = 1, d(a,n) = 4 (squared distances).
    expect(ck.tripletLoss(a, p, n).item()).toBe(0);
    close(ck.tripletLoss(a, p, n, { margin: 3.5 }).item(), 0.5);
    close(ck.tripletLoss(a, n, p, { margin: 0.2 }).item(), 3.2);
    // Inactive triplets get no gradient.
    const [ga] = ck.grad((q) => ck.tripletLoss(q, p, n))(a);
    expect(ga.toArray()).toEqual([0, 0]);
    // mean over N.
    const two = ck.tripletLoss(t64([0, 0, 0, 0], [2, 2]), t64([1, 0, 2, 0], [2, 2]), t64([2, 0, 1, 0], [2, 2]), { margin: 0 });
    close(two.item(), 3 / 2);
  });
  it('gradients (finite differences) and shape errors', () => {
    fc.assert(
      fc.property(shape2Arb, fc.nat(1000), ([N, D], seed) => {
        const [a, p, n] = [f64([N, D], seed), f64([N, D], seed + 1), f64([N, D], seed + 2)];
        // Margin away from the kink of max(0, .) for every row.
        const dp = ck.sum(ck.square(ck.sub(a, p)), { axes: 1 }).toArray(), dn = ck.sum(ck.square(ck.sub(a, n)), { axes: 1 }).toArray();
        const margin = 0.3;
        if (dp.some((v, i) => Math.abs(v - dn[i] + margin) < 1e-3)) return;
        gradcheck((x, y, z) => ck.tripletLoss(x, y, z, { margin }), [a, p, n]);
      }),
      { numRuns: 10 },
    );
    expect(() => ck.tripletLoss(ck.zeros([2, 3]), ck.zeros([2, 3]), ck.zeros([2, 4]))).toThrow(/tripletLoss: anchor has shape \[2, 3\] but negative has shape \[2, 4\]/);
  });
});

describe('Gram matrix and style-transfer costs', () => {
  it('gram on a tiny tensor', () => {
    // Two pixels with channels (1, 2) and (3, 4).
    const x = t64([1, 2, 3, 4], [1, 2, 1, 2]);
    expect(ck.gram(x).arraySync()).toEqual([[[10, 14], [14, 20]]]);
    expect(ck.gram(x, { normalize: true }).arraySync()).toEqual([[[5, 7], [7, 10]]]);
    gradcheck((t) => ck.gram(t), [f64([2, 2, 3, 2], 1)]);
    expect(() => ck.gram(ck.zeros([2, 3, 4]))).toThrow(/gram: x must have rank 4 \[N, H, W, C\], received shape \[2, 3, 4\]/);
  });
  it('contentCost and styleLayerCost on hand examples; styleCost weights layers', () => {
    // 1/(4 * 2*2*3) * 12 = 0.25
    expect(ck.contentCost(ck.ones([1, 2, 2, 3], 'float64'), ck.zeros([1, 2, 2, 3], 'float64')).item()).toBe(0.25);
    // aS: two pixels with one channel, values 1 and 2: G_S = 5; aG = 0. 25 / (4 * 1 * 2^2)
    const aS = t64([1, 2], [1, 1, 2, 1]), aG = ck.zeros([1, 1, 2, 1], 'float64');
    expect(ck.styleLayerCost(aS, aG).item()).toBe(25 / 16);
    close(ck.styleCost([{ aS, aG, weight: 0.2 }, { aS: ck.ones([1, 2, 2, 3], 'float64'), aG: ck.zeros([1, 2, 2, 3], 'float64'), weight: 0.8 }]).item(),
      0.2 * (25 / 16) + 0.8 * ((9 * 16) / (4 * 9 * 16)));
    const x = f64([1, 2, 3, 2], 4), y = f64([1, 2, 3, 2], 5);
    gradcheck((p, q) => ck.contentCost(p, q), [x, y]);
    gradcheck((q) => ck.styleCost([{ aS: x, aG: q, weight: 0.5 }, { aS: ck.mul(x, 2), aG: q }]), [y]);
    expect(() => ck.contentCost(ck.zeros([1, 2, 2, 3]), ck.zeros([1, 2, 3, 2]))).toThrow(/contentCost: aC has shape \[1, 2, 2, 3\] but aG has shape \[1, 2, 3, 2\]/);
    expect(() => ck.styleCost([])).toThrow(/styleCost: layers must be a non-empty array/);
  });
});

describe('localizationLoss', () => {
  it('counts box and class terms only where an object is present', () => {
    // Row 0: object present -> all 7 terms. Row 1: no object -> only (p_c - 0)^2.
    const pred = t64([0.8, 0.5, 0.5, 0.2, 0.3, 0.9, 0.1, 0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], [2, 7]);
    const target = t64([1, 0.4, 0.5, 0.2, 0.1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [2, 7]);
    const row0 = 0.2 ** 2 + 0.1 ** 2 + 0 + 0 + 0.2 ** 2 + 0.1 ** 2 + 0.1 ** 2;
    const row1 = 0.3 ** 2;
    expectClose(ck.localizationLoss(pred, target, { reduction: 'none' }), [row0, row1], { atol: 1e-15, rtol: 1e-14 });
    close(ck.localizationLoss(pred, target).item(), (row0 + row1) / 2);
    const [g] = ck.grad((p) => ck.localizationLoss(p, target, { reduction: 'sum' }))(pred);
    expect(g.toArray().slice(8)).toEqual([0, 0, 0, 0, 0, 0]); // no gradient to row 1's box/class terms
    gradcheck((p) => ck.localizationLoss(p, target), [pred]);
    expect(() => ck.localizationLoss(ck.zeros([2, 4]), ck.zeros([2, 4]))).toThrow(/localizationLoss: pred and target must have shape \[N, 5 \+ K\]/);
  });
});

describe('losses: gradients over random shapes and float32 agreement', () => {
  it('finite differences (float64)', () => {
    fc.assert(
      fc.property(shape2Arb, fc.nat(1000), ([N, K], seed) => {
        const y = f64([N, K], seed), t = f64([N, K], seed + 1);
        const p = u64([N, K], seed + 2, 0.05, 0.95), q = u64([N, K], seed + 3);
        for (const reduction of ['mean', 'sum', 'halfSum', 'none'] as const) gradcheck((a, b) => ck.meanSquaredError(a, b, { reduction }), [y, t]);
        gradcheck((a, b) => ck.binaryCrossEntropy(a, b), [p, q]);
        gradcheck((a, b) => ck.binaryCrossEntropyWithLogits(a, b, { reduction: 'none' }), [ck.mul(y, 4), q]);
      }),
      { numRuns: 10 },
    );
  });
  it('float32 values agree with float64', () => {
    const z = f64([6, 5], 1, 3), t = u64([6, 5], 2), p = u64([6, 5], 3, 0.01, 0.99), lab = i32([0, 4, 2, 2, 1, 3]);
    const c = (x: ck.Tensor) => ck.cast(x, 'float32');
    const pairs: [ck.Tensor, ck.Tensor][] = [
      [ck.meanSquaredError(c(z), c(t)), ck.meanSquaredError(z, t)],
      [ck.binaryCrossEntropy(c(p), c(t)), ck.binaryCrossEntropy(p, t)],
      [ck.binaryCrossEntropyWithLogits(c(z), c(t)), ck.binaryCrossEntropyWithLogits(z, t)],
      [ck.softmaxCrossEntropy(c(z), lab), ck.softmaxCrossEntropy(z, lab)],
      [ck.tripletLoss(c(z), c(t), c(p)), ck.tripletLoss(z, t, p)],
      [ck.gram(c(ck.reshape(z, [1, 2, 3, 5]))), ck.gram(ck.reshape(z, [1, 2, 3, 5]))],
    ];
    for (const [a, b] of pairs) {
      expect(a.dtype).toBe('float32');
      // Sums of <= 30 terms of O(10) values: float32 rounding, scaled by sqrt(K).
      expectClose(a, b, { atol: 1e-5 * Math.sqrt(30), rtol: 1e-5 * Math.sqrt(30) });
    }
  });
});

describe('regularisation penalties', () => {
  it('hand values, lists of tensors, and gradients', () => {
    const w = t64([1, -2, 0.5], [3]), v = t64([3], [1]);
    expect(ck.l1Penalty(w).item()).toBe(3.5);
    expect(ck.l2Penalty(w).item()).toBe(5.25);
    expect(ck.l2Penalty([w, v]).item()).toBe(14.25);
    // w^2 / (1 + w^2 / w0^2) with w0 = 1: 1/2 + 4/5 + 0.25/1.25
    close(ck.weightEliminationPenalty(w, 1).item(), 0.5 + 0.8 + 0.2);
    // Small weights cost about w^2; large ones saturate at w0^2.
    close(ck.weightEliminationPenalty(t64([1e-4], [1]), 2).item(), 1e-8, 1e-7);
    close(ck.weightEliminationPenalty(t64([1e4], [1]), 2).item(), 4, 1e-6);
    expect(ck.grad((t) => ck.l1Penalty(t))(t64([0, 2, -3], [3]))[0].toArray()).toEqual([0, 1, -1]);
    const x = f64([2, 3], 9);
    gradcheck((t) => ck.l2Penalty(t), [x]);
    gradcheck((t) => ck.weightEliminationPenalty(t, 0.7), [x]);
    gradcheck((t, u) => ck.l1Penalty([t, u]), [ck.add(ck.abs(x), 0.1), ck.sub(0, ck.add(ck.abs(x), 0.1))]);
    expect(() => ck.weightEliminationPenalty(x, 0)).toThrow(/w0 must be a finite number > 0/);
    expect(() => ck.l2Penalty([])).toThrow(/l2Penalty: expected a Tensor or a non-empty array/);
  });
});

describe('losses vs PyTorch 1.13 (test/ops/vectors/nn-torch.json)', () => {
  torchVectorTests(['meanSquaredError', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'softmaxCrossEntropy', 'tripletLoss', 'gram']);
});
