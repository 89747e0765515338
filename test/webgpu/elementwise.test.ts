/**
 * webgpu elementwise, reduction and data-movement kernels against the ts oracle
 * (float32 and int32), with fast-check drawing shapes, broadcasts and axes.
 * Sizes stay small: SwiftShader runs about 1 GFLOP/s.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { compareKernel, f32, i32, openWebGPU, rand } from './gpu.js';

const gpu = await openWebGPU();

describe('webgpu availability', () => {
  it.runIf(gpu.ok || gpu.required)('opens an adapter (required when CONVKIT_REQUIRE_WEBGPU=1)', () => {
    expect(gpu.reason).toBe('');
  });
  if (!gpu.ok && !gpu.required) it.skip(`skipped: ${gpu.reason}`, () => undefined);
});

const run = describe.skipIf(!gpu.ok);

/** A shape of rank 0..4 with small dimensions. */
const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });

/** Two shapes that broadcast: drop leading axes of one, set some of its axes to 1. */
const bcastArb = shapeArb.chain((s) =>
  fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })).map(([a, drop, ones]) => {
    const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
    return [a, b] as [number[], number[]];
  }),
);

run('unary maps', () => {
  const size = [3, 7, 5];
  const cases: [string, Record<string, unknown>, number, number][] = [
    ['Neg', {}, -3, 3], ['Abs', {}, -3, 3], ['Exp', {}, -5, 5], ['Log', {}, -0.5, 4], ['Sqrt', {}, -0.5, 4],
    ['Square', {}, -3, 3], ['Reciprocal', {}, 0.1, 3], ['Sign', {}, -2, 2], ['Sin', {}, -20, 20], ['Cos', {}, -20, 20],
    ['Floor', {}, -5, 5], ['Round', {}, -5, 5], ['IsNaN', {}, -1, 1], ['Clip', { min: -0.3, max: 0.6 }, -1, 1],
    ['Affine', { scale: 2.5, offset: -0.75 }, -1, 1],
  ];
  for (const [name, attrs, lo, hi] of cases) {
    it(`${name} matches ts (float32)`, async () => {
      const x = f32(size, name.length, lo, hi);
      // Exact special values: halves (Round), zeros, NaN and infinities.
      const v = Array.from(x.values);
      v.splice(0, 6, 0.5, -0.5, 0, NaN, Infinity, -Infinity);
      await compareKernel(name, [{ values: v, shape: size }], attrs, { atol: 2e-6, rtol: 2e-6 });
    });
  }
  it('Expm1 and Log1p keep their relative accuracy near 0 (1e-10, 1e-5), large |x|, -1, below -1, NaN, +-Infinity', async () => {
    const scales = [30, 2, 0.6, 1e-2, 1e-5, 1e-10];
    const r = f32([120], 3, -1, 1).values;
    const xs = Array.from(r, (u, i) => Math.fround(u * scales[i % scales.length]));
    const sp = [NaN, Infinity, -Infinity, 0, -1, -1.5, -0.5, 0.5, 1, 1e-10, -1e-10, 1e-5, -1e-5, 88, -104, 3e38, -0.99999994];
    await compareKernel('Expm1', [{ values: [...sp, ...xs], shape: [sp.length + xs.length] }], {}, { atol: 0, rtol: 2e-6 });
    const ys = Array.from(r, (u, i) => (i % 3 === 0 ? Math.fround(Math.max(Math.expm1(u * 30), -0.99999994)) : xs[i]));
    await compareKernel('Log1p', [{ values: [...sp, ...ys], shape: [sp.length + ys.length] }], {}, { atol: 0, rtol: 2e-6 });
  });
  it('int32 maps keep int32 (Neg, Abs, Square, Sign, Floor, Round, Clip)', async () => {
    const x = i32([-7, -1, 0, 1, 3, 12, -40, 5], [2, 4]);
    for (const name of ['Neg', 'Abs', 'Square', 'Sign', 'Floor', 'Round']) await compareKernel(name, [x]);
    await compareKernel('Clip', [x], { min: -2, max: 4 });
  });
});

run('binary maps with broadcasting', () => {
  const names = ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal'];
  it('float32, any broadcast (property)', async () => {
    await fc.assert(
      fc.asyncProperty(bcastArb, fc.boolean(), fc.integer({ min: 0, max: names.length - 1 }), fc.integer(), async ([a, b], swap, k, seed) => {
        const [sa, sb] = swap ? [b, a] : [a, b];
        // Few distinct values, so comparisons meet ties.
        const av = Array.from(rand(sa.reduce((p, q) => p * q, 1), seed), (x) => Math.round(x * 4) / 2);
        const bv = Array.from(rand(sb.reduce((p, q) => p * q, 1), seed + 1), (x) => Math.round(x * 4) / 2 + (names[k] === 'Div' ? 0.25 : 0));
        await compareKernel(names[k], [{ values: av, shape: sa }, { values: bv, shape: sb }], {}, { atol: 1e-6, rtol: 1e-6 });
      }),
      { numRuns: 40 },
    );
  });
  it('Pow follows Math.pow for negative bases, zero and NaN', async () => {
    const a = [2, -2, -2, 0, -0, 0, 1, NaN, 3, 0.5];
    const b = [3, 3, 0.5, -1, -3, 2, NaN, 0, -2, 10];
    await compareKernel('Pow', [{ values: a, shape: [10] }, { values: b, shape: [10] }], {}, { atol: 1e-6, rtol: 1e-5 });
  });
  it('NaN propagates through Maximum/Minimum and compares false', async () => {
    const a = { values: [NaN, 1, 2, NaN], shape: [4] };
    const b = { values: [0, NaN, 2, NaN], shape: [4] };
    for (const n of ['Maximum', 'Minimum', 'Greater', 'Equal', 'LessEqual']) await compareKernel(n, [a, b]);
  });
  it('int32 arithmetic and comparisons (Div truncates, x / 0 stores 0)', async () => {
    const a = i32([7, -7, 9, 0, 5, -3], [2, 3]);
    const b = i32([2, 2, 0], [3]);
    for (const n of ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum', 'Greater', 'Equal']) await compareKernel(n, [a, b]);
  });
});

run('select, cast, fill', () => {
  it('Where broadcasts all three operands (property)', async () => {
    await fc.assert(
      fc.asyncProperty(bcastArb, fc.integer(), async ([a, b], seed) => {
        const n = a.reduce((p, q) => p * q, 1), m = b.reduce((p, q) => p * q, 1);
        const c = Array.from(rand(m, seed), (x) => (x > 0 ? 1 : 0));
        await compareKernel('Where', [{ values: c, shape: b }, f32(a, seed + 1), { values: rand(m, seed + 2), shape: b }]);
        void n;
      }),
      { numRuns: 20 },
    );
  });
  it('Cast float32 <-> int32 truncates like an Int32Array, NaN -> 0', async () => {
    await compareKernel('Cast', [{ values: [1.7, -1.7, 0, NaN, 1e10, -2.5e9, 123456.9], shape: [7] }], { dtype: 'int32' });
    await compareKernel('Cast', [i32([1, -5, 2147483647])], { dtype: 'float32' });
  });
  it('Fill writes the value in either dtype, NaN included', async () => {
    await compareKernel('Fill', [], { shape: [3, 4], dtype: 'float32', value: -2.5 });
    await compareKernel('Fill', [], { shape: [5], dtype: 'int32', value: 7 });
    await compareKernel('Fill', [], { shape: [2], dtype: 'float32', value: NaN });
    await compareKernel('Fill', [], { shape: [0], dtype: 'float32', value: 1 });
  });
  it('float64 never lands on the GPU: Fill runs on ts, Cast of a GPU tensor says why it cannot', () => {
    const z = ck.withBackend('webgpu', () => ck.runKernel('Fill', [], { shape: [2], dtype: 'float64', value: 1 })[0]);
    expect(z.backend.name).toBe('ts');
    const x = ck.withBackend('webgpu', () => ck.tensor([1, 2]));
    expect(() => ck.withBackend('webgpu', () => ck.runKernel('Cast', [x], { dtype: 'float64' }))).toThrow(/cannot be read synchronously/);
  });
});

run('reductions', () => {
  const axesArb = shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i), { minLength: 1 }), fc.boolean()));
  it('Sum, Prod, Max, Min over any axes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(axesArb, fc.constantFrom('Sum', 'Prod', 'Max', 'Min'), fc.integer(), async ([shape, axes, keepDims], kind, seed) => {
        const x = f32(shape, seed, kind === 'Prod' ? 0.5 : -1, kind === 'Prod' ? 1.5 : 1);
        await compareKernel(kind, [x], { axes, keepDims }, { atol: 1e-5, rtol: 1e-5 });
      }),
      { numRuns: 40 },
    );
  });
  it('ArgMax and ArgMin return the first extreme (ties, property)', async () => {
    await fc.assert(
      fc.asyncProperty(axesArb, fc.boolean(), fc.integer(), async ([shape, axes, keepDims], max, seed) => {
        const n = shape.reduce((p, q) => p * q, 1);
        const v = Array.from(rand(n, seed), (x) => Math.round(x * 2));
        await compareKernel(max ? 'ArgMax' : 'ArgMin', [{ values: v, shape }], { axis: axes[0], keepDims });
      }),
      { numRuns: 30 },
    );
  });
  it('workgroup reductions: few outputs with many terms, NaN wins, first NaN index', async () => {
    const x = f32([3, 700], 5);
    await compareKernel('Sum', [x], { axes: [1], keepDims: false }, { atol: 1e-4, rtol: 1e-5 });
    await compareKernel('Sum', [f32([50, 41, 3], 6)], { axes: [0, 1], keepDims: true }, { atol: 1e-4, rtol: 1e-5 });
    const v = Array.from(rand(2 * 300, 7));
    v[417] = NaN;
    v[500] = NaN;
    v[30] = 5;
    v[31] = 5;
    for (const k of ['Max', 'Min', 'Sum']) await compareKernel(k, [{ values: v, shape: [2, 300] }], { axes: [1], keepDims: false }, { atol: 1e-4 });
    for (const k of ['ArgMax', 'ArgMin']) await compareKernel(k, [{ values: v, shape: [2, 300] }], { axis: 1, keepDims: false });
    await compareKernel('Sum', [f32([4096], 8)], { axes: [0], keepDims: false }, { atol: 1e-4, rtol: 1e-5 });
  });
  it('int32 sums and maxima', async () => {
    await compareKernel('Sum', [i32([1, 2, 3, 4, 5, 6], [2, 3])], { axes: [1], keepDims: false });
    await compareKernel('Max', [i32([1, -2, 3, 4, -5, 6], [2, 3])], { axes: [0], keepDims: false });
    await compareKernel('ArgMax', [i32([1, 7, 7, 4, -5, 6], [2, 3])], { axis: 1, keepDims: false });
  });
});

run('data movement', () => {
  it('Transpose by any permutation (property)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }))), fc.integer(), async ([shape, perm], seed) => {
        await compareKernel('Transpose', [f32(shape, seed)], { perm });
      }),
      { numRuns: 25 },
    );
  });
  it('Slice, Reverse, Pad and BroadcastTo (property)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb.filter((s) => s.length > 0), fc.integer({ min: 0, max: 1000 }), async (shape, seed) => {
        const r = rand(4 * shape.length, seed, 0, 1);
        const begin = shape.map((d, i) => Math.floor(r[i] * d));
        const size = shape.map((d, i) => Math.max(0, Math.floor(r[shape.length + i] * (d - begin[i] + 1))));
        const axes = shape.map((_, i) => i).filter((i) => r[2 * shape.length + i] > 0.5);
        const paddings = shape.map((_, i) => [Math.floor(r[3 * shape.length + i] * 3), i % 2]);
        const x = f32(shape, seed);
        await compareKernel('Slice', [x], { begin, size });
        await compareKernel('Reverse', [x], { axes });
        await compareKernel('Pad', [x], { paddings, value: -1.5 });
        await compareKernel('BroadcastTo', [{ values: x.values, shape: [1, ...shape] }], { shape: [3, ...shape] });
      }),
      { numRuns: 25 },
    );
  });
  it('Concat along each axis, int32 too', async () => {
    await compareKernel('Concat', [f32([2, 3, 4], 1), f32([2, 1, 4], 2), f32([2, 5, 4], 3)], { axis: 1 });
    await compareKernel('Concat', [f32([2, 3], 1), f32([1, 3], 2)], { axis: 0 });
    await compareKernel('Concat', [f32([2, 3], 1), f32([2, 2], 2)], { axis: 1 });
    await compareKernel('Concat', [i32([1, 2, 3, 4], [2, 2]), i32([5, 6], [2, 1])], { axis: 1 });
  });
  it('Gather, GatherGrad and OneHot', async () => {
    const idx = i32([2, 0, 2, 1], [2, 2]);
    await compareKernel('Gather', [f32([3, 4, 2], 4), idx], { axis: 1 });
    await compareKernel('Gather', [f32([3, 4], 5), idx], { axis: 0 });
    await compareKernel('GatherGrad', [f32([3, 2, 2, 2], 6), idx], { axis: 1, shape: [3, 4, 2] });
    await compareKernel('OneHot', [i32([0, 3, 1, 2, 3])], { depth: 4, dtype: 'float32' });
    await compareKernel('OneHot', [i32([0, 3, 1])], { depth: 5, dtype: 'int32' });
  });
});
