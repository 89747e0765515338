/**
 * Shared pieces of the case tables: drawn shapes (dims around the backend's tiles),
 * inputs from the one test `rand` (fast-check draws the seed), values kept away from a
 * kernel's kinks, broadcast partners.
 */
import fc from 'fast-check';
import { rand, sizeOfShape } from '../../util/rand.mjs';
import type { CaseInput, KernelCase, SizeContext } from '../harness.js';

export const seed = fc.nat(1_000_000);

/** A float input whose values can be edited in place (pinned tests set specials). */
export type F32Input = CaseInput & { values: Float32Array };

/** Float input of `shape`: values uniform in [lo, hi), drawn from `s`. */
export function f32(shape: number[], s: number, lo = -1, hi = 1): F32Input {
  return { values: rand(sizeOfShape(shape), s, lo, hi), shape };
}

/** Int32 input of `shape`: integers in [lo, hi). */
export function i32(shape: number[], s: number, lo: number, hi: number): CaseInput {
  const r = rand(sizeOfShape(shape), s, 0, 1);
  return { values: Int32Array.from(r, (v) => Math.min(hi - 1, lo + Math.floor(v * (hi - lo)))), shape, dtype: 'int32' };
}

/**
 * Float input whose values stay at least `margin` away from every point of `kinks`
 * (relu at 0, a step's edge): a value inside a margin is pushed out to its edge, so a
 * float32 rounding cannot flip a branch between backend and reference.
 */
export function awayFrom(shape: number[], s: number, kinks: number[], margin = 1e-3, lo = -3, hi = 3): F32Input {
  const x = rand(sizeOfShape(shape), s, lo, hi);
  for (let i = 0; i < x.length; i++) {
    for (const k of kinks) {
      const d = x[i] - k;
      if (Math.abs(d) < margin) x[i] = k + (d < 0 ? -margin : margin);
    }
  }
  return { values: x, shape };
}

/** Values rounded to multiples of `q` (ties for comparisons, integers for labels). */
export function quantised(shape: number[], s: number, q: number, lo = -2, hi = 2): F32Input {
  return { values: Float32Array.from(rand(sizeOfShape(shape), s, lo, hi), (v) => Math.round(v / q) * q), shape };
}

/** A dim drawn from the backend's sizes. */
export const dim = (ctx: SizeContext) => fc.constantFrom(...ctx.sizes);
/** A dim from the backend's sizes, now and then one around its large blocks (a GEMM's K or M block). */
export const dimOrBlock = (ctx: SizeContext) => (ctx.blocks.length ? fc.oneof({ arbitrary: dim(ctx), weight: 4 }, { arbitrary: fc.constantFrom(...ctx.blocks), weight: 1 }) : dim(ctx));
/** A small dim (leading axes). */
export const smallDim = (ctx: SizeContext) => fc.constantFrom(...ctx.small);

/** Shapes of rank minRank..maxRank: the last dim from the backend's sizes, the others small. */
export function shape(ctx: SizeContext, maxRank = 4, minRank = 1): fc.Arbitrary<number[]> {
  return fc
    .integer({ min: minRank, max: maxRank })
    .chain((r) => fc.tuple(fc.array(smallDim(ctx), { minLength: r - 1, maxLength: r - 1 }), r === 0 ? fc.constant(null) : dim(ctx)))
    .map(([lead, last]) => (last === null ? [] : [...lead, last]));
}

/** A broadcast partner of `s`: some dims set to 1, some leading dims dropped. */
export function broadcastPartner(s: number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length }))
    .map(([ones, drop]) => s.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
}

/** Cases of a kernel whose inputs all have one drawn shape. */
export function sameShape(ctx: SizeContext, make: (shape: number[], s: number) => CaseInput[], attrs: fc.Arbitrary<Record<string, unknown>> = fc.constant({}), maxRank = 4): fc.Arbitrary<KernelCase> {
  return fc.tuple(shape(ctx, maxRank), seed, attrs).map(([sh, s, a]) => ({ inputs: make(sh, s), attrs: a }));
}

/**
 * A float32-representable number in [lo, hi], on a grid of 1/4096 (no subnormals: WGSL
 * lets a GPU flush them to zero, which is not what these tables test).
 */
export const f32Number = (lo: number, hi: number) => fc.integer({ min: Math.ceil(lo * 4096), max: Math.floor(hi * 4096) }).map((v) => Math.fround(v / 4096));

/** An int32 input with the given values (pinned tests). */
export const ints = (values: number[], shape = [values.length]): CaseInput => ({ values, shape, dtype: 'int32' });

/**
 * Cases in float32 and, where the backend stores int32 (ts, webgpu), also in int32:
 * `make(int)` gives the arbitrary of each dtype (the suite never draws int32 for wasm).
 */
export function floatOrInt(ctx: SizeContext, make: (int: boolean) => fc.Arbitrary<KernelCase>): fc.Arbitrary<KernelCase> {
  return ctx.int32 ? fc.oneof({ arbitrary: make(false), weight: 3 }, { arbitrary: make(true), weight: 1 }) : make(false);
}

/** An int32 input with values in [lo, hi), zeros replaced by 1 when `nonZero`. */
export function intInput(shape: number[], s: number, lo: number, hi: number, nonZero = false): CaseInput {
  const x = i32(shape, s, lo, hi);
  return nonZero ? { ...x, values: Int32Array.from(x.values, (v) => v || 1) } : x;
}
