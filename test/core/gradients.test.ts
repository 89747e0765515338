/**
 * Finite-difference gradient checks (float64, PyTorch gradcheck's tolerances) over shapes
 * and attributes drawn by fast-check, for the differentiable ops whose other tests use
 * fixed shapes: elementwise maths with broadcasting, shape and data movement, reductions,
 * batched matmul, and the composite losses, penalties and normalisations. Inputs are kept
 * away from kinks (abs, maximum, clip) so that central differences are meaningful; the
 * conventions at the kinks are pinned by exact tests elsewhere. Seeds are fixed so every
 * run checks the same cases (a failing case reproduces with its seed).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradcheck } from '../util/gradcheck.js';

const f64 = (shape: readonly number[], seed: number, std = 1) => ck.randomNormal(shape, { seed, std, dtype: 'float64' });
const u64 = (shape: readonly number[], seed: number, min: number, max: number) => ck.randomUniform(shape, { seed, min, max, dtype: 'float64' });
/** Values whose magnitude is at least `gap` (random sign): far from a kink at 0. */
const awayFromZero = (shape: readonly number[], seed: number, gap = 0.2) =>
  ck.mul(ck.sign(f64(shape, seed)), u64(shape, seed + 99, gap, 1.5));

const dimArb = fc.integer({ min: 1, max: 3 });
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dimArb, { minLength: minRank, maxLength: maxRank });

/** Two shapes that broadcast: drop leading axes of one side and set some axes to 1. */
const broadcastPairArb = fc
  .record({ out: shapeArb(0, 3), dropA: fc.nat(3), dropB: fc.nat(3), onesA: fc.nat(7), onesB: fc.nat(7) })
  .map(({ out, dropA, dropB, onesA, onesB }) => {
    const side = (drop: number, ones: number) => out.slice(Math.min(drop, out.length)).map((d, i) => ((ones >> i) & 1 ? 1 : d));
    return [side(dropA, onesA), side(dropB, onesB)] as const;
  });

const RUNS = { numRuns: 12 };

describe('elementwise gradients over drawn broadcast shapes', () => {
  it('add, sub, mul, div, pow, maximum, minimum, where', () => {
    fc.assert(
      fc.property(broadcastPairArb, fc.nat(10_000), ([sa, sb], seed) => {
        const a = f64(sa, seed), b = f64(sb, seed + 1);
        gradcheck(ck.add, [a, b]);
        gradcheck(ck.sub, [a, b]);
        gradcheck(ck.mul, [a, b]);
        gradcheck(ck.div, [a, awayFromZero(sb, seed + 2, 0.5)]);
        gradcheck(ck.pow, [u64(sa, seed + 3, 0.5, 2), f64(sb, seed + 4)]);
        // maximum/minimum: a and b apart by at least 0.2 everywhere, so no element sits at a tie.
        const apart = ck.add(b, awayFromZero(ck.broadcastShapes(sa, sb), seed + 5));
        gradcheck(ck.maximum, [ck.broadcastTo(a, ck.broadcastShapes(sa, sb)), apart]);
        gradcheck(ck.minimum, [ck.broadcastTo(a, ck.broadcastShapes(sa, sb)), apart]);
        const cond = ck.greater(f64(sa, seed + 6), 0);
        gradcheck((x, y) => ck.where(cond, x, y), [a, b]);
      }),
      { ...RUNS, seed: 101 },
    );
  });

  it('unary maths: neg, abs, exp, expm1, log, log1p, sqrt, square, reciprocal, sin, cos, clip, affine', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.nat(10_000), fc.double({ min: -3, max: 3, noNaN: true }), (shape, seed, scale) => {
        const x = f64(shape, seed);
        const pos = u64(shape, seed + 1, 0.3, 3);
        gradcheck(ck.neg, [x]);
        gradcheck(ck.abs, [awayFromZero(shape, seed + 2)]);
        gradcheck(ck.exp, [x]);
        gradcheck(ck.log, [pos]);
        gradcheck(ck.expm1, [x]);
        // log1p on (-0.7, 2): away from its pole at -1, both signs around 0
        gradcheck(ck.log1p, [u64(shape, seed + 4, -0.7, 2)]);
        gradcheck(ck.sqrt, [pos]);
        gradcheck(ck.square, [x]);
        gradcheck(ck.reciprocal, [awayFromZero(shape, seed + 3, 0.5)]);
        gradcheck(ck.sin, [x]);
        gradcheck(ck.cos, [x]);
        gradcheck((t) => ck.affine(t, scale, 0.5), [x]);
        // clip to [-0.5, 0.5] with every value at least 0.05 from a bound.
        const v = ck.where(ck.greater(ck.abs(ck.sub(ck.abs(x), 0.5)), 0.05), x, ck.add(x, 0.2));
        gradcheck((t) => ck.clip(t, -0.5, 0.5), [v]);
      }),
      { ...RUNS, seed: 102 },
    );
  });

  it('cast passes the gradient through (converted to the input dtype; same dtype too), and so does concat of one tensor', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.nat(10_000), (shape, seed) => {
        const x = f64(shape, seed);
        const c = ck.randomNormal(shape, { seed: seed + 1 });
        const [g] = ck.grad((t: Tensor) => ck.sum(ck.mul(ck.cast(t, 'float32'), c)))(x);
        expect(g.dtype).toBe('float64');
        expect(g.toArray()).toEqual(ck.cast(c, 'float64').toArray());
        // A cast to the dtype the tensor already has is a differentiable view, not a detach.
        gradcheck((t) => ck.cast(t, 'float64'), [x]);
        if (shape.length) gradcheck((t) => ck.concat([t]), [x]);
      }),
      { ...RUNS, seed: 103 },
    );
  });
});

describe('conventions at the kinks (exact)', () => {
  const g = (f: (t: Tensor) => Tensor, v: number[]) => ck.grad((t: Tensor) => ck.sum(f(t)))(ck.tensor(v, [v.length], 'float64'))[0].toArray();
  it("abs'(0) = 0; clip passes the gradient at its bounds (PyTorch's clamp); maximum/minimum ties go to the first argument", () => {
    expect(g(ck.abs, [-2, 0, 3])).toEqual([-1, 0, 1]);
    expect(g((t) => ck.clip(t, -1, 1), [-1, -1.5, 0, 1, 2])).toEqual([1, 0, 1, 1, 0]);
    const [ga, gb] = ck.grad((a: Tensor, b: Tensor) => ck.sum(ck.maximum(a, b)))(ck.tensor([1, 2], [2], 'float64'), ck.tensor([1, 3], [2], 'float64'));
    expect([ga.toArray(), gb.toArray()]).toEqual([[1, 0], [0, 1]]);
    const [ha, hb] = ck.grad((a: Tensor, b: Tensor) => ck.sum(ck.minimum(a, b)))(ck.tensor([1, 2], [2], 'float64'), ck.tensor([1, 3], [2], 'float64'));
    expect([ha.toArray(), hb.toArray()]).toEqual([[1, 1], [0, 0]]);
  });
  it('max and min reductions share the gradient equally among tied extrema (torch.amax)', () => {
    expect(g((t) => ck.max(t), [3, 1, 3])).toEqual([0.5, 0, 0.5]);
    expect(g((t) => ck.min(t), [1, 1, 1, 2])).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
  });
});

describe('reductions and matmul over drawn shapes', () => {
  it('min (distinct values), sum/mean with keepDims, logSumExp over drawn axes', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.nat(10_000), fc.boolean(), (shape, seed, keepDims) => {
        const axes = shape.map((_, i) => i).filter((i) => (seed >> i) & 1);
        const n = shape.reduce((p, q) => p * q, 1);
        // Distinct values (a shuffled ramp) so min has no ties.
        const ramp = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.37);
        new ck.Rng(seed).shuffle(ramp);
        const x = ck.tensor(ramp, shape, 'float64');
        gradcheck((t) => ck.min(t, { axes, keepDims }), [x]);
        gradcheck((t) => ck.sum(t, { axes, keepDims }), [x]);
        gradcheck((t) => ck.mean(t, { axes, keepDims }), [x]);
        gradcheck((t) => ck.variance(t, { axes, unbiased: axes.every((a) => shape[a] > 1) && axes.length > 0 }), [x]);
      }),
      { ...RUNS, seed: 104 },
    );
  });

  it('batched matmul with a broadcast batch side and every transpose flag', () => {
    fc.assert(
      fc.property(
        fc.record({ B: dimArb, M: dimArb, K: dimArb, N: dimArb, ta: fc.boolean(), tb: fc.boolean(), side: fc.constantFrom('none', 'a', 'b', 'a1', 'b1'), seed: fc.nat(10_000) }),
        ({ B, M, K, N, ta, tb, side, seed }) => {
          const aCore = ta ? [K, M] : [M, K], bCore = tb ? [N, K] : [K, N];
          const aShape = side === 'a' ? aCore : side === 'a1' ? [1, ...aCore] : [B, ...aCore];
          const bShape = side === 'b' ? bCore : side === 'b1' ? [1, ...bCore] : [B, ...bCore];
          gradcheck((a, b) => ck.matmul(a, b, { transposeA: ta, transposeB: tb }), [f64(aShape, seed), f64(bShape, seed + 1)]);
        },
      ),
      { ...RUNS, seed: 105 },
    );
  });
});

describe('shape and data movement over drawn shapes and attributes', () => {
  it('transpose (drawn permutation), reshape, flatten, expandDims, squeeze, reverse', () => {
    fc.assert(
      fc.property(shapeArb(1, 4), fc.nat(10_000), (shape, seed) => {
        const x = f64(shape, seed);
        const perm = new ck.Rng(seed).shuffle(shape.map((_, i) => i)) as number[];
        gradcheck((t) => ck.transpose(t, perm), [x]);
        gradcheck((t) => ck.permute(t, perm), [x]);
        gradcheck((t) => ck.reshape(t, [-1]), [x]);
        gradcheck((t) => ck.flatten(t), [x]);
        gradcheck((t) => ck.expandDims(t, -1), [x]);
        gradcheck((t) => ck.squeeze(ck.expandDims(t, 0)), [x]);
        const axes = shape.map((_, i) => i).filter((i) => (seed >> i) & 1);
        if (axes.length) gradcheck((t) => ck.reverse(t, axes), [x]);
      }),
      { ...RUNS, seed: 106 },
    );
  });

  it('slice, pad and broadcastTo with drawn begins, sizes and paddings', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.array(fc.nat(2), { minLength: 6, maxLength: 6 }), fc.nat(10_000), (shape, r, seed) => {
        const x = f64(shape, seed);
        const begin = shape.map((d, i) => r[i] % d);
        const size = shape.map((d, i) => 1 + ((r[i + 3] ?? 0) % (d - begin[i])));
        gradcheck((t) => ck.slice(t, begin, size), [x]);
        const pads = shape.map((_, i) => [r[i], r[5 - i]] as [number, number]);
        gradcheck((t) => ck.pad(t, pads, 0.5), [x]);
        gradcheck((t) => ck.broadcastTo(t, [2, ...shape]), [x]);
      }),
      { ...RUNS, seed: 107 },
    );
  });

  it('concat, stack, split and unstack along drawn axes', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.nat(10_000), fc.integer({ min: 1, max: 3 }), (shape, seed, extra) => {
        const axis = seed % shape.length;
        const other = shape.map((d, i) => (i === axis ? extra : d));
        gradcheck((a, b) => ck.concat([a, b, a], axis - shape.length), [f64(shape, seed), f64(other, seed + 1)]);
        gradcheck((a, b) => ck.stack([a, b], seed % (shape.length + 1)), [f64(shape, seed + 2), f64(shape, seed + 3)]);
        const x = f64(other, seed + 4);
        const pieces = (t: Tensor) => ck.split(t, extra, axis);
        gradcheck((t) => ck.concat(pieces(t).reverse(), axis), [x]);
        gradcheck((t) => ck.stack(ck.unstack(t, axis).map((p, i) => ck.mul(p, i + 1))), [x]);
      }),
      { ...RUNS, seed: 108 },
    );
  });

  it('regression (fast-check counterexample [[1], 0, 1]): split into one piece, then concat, keeps the gradient', () => {
    // concat of a single tensor used to return a detached view, so no gradient reached x.
    gradcheck((t) => ck.concat(ck.split(t, 1, 0).reverse(), 0), [f64([1], 0)]);
    const x = f64([2, 3], 1).requireGrad();
    ck.sum(ck.concat([x], 1)).backward();
    expect(x.grad!.toArray()).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('gather with drawn (repeated) indices along a drawn axis', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.array(fc.nat(10), { minLength: 1, maxLength: 5 }), fc.nat(10_000), (shape, idx, seed) => {
        const axis = seed % shape.length;
        const indices = ck.tensor(idx.map((i) => i % shape[axis]), [idx.length], 'int32');
        gradcheck((t) => ck.gather(t, indices, axis), [f64(shape, seed)]);
      }),
      { ...RUNS, seed: 109 },
    );
  });
});

describe('composite losses, penalties and normalisation over drawn shapes', () => {
  const ndArb = fc.record({ N: dimArb, D: fc.integer({ min: 1, max: 4 }), seed: fc.nat(10_000) });

  it('tripletLoss with a drawn margin (away from the hinge), both reductions', () => {
    fc.assert(
      fc.property(ndArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ N, D, seed }, margin) => {
        const a = f64([N, D], seed), p = f64([N, D], seed + 1), n = f64([N, D], seed + 2);
        const z = ck.noGrad(() => ck.sub(ck.sum(ck.square(ck.sub(a, p)), { axes: 1 }), ck.sum(ck.square(ck.sub(a, n)), { axes: 1 }))).toArray();
        fc.pre(z.every((v) => Math.abs(v + margin) > 1e-3));
        for (const reduction of ['mean', 'sum'] as const) gradcheck((x, y, w) => ck.tripletLoss(x, y, w, { margin, reduction }), [a, p, n]);
      }),
      { ...RUNS, seed: 110 },
    );
  });

  it('gram (both normalisations), contentCost, styleLayerCost, styleCost', () => {
    fc.assert(
      fc.property(fc.record({ N: dimArb, H: dimArb, W: dimArb, C: dimArb, seed: fc.nat(10_000) }), ({ N, H, W, C, seed }) => {
        const s = [N, H, W, C];
        const a = f64(s, seed), b = f64(s, seed + 1);
        gradcheck((x) => ck.gram(x), [a]);
        gradcheck((x) => ck.gram(x, { normalize: true }), [a]);
        gradcheck(ck.contentCost, [a, b]);
        gradcheck(ck.styleLayerCost, [a, b]);
        gradcheck((x, y) => ck.styleCost([{ aS: x, aG: y, weight: 0.3 }, { aS: y, aG: x }]), [a, b]);
      }),
      { ...RUNS, seed: 111 },
    );
  });

  it('localizationLoss with objects present in drawn rows; penalties over lists of drawn tensors', () => {
    fc.assert(
      fc.property(ndArb, fc.nat(255), ({ N, D, seed }, presentBits) => {
        const pred = f64([N, 5 + D], seed);
        const rows = Array.from({ length: N }, (_, i) => [(presentBits >> i) & 1, ...f64([4 + D], seed + 10 + i).toArray()]);
        const target = ck.tensor(rows.flat(), [N, 5 + D], 'float64');
        for (const reduction of ['mean', 'sum'] as const) gradcheck((p) => ck.localizationLoss(p, target, { reduction }), [pred]);
        const w1 = awayFromZero([N, D], seed + 1), w2 = awayFromZero([D], seed + 2);
        gradcheck((x, y) => ck.l1Penalty([x, y]), [w1, w2]);
        gradcheck((x, y) => ck.l2Penalty([x, y]), [w1, w2]);
        gradcheck((x, y) => ck.weightEliminationPenalty([x, y], 0.3 + (seed % 5) * 0.4), [w1, w2]);
      }),
      { ...RUNS, seed: 112 },
    );
  });

  it('dropout with a fixed seed, moments, batchNorm at inference, global pooling', () => {
    fc.assert(
      fc.property(fc.record({ N: dimArb, H: dimArb, W: dimArb, C: dimArb, seed: fc.nat(10_000), rate: fc.double({ min: 0, max: 0.9, noNaN: true }) }), ({ N, H, W, C, seed, rate }) => {
        const s = [N, H, W, C];
        const x = f64(s, seed);
        gradcheck((t) => ck.dropout(t, rate, { seed }), [x]);
        const axes = [0, 1, 2, 3].filter((i) => (seed >> i) & 1);
        gradcheck((t) => ck.moments(t, axes.length ? axes : [0]).mean, [x]);
        gradcheck((t) => ck.moments(t, axes.length ? axes : [0]).variance, [x]);
        const m = f64([C], seed + 1), v = u64([C], seed + 2, 0.5, 2), g = f64([C], seed + 3), b = f64([C], seed + 4);
        gradcheck((t, gg, bb, mm, vv) => ck.batchNorm(t, gg, bb, { mean: mm, variance: vv, training: false, epsilon: 1e-3 }), [x, g, b, m, v]);
        gradcheck(ck.globalAvgPool2d, [x]);
        const distinct = ck.tensor(new ck.Rng(seed).shuffle(Array.from({ length: N * H * W * C }, (_, i) => i * 0.1)) as number[], s, 'float64');
        gradcheck(ck.globalMaxPool2d, [distinct]);
      }),
      { ...RUNS, seed: 113 },
    );
  });

  it('convolve2d (true convolution) over drawn strides, paddings and dilations', () => {
    fc.assert(
      fc.property(
        fc.record({ K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), same: fc.boolean(), C: dimArb, F: dimArb, extra: fc.nat(2), seed: fc.nat(10_000) }),
        ({ K, s, d, same, C, F, extra, seed }) => {
          const H = d * (K - 1) + 1 + extra;
          const x = f64([1, H, H + 1, C], seed), k = f64([K, K, C, F], seed + 1), b = f64([F], seed + 2);
          gradcheck((t, w, bb) => ck.convolve2d(t, w, { strides: s, dilations: d, padding: same ? 'same' : 'valid', bias: bb }), [x, k, b]);
        },
      ),
      { ...RUNS, seed: 114 },
    );
  });
});
