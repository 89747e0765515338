/**
 * wasm pooling kernels: what the conformance suite's random draws (test/kernels, every
 * backend, continuous inputs) do not pin: ties (the first maximum wins), NaN (it wins),
 * all-negative windows next to padding (padding never wins), each forward and gradient
 * path, exact conventions, and the ops end to end. Max pooling is exact (a max is one of
 * the inputs); its gradient routes dy unchanged, summed over at most kH*kW windows.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { computePool2DInfo, type Padding } from '../../src/kernels/conv_info.js';
import { expectKernel } from '../kernels/harness.js';
import { f32 as inp, type F32Input } from '../kernels/cases/common.js';
import { rand } from '../util/rand.mjs';

/** Max-pool gradient: dy summed over at most kh*kw windows (tolerance per the harness, K = kh*kw). */
const GRAD_TOL = 2e-7;

const geometry = fc.record({
  N: fc.constantFrom(1, 2),
  H: fc.integer({ min: 1, max: 9 }),
  W: fc.integer({ min: 1, max: 9 }),
  C: fc.constantFrom(1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 32, 35), // around the 16-channel block of max pooling and its 4-wide tail
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  dh: fc.constantFrom(1, 1, 2),
  dw: fc.constantFrom(1, 1, 2),
  pad: fc.oneof(fc.constantFrom<Padding>('valid', 'same'), fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(([a, b, c, d]) => [[a, b], [c, d]] as Padding)),
  seed: fc.nat(1000),
});

type G = typeof geometry extends fc.Arbitrary<infer T> ? T : never;

/** The pool geometry, or null when the ops would reject it (kernel too big, empty window). */
function info(g: G) {
  try {
    return computePool2DInfo('test', [g.N, g.H, g.W, g.C], { size: [g.kh, g.kw], strides: [g.sh, g.sw], dilations: [g.dh, g.dw], padding: g.pad });
  } catch {
    return null;
  }
}

/** Inputs quantised to a few levels so windows hold ties (first-max rule), and some NaN. */
function tiedInput(shape: number[], seed: number, nan: boolean): F32Input {
  const x = inp(shape, seed);
  x.values.forEach((v, i) => (x.values[i] = Math.round(v * 3) / 3));
  if (nan && x.values.length > 7) x.values[(seed * 7) % x.values.length] = NaN;
  return x;
}

describe('wasm pooling vs ts', () => {
  it('MaxPool2D and MaxPool2DGrad (ties to the first maximum, NaN wins, padding never wins)', async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(geometry, fc.boolean(), async (g, nan) => {
        const pool = info(g);
        if (!pool) return;
        ran++;
        const x = tiedInput([g.N, g.H, g.W, g.C], g.seed, nan);
        // all-negative windows next to padding: padding (conceptually 0 or -inf) must not win
        if (g.seed % 4 === 0) x.values.forEach((v, i) => (x.values[i] = -Math.abs(v) - 1));
        await expectKernel('wasm', 'MaxPool2D', [x], { pool });
        const dy = inp([g.N, pool.outH, pool.outW, g.C], g.seed + 1);
        await expectKernel('wasm', 'MaxPool2DGrad', [dy, x], { pool }, GRAD_TOL, g.kh * g.kw);
      }),
      { numRuns: 100 },
    );
    // About 60% of drawn geometries are valid; the bound only guards against a generator that stops producing them.
    expect(ran).toBeGreaterThan(30);
  });
  it('MaxPool2D and MaxPool2DGrad paths: 2x2 / 2 (unrolled kernels), windows tiling the input (dx never zeroed), disjoint, overlapping; channel tails', async () => {
    const cases: [number[], Parameters<typeof computePool2DInfo>[2]][] = [];
    for (const C of [1, 3, 4, 6, 7, 16, 17]) {
      cases.push([[2, 6, 8, C], { size: 2 }]); // 2x2 tiles: the unrolled kernel, each cell stored once
      cases.push([[1, 9, 9, C], { size: 3 }]); // tiles, 3x3 / 3
      cases.push([[1, 7, 5, C], { size: 2 }]); // disjoint, last row and column in no window (2x2 forward kernel)
      cases.push([[1, 5, 6, C], { size: 2, padding: 'same' }]); // disjoint, padded
      cases.push([[1, 7, 7, C], { size: 3, strides: 2 }]); // overlapping: chosen cells accumulate
      cases.push([[1, 6, 6, C], { size: 2, strides: 2, dilations: 2 }]); // dilated windows interleave: disjoint
    }
    for (const [i, [shape, opts]] of cases.entries()) {
      const pool = computePool2DInfo('test', shape, opts);
      // dirty the memory the gradient will be allocated in: the tiling path writes every cell itself
      ck.withBackend('wasm', () => ck.tidy(() => void ck.full(shape, Number.NaN).dataSync()));
      const x = tiedInput(shape, i, i % 5 === 0);
      await expectKernel('wasm', 'MaxPool2D', [x], { pool });
      await expectKernel('wasm', 'MaxPool2DGrad', [inp([shape[0], pool.outH, pool.outW, shape[3]], i + 100), x], { pool }, GRAD_TOL, 9);
    }
  });
  it('pins the conventions with exact cases: first max of a tie, padding never wins', () => {
    // one window [[5, 5], [1, 5]]: the gradient goes to the first 5 only
    const x = ck.withBackend('wasm', () => ck.tensor([5, 5, 1, 5], [1, 2, 2, 1]));
    const [g] = ck.withBackend('wasm', () => ck.grad((t: ck.Tensor) => ck.sum(ck.maxPool2d(t, { size: 2 })))(x));
    expect(g.toArray()).toEqual([1, 0, 0, 0]);
    // a window of negatives with padding: the max is the real -3, not a padded 0
    const y = ck.withBackend('wasm', () => ck.maxPool2d(ck.tensor([-3, -4, -5, -6], [1, 2, 2, 1]), { size: 3, strides: 1, padding: 'same' }));
    expect(y.toArray()).toEqual([-3, -3, -3, -3]);
    // countIncludePad: a corner window of 'same' 3x3 over ones holds 4 real cells
    const ones = () => ck.ones([1, 2, 2, 1]);
    const a1 = ck.withBackend('wasm', () => ck.avgPool2d(ones(), { size: 3, strides: 1, padding: 'same', countIncludePad: true }));
    const a0 = ck.withBackend('wasm', () => ck.avgPool2d(ones(), { size: 3, strides: 1, padding: 'same', countIncludePad: false }));
    expect(a1.toArray().map((v) => +v.toFixed(6))).toEqual([0.444444, 0.444444, 0.444444, 0.444444]);
    expect(a0.toArray()).toEqual([1, 1, 1, 1]);
    for (const t of [x, g, y, a1, a0]) t.dispose();
  });
  it('the ops (incl. global pooling through Sum/Max) run without fallback and match ts', () => {
    const vals = rand(2 * 6 * 5 * 7, 9);
    const run = (b: string) =>
      ck.withBackend(b, () =>
        ck.tidy(() => {
          const x = ck.tensor(vals, [2, 6, 5, 7]);
          return [
            ck.maxPool2d(x, { size: 2, strides: 2, padding: 'same' }),
            ck.avgPool2d(x, { size: 3, strides: 1, padding: 'valid' }),
            ck.minPool2d(x, { size: 2 }),
            ck.globalAvgPool2d(x),
            ck.globalMaxPool2d(x),
          ].map((t) => ({ shape: t.shape, v: t.toArray() }));
        }),
      );
    const want = run('ts');
    ck.clearFallbacks();
    const got = run('wasm');
    expect(ck.getFallbacks()).toEqual([]);
    got.forEach((o, i) => {
      expect(o.shape).toEqual(want[i].shape);
      o.v.forEach((v, j) => expect(Math.abs(v - want[i].v[j])).toBeLessThanOrEqual(1e-6));
    });
  });
});
