/**
 * Reductions over axis sets (keepDims both ways) and arg-reductions along one axis.
 * Sum and Prod: rounding grows like sqrt(K) with K the reduced length; Max, Min and the
 * arg-reductions pick an input (exact; random values have no ties).
 */
import fc from 'fast-check';
import type { CaseTable, KernelCase, KernelSpec, SizeContext } from '../harness.js';
import { dimOrBlock, f32, floatOrInt, intInput, seed, shape } from './common.js';

/** Reductions over drawn axis sets; in int32 too (small integers, no overflow) when `ints`. */
function reduce(lo: number, hi: number, ints = false) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> => {
    const draw = (int: boolean) =>
      fc
        .oneof({ arbitrary: shape(ctx, 4), weight: 4 }, { arbitrary: fc.tuple(fc.constantFrom(...ctx.small), dimOrBlock(ctx)).map(([a, b]) => [a, b]), weight: 1 })
        .chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), fc.boolean(), seed))
        .map(([sh, axes, keepDims, s]): KernelCase => ({ inputs: [int ? intInput(sh, s, -100, 100) : f32(sh, s, lo, hi)], attrs: { axes, keepDims }, K: axes.reduce((p, a) => p * sh[a], 1) }));
    return ints ? floatOrInt(ctx, draw) : draw(false);
  };
}
const arg: KernelSpec = {
  cases: (ctx) =>
    floatOrInt(ctx, (int) =>
      shape(ctx, 4)
        .chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.boolean(), seed))
        // int32: few distinct values, so ties occur (the first index wins)
        .map(([sh, axis, keepDims, s]): KernelCase => ({ inputs: [int ? intInput(sh, s, -3, 3) : f32(sh, s)], attrs: { axis, keepDims } })),
    ),
  tol: 0,
};

export const reduceCases: CaseTable = {
  Sum: { cases: reduce(-1, 1, true), tol: 1e-6 }, // long partial sums: see harness.ts
  // factors near 1 so products neither overflow nor vanish
  Prod: { cases: reduce(0.9, 1.1), tol: 2e-7 },
  Max: { cases: reduce(-1, 1, true), tol: 0 },
  Min: { cases: reduce(-1, 1, true), tol: 0 },
  ArgMax: arg,
  ArgMin: arg,
};
