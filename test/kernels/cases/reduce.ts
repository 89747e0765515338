/**
 * Reductions over axis sets (keepDims both ways) and arg-reductions along one axis.
 * Sum and Prod: rounding grows like sqrt(K) with K the reduced length; Max, Min and the
 * arg-reductions pick an input (exact; random values have no ties).
 */
import fc from 'fast-check';
import type { CaseTable, KernelCase, KernelSpec, SizeContext } from '../harness.js';
import { dimOrBlock, f32, seed, shape } from './common.js';

function reduce(lo: number, hi: number) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> =>
    fc
      .oneof({ arbitrary: shape(ctx, 4), weight: 4 }, { arbitrary: fc.tuple(fc.constantFrom(...ctx.small), dimOrBlock(ctx)).map(([a, b]) => [a, b]), weight: 1 })
      .chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), fc.boolean(), seed))
      .map(([sh, axes, keepDims, s]) => ({ inputs: [f32(sh, s, lo, hi)], attrs: { axes, keepDims }, K: axes.reduce((p, a) => p * sh[a], 1) }));
}
const arg: KernelSpec = {
  cases: (ctx) =>
    shape(ctx, 4)
      .chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.boolean(), seed))
      .map(([sh, axis, keepDims, s]) => ({ inputs: [f32(sh, s)], attrs: { axis, keepDims } })),
  tol: 0,
};

export const reduceCases: CaseTable = {
  Sum: { cases: reduce(-1, 1), tol: 1e-6 }, // long partial sums: see harness.ts
  // factors near 1 so products neither overflow nor vanish
  Prod: { cases: reduce(0.9, 1.1), tol: 2e-7 },
  Max: { cases: reduce(-1, 1), tol: 0 },
  Min: { cases: reduce(-1, 1), tol: 0 },
  ArgMax: arg,
  ArgMin: arg,
};
