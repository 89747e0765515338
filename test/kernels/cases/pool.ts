/**
 * 2-D pooling, forward and gradient. Geometry attrs come from computePool2DInfo (the
 * ops' function) over a drawn window, strides, dilations and padding. Random continuous
 * inputs have no ties (max pooling's first-max rule is pinned in test/wasm/pool.test.ts);
 * max pooling is exact, its gradient sums dy over at most kh*kw windows, average pooling
 * sums kh*kw terms.
 */
import fc from 'fast-check';
import { computePool2DInfo, type Padding } from '../../../src/kernels/conv_info.js';
import type { CaseTable, KernelCase, SizeContext } from '../harness.js';
import { dim, f32, seed } from './common.js';

function geometry(ctx: SizeContext) {
  const maxHW = ctx.slow ? 6 : 9;
  return fc
    .record({
      N: fc.constantFrom(1, 2),
      H: fc.integer({ min: 1, max: maxHW }),
      W: fc.integer({ min: 1, max: maxHW }),
      C: dim(ctx),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 3 }),
      sw: fc.integer({ min: 1, max: 3 }),
      dh: fc.constantFrom(1, 1, 2),
      dw: fc.constantFrom(1, 1, 2),
      pad: fc.oneof(fc.constantFrom<Padding>('valid', 'same'), fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(([a, b, c, d]) => [[a, b], [c, d]] as Padding)),
      countIncludePad: fc.boolean(),
      s: seed,
    })
    .map((g) => {
      const xShape = [g.N, g.H, g.W, g.C];
      try {
        const pool = computePool2DInfo('conformance', xShape, { size: [g.kh, g.kw], strides: [g.sh, g.sw], dilations: [g.dh, g.dw], padding: g.pad });
        return { xShape, yShape: [g.N, pool.outH, pool.outW, g.C], pool, g };
      } catch {
        return null; // a window with no real cell, or larger than the padded input
      }
    })
    .filter((g): g is NonNullable<typeof g> => g !== null);
}

type Which = 'max' | 'maxGrad' | 'avg' | 'avgGrad';

function cases(which: Which) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> =>
    geometry(ctx).map(({ xShape, yShape, pool, g }): KernelCase => {
      const K = g.kh * g.kw;
      const note = `x ${JSON.stringify(xShape)} window ${g.kh}x${g.kw} strides ${g.sh},${g.sw} dilations ${g.dh},${g.dw} padding ${JSON.stringify(g.pad)}`;
      if (which === 'max') return { inputs: [f32(xShape, g.s)], attrs: { pool }, note };
      if (which === 'maxGrad') return { inputs: [f32(yShape, g.s + 1), f32(xShape, g.s)], attrs: { pool }, K, note };
      if (which === 'avg') return { inputs: [f32(xShape, g.s)], attrs: { pool, countIncludePad: g.countIncludePad }, K, note };
      return { inputs: [f32(yShape, g.s + 1)], attrs: { pool, countIncludePad: g.countIncludePad }, K, note };
    });
}

export const poolCases: CaseTable = {
  MaxPool2D: { cases: cases('max'), tol: 0 },
  MaxPool2DGrad: { cases: cases('maxGrad'), tol: 2e-7 },
  AvgPool2D: { cases: cases('avg'), tol: 2e-7 },
  AvgPool2DGrad: { cases: cases('avgGrad'), tol: 2e-7 },
};
