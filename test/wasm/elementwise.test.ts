/**
 * wasm elementwise, reduction and data-movement kernels against the ts oracle.
 * Arithmetic (+ - * / max min, sqrt, comparisons) must match EXACTLY: float32 results
 * of those are correctly rounded both ways (float64 has more than 2*24+2 bits, so the
 * oracle's double rounding is innocuous). exp/log are polynomial approximations:
 * a few ulp. Sums: tolForK of the reduction length (rounding grows like sqrt(K)).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { tolForK } from '../util/close.js';
import { broadcastPartner, checkKernel, inp, rand, runOn, shapeArb, simdSize, smallSize, type In } from './helpers.js';

const EXACT = { atol: 0, rtol: 0 };
const ULP4 = { atol: 0, rtol: 4 * 2 ** -23 };

describe('wasm binary kernels (broadcasting)', () => {
  const ops = ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal'];
  it('same shape, scalar, trailing vector and arbitrary broadcasts match exactly', () => {
    fc.assert(
      fc.property(
        shapeArb(4).chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), fc.boolean(), fc.nat(1000), fc.constantFrom(...ops))),
        ([shape, partner, swap, seed, op]) => {
          const a = inp(shape, seed), b = inp(partner, seed + 1);
          // a few equal values so Equal/GreaterEqual see ties
          b.values.forEach((_, i) => { if (i % 3 === 0 && i < a.values.length) b.values[i] = a.values[i]; });
          checkKernel(op, swap ? [b, a] : [a, b], {}, EXACT);
        },
      ),
      { numRuns: 150 },
    );
  });
  it('the common training broadcasts: bias add [N,H,W,C]+[C], scalar, row-wise [R,1]', () => {
    for (const C of [1, 3, 4, 5, 8, 16, 17]) {
      checkKernel('Add', [inp([2, 3, 5, C], 1), inp([C], 2)], {}, EXACT);
      checkKernel('Mul', [inp([7, C], 3), inp([], 4)], {}, EXACT);
      checkKernel('Sub', [inp([], 5), inp([7, C], 6)], {}, EXACT);
      checkKernel('Sub', [inp([9, C], 7), inp([9, 1], 8)], {}, EXACT);
      checkKernel('Div', [inp([9, 1], 9), inp([9, C], 10)], {}, EXACT);
    }
  });
  it('rank > 4 walks (split into 4-dim boxes on the host)', () => {
    checkKernel('Add', [inp([2, 1, 3, 1, 5, 2], 1), inp([1, 4, 1, 6, 1, 2], 2)], {}, EXACT);
    checkKernel('Mul', [inp([3, 1, 2, 1, 3, 1, 4], 3), inp([1, 2, 1, 2, 1, 3, 1], 4)], {}, EXACT);
  });
  it('NaN and infinities propagate like the oracle (maximum/minimum keep NaN)', () => {
    const a: In = { values: Float32Array.from([NaN, 1, -Infinity, Infinity, 0, -0, NaN, 2, 3]), shape: [9] };
    const b: In = { values: Float32Array.from([1, NaN, Infinity, Infinity, -0, 0, NaN, -Infinity, 0]), shape: [9] };
    for (const op of ops) checkKernel(op, [a, b], {}, EXACT);
  });
  it('empty tensors', () => {
    checkKernel('Add', [inp([0, 3], 1), inp([3], 2)], {}, EXACT);
  });
});

describe('wasm unary kernels', () => {
  const exact = ['Neg', 'Abs', 'Sqrt', 'Square', 'Reciprocal', 'Sign', 'Floor', 'Round', 'IsNaN'];
  it('exact ops over drawn sizes', () => {
    fc.assert(
      fc.property(shapeArb(3), fc.nat(1000), fc.constantFrom(...exact), (shape, seed, op) => {
        const lo = op === 'Sqrt' ? 0 : -4;
        checkKernel(op, [inp(shape, seed, lo, 4)], {}, EXACT);
      }),
      { numRuns: 100 },
    );
  });
  it('Exp and Log within a few ulp over their whole float32 range', () => {
    // a spread of magnitudes, including subnormal results of exp and subnormal inputs of log
    const xs = new Float32Array(4000);
    const r = rand(4000, 11);
    for (let i = 0; i < xs.length; i++) xs[i] = r[i] * 87;
    checkKernel('Exp', [{ values: xs, shape: [4000] }], {}, ULP4);
    const tiny = Float32Array.from(rand(1000, 12, -103, -87));
    checkKernel('Exp', [{ values: tiny, shape: [1000] }], {}, { atol: 2e-45, rtol: 4 * 2 ** -23 });
    const pos = new Float32Array(4000);
    for (let i = 0; i < pos.length; i++) pos[i] = Math.exp(r[i] * 87);
    checkKernel('Log', [{ values: pos, shape: [4000] }], {}, { atol: 1e-7, rtol: 4 * 2 ** -23 });
    const near1 = Float32Array.from(rand(1000, 13, 0.5, 2));
    checkKernel('Log', [{ values: near1, shape: [1000] }], {}, { atol: 2e-8, rtol: 4 * 2 ** -23 });
    const sub = Float32Array.from([1e-40, 1e-45, 3e-39, 1.17e-38]);
    checkKernel('Log', [{ values: sub, shape: [4] }], {}, { atol: 0, rtol: 1e-6 });
  });
  it('special values', () => {
    const v: In = { values: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, -1, 89, -104, 88.7, -0.5, 0.5, 1.5, -1.5, 2.5]), shape: [15] };
    for (const op of [...exact, 'Exp', 'Log']) checkKernel(op, [v], {}, { atol: 0, rtol: 4 * 2 ** -23 });
  });
  it('Expm1 and Log1p within a few ulp, relative accuracy kept near 0 (1e-10, 1e-5), special values', () => {
    // magnitudes from 1e-12 to 80: the series near 0 and exp/log beyond
    const r = rand(4000, 14);
    const scales = [80, 2, 0.6, 1e-2, 1e-5, 1e-10];
    const xs = Float32Array.from(r, (u, i) => u * scales[i % scales.length]);
    checkKernel('Expm1', [{ values: xs, shape: [xs.length] }], {}, ULP4);
    // log1p on (-1, e^40): x = e^t - 1, and tiny x of both signs
    const ys = Float32Array.from(r, (u, i) => (i % 3 === 0 ? Math.expm1(u * 40) : u * scales[i % scales.length]));
    ys.forEach((y, i) => (ys[i] = Math.max(y, -1 + 2 ** -24)));
    checkKernel('Log1p', [{ values: ys, shape: [ys.length] }], {}, ULP4);
    const sp: In = { values: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, -1, -1.5, -0.5, 0.5, 1e-10, -1e-10, 1e-5, -1e-5, 89, -104, 3e38, -0.99999994]), shape: [17] };
    checkKernel('Expm1', [sp], {}, ULP4);
    checkKernel('Log1p', [sp], {}, ULP4);
  });
  it('Sin, Cos and Pow (f64 lane by lane, rounded like the oracle), JavaScript special cases', () => {
    const ULP1 = { atol: 0, rtol: 2 ** -23 };
    fc.assert(
      fc.property(shapeArb(3).chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), fc.nat(1000))), ([shape, partner, seed]) => {
        const x = inp(shape, seed, -50, 50);
        checkKernel('Sin', [x], {}, ULP1);
        checkKernel('Cos', [x], {}, ULP1);
        const base = inp(shape, seed + 1, -4, 4);
        const expo = inp(partner, seed + 2, -6, 6);
        // integer exponents give real powers of negative bases
        expo.values.forEach((v, i) => (expo.values[i] = i % 2 ? Math.round(v) : v));
        checkKernel('Pow', [base, expo], {}, ULP1);
      }),
      { numRuns: 60 },
    );
    const sp = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, -2, 0.5];
    const a = Float32Array.from(sp.flatMap((u) => sp.map(() => u)));
    const b = Float32Array.from(sp.flatMap(() => sp));
    checkKernel('Pow', [{ values: a, shape: [a.length] }, { values: b, shape: [b.length] }], {}, ULP1);
    checkKernel('Sin', [{ values: Float32Array.from([1e30, -3e38, NaN, Infinity, 0, -0]), shape: [6] }], {}, ULP1);
  });
  it('Affine and Clip (NaN stays NaN)', () => {
    fc.assert(
      fc.property(shapeArb(2), fc.nat(1000), fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (shape, seed, p, q) => {
        const x = inp(shape, seed, -4, 4);
        x.values[0] = NaN;
        checkKernel('Affine', [x], { scale: Math.fround(p), offset: Math.fround(q) }, { atol: 1e-6, rtol: 1e-6 });
        checkKernel('Clip', [x], { min: Math.min(p, q), max: Math.max(p, q) }, EXACT);
      }),
      { numRuns: 40 },
    );
  });
});

describe('wasm Where, Fill, Cast', () => {
  it('Where with every broadcast of condition and branches', () => {
    fc.assert(
      fc.property(shapeArb(3).chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), broadcastPartner(s), fc.nat(1000))), ([shape, sc, sb, seed]) => {
        const c = inp(sc, seed);
        c.values.forEach((v, i) => (c.values[i] = v > 0 ? 1 : i % 5 === 0 ? NaN : 0));
        checkKernel('Where', [c, inp(shape, seed + 1), inp(sb, seed + 2)], {}, EXACT);
      }),
      { numRuns: 60 },
    );
  });
  it('Fill float32 stays on wasm; other dtypes fall back visibly', () => {
    checkKernel('Fill', [], { shape: [3, 5], dtype: 'float32', value: 2.5 }, EXACT);
    ck.clearFallbacks();
    const t = ck.withBackend('wasm', () => ck.full([3], 7, 'int32'));
    expect(t.toArray()).toEqual([7, 7, 7]);
    expect(ck.getFallbacks().map((f) => f.reason)).toEqual(['output dtype int32']);
    t.dispose();
  });
  it('Cast to int32 runs on ts (recorded), float32 stays', () => {
    ck.clearFallbacks();
    const y = ck.withBackend('wasm', () => ck.tidy(() => ck.cast(ck.tensor([1.7, -2.2, 3]), 'int32').toArray()));
    expect(y).toEqual([1, -2, 3]);
    expect(ck.getFallbacks()[0].reason).toBe('output dtype int32');
  });
});

describe('wasm reductions', () => {
  const reducers = ['Sum', 'Max', 'Min', 'Prod'];
  it('over random axis sets, keepDims both ways', () => {
    fc.assert(
      fc.property(
        shapeArb(4).chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), fc.boolean(), fc.nat(1000), fc.constantFrom(...reducers))),
        ([shape, axes, keepDims, seed, op]) => {
          const K = axes.reduce((p, a) => p * shape[a], 1);
          // products stay near 1 so they neither overflow nor vanish
          const x = op === 'Prod' ? inp(shape, seed, 0.9, 1.1) : inp(shape, seed);
          checkKernel(op, [x], { axes, keepDims }, op === 'Sum' || op === 'Prod' ? tolForK(K) : EXACT);
        },
      ),
      { numRuns: 150 },
    );
  });
  it('global pooling shape [N,H,W,C] over H,W; all axes; last axis; leading axes (long rows)', () => {
    for (const C of [1, 3, 4, 5, 16, 17]) {
      checkKernel('Sum', [inp([3, 13, 11, C], C)], { axes: [1, 2], keepDims: false }, tolForK(143));
      checkKernel('Max', [inp([3, 13, 11, C], C + 1)], { axes: [1, 2], keepDims: false }, EXACT);
    }
    checkKernel('Sum', [inp([100003], 1)], { axes: [0], keepDims: false }, tolForK(100003));
    checkKernel('Sum', [inp([7, 1031], 2)], { axes: [1], keepDims: true }, tolForK(1031));
    checkKernel('Sum', [inp([517, 9], 3)], { axes: [0], keepDims: false }, tolForK(517));
    checkKernel('Min', [inp([517, 9], 4)], { axes: [0, 1], keepDims: false }, EXACT);
    // leading axes of [K, B] fold in blocks of 4096 / B rows: several blocks, the last partial, channel tails, NaN
    for (const [K, B] of [[2000, 7], [3001, 6], [130, 64], [9, 1030]]) {
      const x = inp([K, B], K + B);
      checkKernel('Sum', [x], { axes: [0], keepDims: false }, tolForK(K));
      x.values[(K - 3) * B + 1] = NaN; // in the last block
      for (const op of ['Max', 'Min']) checkKernel(op, [x], { axes: [0], keepDims: true }, EXACT);
      checkKernel('Prod', [inp([K, B], K, 0.999, 1.001)], { axes: [0], keepDims: false }, tolForK(K));
    }
  });
  it('NaN wins max/min; empty reductions give the identity', () => {
    const x: In = { values: Float32Array.from([1, NaN, 3, 4, 5, 6, -1, -2, NaN]), shape: [3, 3] };
    for (const op of reducers) for (const axes of [[0], [1], [0, 1]]) checkKernel(op, [x], { axes, keepDims: false }, EXACT);
    for (const op of reducers) checkKernel(op, [inp([3, 0], 1)], { axes: [1], keepDims: false }, EXACT);
  });
  it('the ops sum/mean/max/logSumExp run without fallback', () => {
    ck.clearFallbacks();
    const [got, want] = ['wasm', 'ts'].map((b) =>
      ck.withBackend(b, () => ck.tidy(() => {
        const x = ck.tensor(rand(2 * 5 * 17, 3), [2, 5, 17]);
        return [ck.mean(x, { axes: [1] }), ck.max(x, { axes: -1 }), ck.logSumExp(x, { axes: [2] })].map((t) => t.toArray());
      })),
    );
    expect(ck.getFallbacks()).toEqual([]);
    got.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 5)));
  });
});

describe('wasm data movement', () => {
  it('Transpose: every perm of rank <= 4, 2D and NHWC<->NCHW fast paths', () => {
    const perms = (r: number): number[][] => (r === 1 ? [[0]] : perms(r - 1).flatMap((p) => Array.from({ length: r }, (_, i) => [...p.slice(0, i), r - 1, ...p.slice(i)])));
    fc.assert(
      fc.property(shapeArb(4).chain((s) => fc.tuple(fc.constant(s), fc.constantFrom(...perms(s.length)), fc.nat(1000))), ([shape, perm, seed]) => {
        checkKernel('Transpose', [inp(shape, seed)], { perm }, EXACT);
      }),
      { numRuns: 120 },
    );
    for (const [R, C] of [[1, 1], [3, 5], [4, 4], [5, 9], [16, 17], [33, 8]]) checkKernel('Transpose', [inp([R, C], R * C)], { perm: [1, 0] }, EXACT);
    checkKernel('Transpose', [inp([2, 5, 7, 9], 1)], { perm: [0, 3, 1, 2] }, EXACT);
    checkKernel('Transpose', [inp([2, 9, 5, 7], 2)], { perm: [0, 2, 3, 1] }, EXACT);
    checkKernel('Transpose', [inp([2, 3, 2, 3, 2], 3)], { perm: [4, 2, 0, 3, 1] }, EXACT);
  });
  it('Slice, Pad, Reverse, BroadcastTo over drawn shapes', () => {
    fc.assert(
      fc.property(shapeArb(4), fc.nat(1000), (shape, seed) => {
        const x = inp(shape, seed);
        const begin = shape.map((d, i) => (seed >> i) % d);
        const size = shape.map((d, i) => Math.max(0, d - begin[i] - ((seed >> (i + 2)) % 2)));
        checkKernel('Slice', [x], { begin, size }, EXACT);
        const paddings = shape.map((_, i) => [(seed >> i) % 3, (seed >> (i + 1)) % 2]);
        checkKernel('Pad', [x], { paddings, value: 0.5 }, EXACT);
        checkKernel('Reverse', [x], { axes: shape.map((_, i) => i).filter((i) => (seed >> i) & 1) }, EXACT);
        const target = [2, ...shape.map((d, i) => (d === 1 ? 1 + ((seed >> i) % 3) : d))];
        checkKernel('BroadcastTo', [x], { shape: target }, EXACT);
        const x1 = inp(shape.map((d, i) => ((seed >> i) & 1 ? 1 : d)), seed + 1);
        checkKernel('BroadcastTo', [x1], { shape }, EXACT);
      }),
      { numRuns: 80 },
    );
  });
  it('Concat along every axis, uneven parts', () => {
    fc.assert(
      fc.property(shapeArb(3), fc.nat(1000), simdSize, smallSize, (shape, seed, e1, e2) => {
        for (let axis = 0; axis < shape.length; axis++) {
          const s1 = [...shape], s2 = [...shape];
          s1[axis] = e1;
          s2[axis] = e2;
          checkKernel('Concat', [inp(shape, seed), inp(s1, seed + 1), inp(s2, seed + 2)], { axis }, EXACT);
        }
      }),
      { numRuns: 40 },
    );
  });
  it('OneHot of float32 labels; a bad label throws the oracle message', () => {
    checkKernel('OneHot', [{ values: Float32Array.from([0, 3, 1, 2, 4]), shape: [5] }], { depth: 5, dtype: 'float32' }, EXACT);
    checkKernel('OneHot', [{ values: Float32Array.from([0, 3, 1, 2]), shape: [2, 2] }], { depth: 7, dtype: 'float32' }, EXACT);
    expect(() => runOn('wasm', 'OneHot', [{ values: Float32Array.from([0, 5]), shape: [2] }], { depth: 5, dtype: 'float32' })).toThrow(/label 5 at position 1 is not in \[0, 5\)/);
    expect(() => runOn('wasm', 'OneHot', [{ values: Float32Array.from([0.5]), shape: [1] }], { depth: 5, dtype: 'float32' })).toThrow(/label 0.5 at position 0/);
  });
});
