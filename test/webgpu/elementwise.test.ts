/**
 * webgpu elementwise, reduction and data-movement kernels: the cases the conformance
 * suite's random float32 draws (test/kernels, every backend) do not pin: int32 tensors,
 * special values (halves, zeros, NaN, infinities), Math.pow's special cases, ties of the
 * arg-reductions, workgroup reductions with many terms, float64 staying off the GPU.
 * Expected values: the float64 reference (harness.ts). Sizes stay small: SwiftShader
 * runs about 1 GFLOP/s.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { expectKernel, type CaseInput } from '../kernels/harness.js';
import { f32, ints as i32 } from '../kernels/cases/common.js';
import { openWebGPU } from '../util/webgpu.js';
import { rand } from '../util/rand.mjs';
import type { Tol } from '../util/close.js';

const compare = (name: string, inputs: CaseInput[], attrs: Record<string, unknown> = {}, tol: Tol = { atol: 0, rtol: 0 }) => expectKernel('webgpu', name, inputs, attrs, tol);

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
      await compare(name, [{ values: v, shape: size }], attrs, { atol: 2e-6, rtol: 2e-6 });
    });
  }
  it('Expm1 and Log1p keep their relative accuracy near 0 (1e-10, 1e-5), large |x|, -1, below -1, NaN, +-Infinity', async () => {
    const scales = [30, 2, 0.6, 1e-2, 1e-5, 1e-10];
    const r = f32([120], 3, -1, 1).values;
    const xs = Array.from(r, (u, i) => Math.fround(u * scales[i % scales.length]));
    const sp = [NaN, Infinity, -Infinity, 0, -1, -1.5, -0.5, 0.5, 1, 1e-10, -1e-10, 1e-5, -1e-5, 88, -104, 3e38, -0.99999994];
    await compare('Expm1', [{ values: Float32Array.from([...sp, ...xs]), shape: [sp.length + xs.length] }], {}, { atol: 0, rtol: 2e-6 });
    const ys = Array.from(r, (u, i) => (i % 3 === 0 ? Math.fround(Math.max(Math.expm1(u * 30), -0.99999994)) : xs[i]));
    await compare('Log1p', [{ values: Float32Array.from([...sp, ...ys]), shape: [sp.length + ys.length] }], {}, { atol: 0, rtol: 2e-6 });
  });
  it('int32 maps keep int32 (Neg, Abs, Square, Sign, Floor, Round, Clip)', async () => {
    const x = i32([-7, -1, 0, 1, 3, 12, -40, 5], [2, 4]);
    for (const name of ['Neg', 'Abs', 'Square', 'Sign', 'Floor', 'Round']) await compare(name, [x]);
    await compare('Clip', [x], { min: -2, max: 4 });
  });
});

run('binary maps', () => {
  it('Pow follows Math.pow for negative bases, zero and NaN', async () => {
    const a = [2, -2, -2, 0, -0, 0, 1, NaN, 3, 0.5];
    const b = [3, 3, 0.5, -1, -3, 2, NaN, 0, -2, 10];
    await compare('Pow', [{ values: a, shape: [10] }, { values: b, shape: [10] }], {}, { atol: 1e-6, rtol: 1e-5 });
  });
  it('NaN propagates through Maximum/Minimum and compares false', async () => {
    const a = { values: [NaN, 1, 2, NaN], shape: [4] };
    const b = { values: [0, NaN, 2, NaN], shape: [4] };
    for (const n of ['Maximum', 'Minimum', 'Greater', 'Equal', 'LessEqual']) await compare(n, [a, b]);
  });
  it('int32 arithmetic and comparisons (Div truncates, x / 0 stores 0)', async () => {
    const a = i32([7, -7, 9, 0, 5, -3], [2, 3]);
    const b = i32([2, 2, 0], [3]);
    for (const n of ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum', 'Greater', 'Equal']) await compare(n, [a, b]);
  });
});

run('select, cast, fill', () => {
  it('Cast float32 <-> int32 truncates like an Int32Array, NaN -> 0', async () => {
    await compare('Cast', [{ values: [1.7, -1.7, 0, NaN, 1e10, -2.5e9, 123456.9], shape: [7] }], { dtype: 'int32' });
    await compare('Cast', [i32([1, -5, 2147483647])], { dtype: 'float32' });
  });
  it('Fill writes the value in either dtype, NaN included', async () => {
    await compare('Fill', [], { shape: [3, 4], dtype: 'float32', value: -2.5 });
    await compare('Fill', [], { shape: [5], dtype: 'int32', value: 7 });
    await compare('Fill', [], { shape: [2], dtype: 'float32', value: NaN });
    await compare('Fill', [], { shape: [0], dtype: 'float32', value: 1 });
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
  it('ArgMax and ArgMin return the first extreme (ties, property)', async () => {
    await fc.assert(
      fc.asyncProperty(axesArb, fc.boolean(), fc.integer(), async ([shape, axes, keepDims], max, seed) => {
        const n = shape.reduce((p, q) => p * q, 1);
        const v = Array.from(rand(n, seed), (x) => Math.round(x * 2));
        await compare(max ? 'ArgMax' : 'ArgMin', [{ values: v, shape }], { axis: axes[0], keepDims });
      }),
      { numRuns: 10 },
    );
  });
  it('workgroup reductions: few outputs with many terms, NaN wins, first NaN index', async () => {
    const x = f32([3, 700], 5);
    await compare('Sum', [x], { axes: [1], keepDims: false }, { atol: 1e-4, rtol: 1e-5 });
    await compare('Sum', [f32([50, 41, 3], 6)], { axes: [0, 1], keepDims: true }, { atol: 1e-4, rtol: 1e-5 });
    const v = Array.from(rand(2 * 300, 7));
    v[417] = NaN;
    v[500] = NaN;
    v[30] = 5;
    v[31] = 5;
    for (const k of ['Max', 'Min', 'Sum']) await compare(k, [{ values: v, shape: [2, 300] }], { axes: [1], keepDims: false }, { atol: 1e-4 });
    for (const k of ['ArgMax', 'ArgMin']) await compare(k, [{ values: v, shape: [2, 300] }], { axis: 1, keepDims: false });
    await compare('Sum', [f32([4096], 8)], { axes: [0], keepDims: false }, { atol: 1e-4, rtol: 1e-5 });
  });
  it('int32 sums and maxima', async () => {
    await compare('Sum', [i32([1, 2, 3, 4, 5, 6], [2, 3])], { axes: [1], keepDims: false });
    await compare('Max', [i32([1, -2, 3, 4, -5, 6], [2, 3])], { axes: [0], keepDims: false });
    await compare('ArgMax', [i32([1, 7, 7, 4, -5, 6], [2, 3])], { axis: 1, keepDims: false });
  });
});

run('data movement', () => {
  it('Concat along each axis, int32 too', async () => {
    await compare('Concat', [f32([2, 3, 4], 1), f32([2, 1, 4], 2), f32([2, 5, 4], 3)], { axis: 1 });
    await compare('Concat', [f32([2, 3], 1), f32([1, 3], 2)], { axis: 0 });
    await compare('Concat', [f32([2, 3], 1), f32([2, 2], 2)], { axis: 1 });
    await compare('Concat', [i32([1, 2, 3, 4], [2, 2]), i32([5, 6], [2, 1])], { axis: 1 });
  });
  it('Gather, GatherGrad and OneHot', async () => {
    const idx = i32([2, 0, 2, 1], [2, 2]);
    await compare('Gather', [f32([3, 4, 2], 4), idx], { axis: 1 });
    await compare('Gather', [f32([3, 4], 5), idx], { axis: 0 });
    await compare('GatherGrad', [f32([3, 2, 2, 2], 6), idx], { axis: 1, shape: [3, 4, 2] });
    await compare('OneHot', [i32([0, 3, 1, 2, 3])], { depth: 4, dtype: 'float32' });
    await compare('OneHot', [i32([0, 3, 1])], { depth: 5, dtype: 'int32' });
  });
});
