/**
 * wasm elementwise, reduction and data-movement kernels: the cases the conformance
 * suite's random draws (test/kernels, every backend) do not pin: the training
 * broadcasts, rank > 4 walks, NaN / infinities / signed zeros, empty tensors, exp and log
 * over their whole float32 range (subnormals included), the special values of pow and
 * sin, long reductions that fold in blocks, the transpose fast paths, dtype fallbacks and
 * OneHot's errors. Expected values are the float64 reference rounded to float32, so
 * correctly rounded arithmetic (+ - * / max min, sqrt, comparisons) matches EXACTLY;
 * exp/log are polynomial approximations: a few ulp; sums: the harness's sqrt(K) bound.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectKernel, type CaseInput } from '../kernels/harness.js';
import { f32 as inp } from '../kernels/cases/common.js';
import { rand } from '../util/rand.mjs';

const check = (name: string, inputs: CaseInput[], attrs: Record<string, unknown> = {}, tol: number | { atol: number; rtol: number } = 0, K?: number) => expectKernel('wasm', name, inputs, attrs, tol, K);
/** Sums of K terms: the conformance suite's tolerance. */
const SUM = 2e-7;
const ULP4 = { atol: 0, rtol: 4 * 2 ** -23 };
const ULP1 = { atol: 0, rtol: 2 ** -23 };

describe('wasm binary kernels (broadcasting): pinned cases', () => {
  const ops = ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal'];
  it('the common training broadcasts: bias add [N,H,W,C]+[C], scalar, row-wise [R,1]', async () => {
    for (const C of [1, 3, 4, 5, 8, 16, 17]) {
      await check('Add', [inp([2, 3, 5, C], 1), inp([C], 2)]);
      await check('Mul', [inp([7, C], 3), inp([], 4)]);
      await check('Sub', [inp([], 5), inp([7, C], 6)]);
      await check('Sub', [inp([9, C], 7), inp([9, 1], 8)]);
      await check('Div', [inp([9, 1], 9), inp([9, C], 10)]);
    }
  });
  it('a short channel vector over many rows, tiled into 64-float rows: both operand orders, every op, rows left over', async () => {
    for (const C of [1, 3, 6, 16, 63]) {
      for (const R of [2 * Math.ceil(64 / C), 129, 301]) {
        for (const op of ops) {
          await check(op, [inp([R, C], 11), inp([C], 12)]);
          await check(op, [inp([C], 13), inp([R, C], 14)]);
        }
        await check('Pow', [{ ...inp([R, C], 15, 0.5, 2) }, inp([C], 16)], {}, ULP4);
      }
    }
    await check('Add', [inp([4, 28, 28, 6], 17), inp([6], 18)]); // a LeNet bias
  });
  it('rank > 4 walks (split into 4-dim boxes on the host)', async () => {
    await check('Add', [inp([2, 1, 3, 1, 5, 2], 1), inp([1, 4, 1, 6, 1, 2], 2)]);
    await check('Mul', [inp([3, 1, 2, 1, 3, 1, 4], 3), inp([1, 2, 1, 2, 1, 3, 1], 4)]);
  });
  it('NaN and infinities propagate like the oracle (maximum/minimum keep NaN)', async () => {
    const a = { values: Float32Array.from([NaN, 1, -Infinity, Infinity, 0, -0, NaN, 2, 3]), shape: [9] };
    const b = { values: Float32Array.from([1, NaN, Infinity, Infinity, -0, 0, NaN, -Infinity, 0]), shape: [9] };
    for (const op of ops) await check(op, [a, b]);
  });
  it('empty tensors', async () => {
    await check('Add', [inp([0, 3], 1), inp([3], 2)]);
  });
});

describe('wasm unary kernels: pinned cases', () => {
  const exact = ['Neg', 'Abs', 'Sqrt', 'Square', 'Reciprocal', 'Sign', 'Floor', 'Round', 'IsNaN'];
  it('Exp and Log within a few ulp over their whole float32 range', async () => {
    // a spread of magnitudes, including subnormal results of exp and subnormal inputs of log
    const xs = new Float32Array(4000);
    const r = rand(4000, 11);
    for (let i = 0; i < xs.length; i++) xs[i] = r[i] * 87;
    await check('Exp', [{ values: xs, shape: [4000] }], {}, ULP4);
    const tiny = Float32Array.from(rand(1000, 12, -103, -87));
    await check('Exp', [{ values: tiny, shape: [1000] }], {}, { atol: 2e-45, rtol: 4 * 2 ** -23 });
    const pos = new Float32Array(4000);
    for (let i = 0; i < pos.length; i++) pos[i] = Math.exp(r[i] * 87);
    await check('Log', [{ values: pos, shape: [4000] }], {}, { atol: 1e-7, rtol: 4 * 2 ** -23 });
    const near1 = Float32Array.from(rand(1000, 13, 0.5, 2));
    await check('Log', [{ values: near1, shape: [1000] }], {}, { atol: 2e-8, rtol: 4 * 2 ** -23 });
    const sub = Float32Array.from([1e-40, 1e-45, 3e-39, 1.17e-38]);
    await check('Log', [{ values: sub, shape: [4] }], {}, { atol: 0, rtol: 1e-6 });
  });
  it('special values', async () => {
    const v = { values: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, -1, 89, -104, 88.7, -0.5, 0.5, 1.5, -1.5, 2.5]), shape: [15] };
    for (const op of [...exact, 'Exp', 'Log']) await check(op, [v], {}, ULP4);
  });
  it('Pow and Sin: JavaScript special cases, huge arguments', async () => {
    const sp = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, -2, 0.5];
    const a = Float32Array.from(sp.flatMap((u) => sp.map(() => u)));
    const b = Float32Array.from(sp.flatMap(() => sp));
    await check('Pow', [{ values: a, shape: [a.length] }, { values: b, shape: [b.length] }], {}, ULP1);
    await check('Sin', [{ values: Float32Array.from([1e30, -3e38, NaN, Infinity, 0, -0]), shape: [6] }], {}, ULP1);
  });
  it('Affine and Clip keep NaN', async () => {
    const x = inp([9], 3, -4, 4);
    x.values[0] = NaN;
    await check('Affine', [x], { scale: Math.fround(1.7), offset: Math.fround(-0.3) }, { atol: 1e-6, rtol: 1e-6 });
    await check('Clip', [x], { min: -1, max: 2.5 });
  });
});

describe('wasm Where, Fill, Cast: pinned cases', () => {
  it('Where: a NaN condition counts as true (it is not 0)', async () => {
    await check('Where', [{ values: Float32Array.from([1, 0, NaN, 0]), shape: [4] }, inp([4], 1), inp([4], 2)]);
  });
  it('Fill float32 stays on wasm; other dtypes fall back visibly', async () => {
    await check('Fill', [], { shape: [3, 5], dtype: 'float32', value: 2.5 });
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

describe('wasm reductions: pinned cases', () => {
  const reducers = ['Sum', 'Max', 'Min', 'Prod'];
  it('global pooling shape [N,H,W,C] over H,W; all axes; last axis; leading axes (long rows)', async () => {
    for (const C of [1, 3, 4, 5, 16, 17]) {
      await check('Sum', [inp([3, 13, 11, C], C)], { axes: [1, 2], keepDims: false }, SUM, 143);
      await check('Max', [inp([3, 13, 11, C], C + 1)], { axes: [1, 2], keepDims: false });
    }
    await check('Sum', [inp([100003], 1)], { axes: [0], keepDims: false }, SUM, 100003);
    await check('Sum', [inp([7, 1031], 2)], { axes: [1], keepDims: true }, SUM, 1031);
    await check('Sum', [inp([517, 9], 3)], { axes: [0], keepDims: false }, SUM, 517);
    await check('Min', [inp([517, 9], 4)], { axes: [0, 1], keepDims: false });
    // leading axes of [K, B] fold in blocks of 4096 / B rows: several blocks, the last partial, channel tails, NaN
    for (const [K, B] of [[2000, 7], [3001, 6], [130, 64], [9, 1030]]) {
      const x = inp([K, B], K + B);
      await check('Sum', [x], { axes: [0], keepDims: false }, SUM, K);
      x.values[(K - 3) * B + 1] = NaN; // in the last block
      for (const op of ['Max', 'Min']) await check(op, [x], { axes: [0], keepDims: true });
      await check('Prod', [inp([K, B], K, 0.999, 1.001)], { axes: [0], keepDims: false }, SUM, K);
    }
  });
  it('NaN wins max/min; empty reductions give the identity', async () => {
    const x = { values: Float32Array.from([1, NaN, 3, 4, 5, 6, -1, -2, NaN]), shape: [3, 3] };
    for (const op of reducers) for (const axes of [[0], [1], [0, 1]]) await check(op, [x], { axes, keepDims: false });
    for (const op of reducers) await check(op, [inp([3, 0], 1)], { axes: [1], keepDims: false });
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

describe('wasm data movement: pinned cases', () => {
  it('Transpose: 2D and NHWC<->NCHW fast paths, rank 5', async () => {
    for (const [R, C] of [[1, 1], [3, 5], [4, 4], [5, 9], [16, 17], [33, 8]]) await check('Transpose', [inp([R, C], R * C)], { perm: [1, 0] });
    await check('Transpose', [inp([2, 5, 7, 9], 1)], { perm: [0, 3, 1, 2] });
    await check('Transpose', [inp([2, 9, 5, 7], 2)], { perm: [0, 2, 3, 1] });
    await check('Transpose', [inp([2, 3, 2, 3, 2], 3)], { perm: [4, 2, 0, 3, 1] });
  });
  it('OneHot of float32 labels; a bad label throws the oracle message', async () => {
    await check('OneHot', [{ values: Float32Array.from([0, 3, 1, 2, 4]), shape: [5] }], { depth: 5, dtype: 'float32' });
    await check('OneHot', [{ values: Float32Array.from([0, 3, 1, 2]), shape: [2, 2] }], { depth: 7, dtype: 'float32' });
    const run = (labels: number[]) => () => ck.withBackend('wasm', () => ck.tidy(() => ck.runKernel('OneHot', [ck.tensor(labels)], { depth: 5, dtype: 'float32' })));
    expect(run([0, 5])).toThrow(/label 5 at position 1 is not in \[0, 5\)/);
    expect(run([0.5])).toThrow(/label 0.5 at position 0/);
  });
});

describe('wasm expm1 and log1p: pinned cases', () => {
  it('Expm1 and Log1p within a few ulp, relative accuracy kept near 0 (1e-10, 1e-5), special values', async () => {
    // magnitudes from 1e-12 to 80: the series near 0 and exp/log beyond
    const r = rand(4000, 14);
    const scales = [80, 2, 0.6, 1e-2, 1e-5, 1e-10];
    const xs = Float32Array.from(r, (u, i) => u * scales[i % scales.length]);
    await check('Expm1', [{ values: xs, shape: [xs.length] }], {}, ULP4);
    // log1p on (-1, e^40): x = e^t - 1, and tiny x of both signs
    const ys = Float32Array.from(r, (u, i) => (i % 3 === 0 ? Math.expm1(u * 40) : u * scales[i % scales.length]));
    ys.forEach((y, i) => (ys[i] = Math.max(y, -1 + 2 ** -24)));
    await check('Log1p', [{ values: ys, shape: [ys.length] }], {}, ULP4);
    const sp: CaseInput = { values: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, -1, -1.5, -0.5, 0.5, 1e-10, -1e-10, 1e-5, -1e-5, 89, -104, 3e38, -0.99999994]), shape: [17] };
    await check('Expm1', [sp], {}, ULP4);
    await check('Log1p', [sp], {}, ULP4);
  });
});
