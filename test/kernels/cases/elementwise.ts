/**
 * Elementwise kernels: broadcasting binary maps and comparisons, unary maps, Where,
 * Cast, Fill. Arithmetic, comparisons, sqrt and the exact unary maps are correctly
 * rounded in float32, so they match the rounded float64 reference exactly (tol 0);
 * transcendental maps get a few ulp (4 * 2^-23 ~ 5e-7).
 */
import fc from 'fast-check';
import type { CaseTable, CaseInput, KernelCase, KernelSpec, SizeContext } from '../harness.js';
import { awayFrom, broadcastPartner, f32, f32Number, floatOrInt, i32, intInput, quantised, sameShape, seed, shape } from './common.js';

const ULP4 = 5e-7;

type Make = (sh: number[], s: number) => CaseInput;

/**
 * a (op) b over a drawn shape and a broadcast partner, either order; in int32 too
 * (values from `intMake`) where the backend stores int32.
 */
function binary(make: Make, makeB: Make = make, intMake?: Make, intMakeB: Make | undefined = intMake) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> => {
    const draw = (int: boolean) =>
      shape(ctx, 4)
        .chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), fc.boolean(), seed))
        .map(([sa, sb, swap, s]): KernelCase => {
          const a = (int ? intMake! : make)(sa, s), b = (int ? intMakeB! : makeB)(sb, s + 1);
          return { inputs: swap ? [b, a] : [a, b] };
        });
    return intMake ? floatOrInt(ctx, draw) : draw(false);
  };
}
const ints: Make = (sh, s) => intInput(sh, s, -20, 20);
const exactBinary = (tol = 0, webgpuTol?: number, makeB?: Make, intMakeB: Make = ints): KernelSpec => ({ cases: binary((sh, s) => f32(sh, s, -4, 4), makeB, ints, intMakeB), tol, webgpuTol });
/** Comparisons on values quantised to quarters (int32: small integers), so equal pairs occur. */
const comparison: KernelSpec = { cases: binary((sh, s) => quantised(sh, s, 0.25), undefined, (sh, s) => intInput(sh, s, -3, 3)), tol: 0 };
/** Nonzero divisors: |b| in [0.5, 4]. */
const divisor = (sh: number[], s: number): CaseInput => {
  const b = f32(sh, s, -4, 4);
  return { ...b, values: Float32Array.from(b.values, (v) => (Math.abs(v) < 0.5 ? (v < 0 ? -0.5 : 0.5) : v)) };
};

const unary = (lo: number, hi: number, tol: number, webgpuTol?: number): KernelSpec => ({ cases: (ctx) => sameShape(ctx, (sh, s) => [f32(sh, s, lo, hi)]), tol, webgpuTol });
/** An exact unary map, in int32 too where the backend stores it. */
const exactUnary = (lo: number, hi: number): KernelSpec => ({
  cases: (ctx) => floatOrInt(ctx, (int) => sameShape(ctx, (sh, s) => [int ? intInput(sh, s, -50, 50) : f32(sh, s, lo, hi)])),
  tol: 0,
});

export const elementwiseCases: CaseTable = {
  Add: exactBinary(),
  Sub: exactBinary(),
  Mul: exactBinary(),
  // int32 division truncates (nonzero divisors)
  Div: exactBinary(0, 3e-7, divisor, (sh, s) => intInput(sh, s, -20, 20, true)),
  // Positive bases with real exponents, and negative bases with integer exponents.
  Pow: {
    cases: (ctx) =>
      shape(ctx, 3)
        .chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), seed, fc.boolean()))
        .map(([sa, sb, s, negative]) => {
          const base = f32(sa, s, negative ? -3 : 0.25, negative ? -0.25 : 3);
          const expo = negative ? quantised(sb, s + 1, 1, -4, 4) : f32(sb, s + 1, -3, 3);
          return { inputs: [base, expo] };
        }),
    tol: 2 ** -23,
    webgpuTol: 2e-5,
  },
  Maximum: exactBinary(),
  Minimum: exactBinary(),
  Greater: comparison,
  GreaterEqual: comparison,
  Less: comparison,
  LessEqual: comparison,
  Equal: comparison,
  Neg: exactUnary(-4, 4),
  Abs: exactUnary(-4, 4),
  Square: exactUnary(-4, 4),
  Sqrt: unary(0, 9, 0),
  Reciprocal: { cases: (ctx) => sameShape(ctx, (sh, s) => [divisor(sh, s)]), tol: 0, webgpuTol: 3e-7 },
  // sign(0) = 0: values away from 0
  Sign: { cases: (ctx) => sameShape(ctx, (sh, s) => [awayFrom(sh, s, [0])]), tol: 0 },
  // floor/round edges at integers and halves: away from them
  Floor: { cases: (ctx) => sameShape(ctx, (sh, s) => [awayFrom(sh, s, [-3, -2, -1, 0, 1, 2, 3])]), tol: 0 },
  Round: { cases: (ctx) => sameShape(ctx, (sh, s) => [awayFrom(sh, s, [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])]), tol: 0 },
  IsNaN: {
    cases: (ctx) => sameShape(ctx, (sh, s) => {
      const x = f32(sh, s);
      return [{ ...x, values: Float32Array.from(x.values, (v, i) => (i % 3 === 0 ? NaN : v)) }];
    }),
    tol: 0,
  },
  Exp: unary(-10, 10, ULP4, 2e-6),
  Log: unary(0.01, 10, ULP4, 2e-6),
  Expm1: unary(-10, 10, ULP4, 2e-6),
  Erf: unary(-5, 5, ULP4, 2e-6),
  Log1p: unary(-0.99, 10, ULP4, 2e-6),
  Sin: unary(-10, 10, 2 ** -23, 1e-4),
  Cos: unary(-10, 10, 2 ** -23, 1e-4),
  Clip: {
    cases: (ctx) =>
      sameShape(ctx, (sh, s) => [f32(sh, s, -4, 4)], fc.tuple(f32Number(-3, 3), f32Number(-3, 3)).map(([p, q]) => ({ min: Math.min(p, q), max: Math.max(p, q) }))),
    tol: 0,
  },
  // x * scale + offset: two roundings on a backend that does not fuse (1 ulp of the larger term)
  Affine: { cases: (ctx) => sameShape(ctx, (sh, s) => [f32(sh, s, -4, 4)], fc.record({ scale: f32Number(-3, 3), offset: f32Number(-3, 3) })), tol: 1e-6 },
  Where: {
    cases: (ctx) =>
      shape(ctx, 3)
        .chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), broadcastPartner(s), seed))
        .map(([sh, sc, sb, s]) => {
          const c = f32(sc, s);
          return { inputs: [{ ...c, values: Float32Array.from(c.values, (v) => (v > 0 ? 1 : 0)) }, f32(sh, s + 1), f32(sb, s + 2)] };
        }),
    tol: 0,
  },
  Cast: {
    cases: (ctx) =>
      fc.tuple(shape(ctx, 3), seed, fc.constantFrom('f2f', 'f2i', 'i2f')).map(([sh, s, kind]): KernelCase => {
        if (kind === 'i2f') return { inputs: [i32(sh, s, -100, 100)], attrs: { dtype: 'float32' } };
        // truncation toward zero: away from the integers
        return { inputs: [awayFrom(sh, s, [-3, -2, -1, 0, 1, 2, 3], 1e-3)], attrs: { dtype: kind === 'f2f' ? 'float32' : 'int32' } };
      }),
    tol: 0,
  },
  Fill: {
    cases: (ctx) =>
      fc.tuple(shape(ctx, 4), f32Number(-5, 5), fc.constantFrom('float32', 'int32')).map(([sh, v, dtype]) => ({
        inputs: [],
        attrs: { shape: sh, dtype, value: dtype === 'int32' ? Math.trunc(v) : v },
      })),
    tol: 0,
  },
};
