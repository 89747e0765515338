/**
 * Data movement: every kernel copies input values (exact), except GatherGrad, which
 * sums dy over repeated indices (K = the most repeats of one index).
 */
import fc from 'fast-check';
import type { CaseTable, KernelCase, SizeContext } from '../harness.js';
import { broadcastPartner, f32, floatOrInt, i32, intInput, seed, shape, smallDim, dim } from './common.js';
import type { CaseInput } from '../harness.js';

/** The data input: float32, or int32 where the backend stores it (data movement is dtype-blind). */
const data = (int: boolean) => (sh: number[], s: number): CaseInput => (int ? intInput(sh, s, -1000, 1000) : f32(sh, s));

const perms = (r: number): number[][] => (r <= 1 ? [[0].slice(0, r)] : perms(r - 1).flatMap((p) => Array.from({ length: r }, (_, i) => [...p.slice(0, i), r - 1, ...p.slice(i)])));

/** Gather/GatherGrad geometry: x shape, axis, index shape and values. */
function gatherGeometry(ctx: SizeContext) {
  return shape(ctx, 3).chain((xs) =>
    fc.tuple(fc.constant(xs), fc.integer({ min: 0, max: xs.length - 1 }), fc.array(smallDim(ctx), { minLength: 1, maxLength: 2 }), seed),
  );
}

export const shapeCases: CaseTable = {
  Transpose: {
    cases: (ctx) => floatOrInt(ctx, (int) => shape(ctx, 5).chain((s) => fc.tuple(fc.constant(s), fc.constantFrom(...perms(s.length)), seed)).map(([sh, perm, s]) => ({ inputs: [data(int)(sh, s)], attrs: { perm } }))),
    tol: 0,
  },
  Slice: {
    cases: (ctx) => floatOrInt(ctx, (int) =>
      shape(ctx, 4)
        .chain((s) => fc.tuple(fc.constant(s), fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }))), fc.array(fc.nat(1), { minLength: s.length, maxLength: s.length }), seed))
        .map(([sh, begin, cut, s]) => ({ inputs: [data(int)(sh, s)], attrs: { begin, size: sh.map((d, i) => Math.max(0, d - begin[i] - cut[i])) } }))),
    tol: 0,
  },
  Concat: {
    cases: (ctx) => floatOrInt(ctx, (int) =>
      shape(ctx, 3)
        .chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.array(dim(ctx), { minLength: 1, maxLength: 3 }), seed))
        .map(([sh, axis, extents, s]): KernelCase => ({
          inputs: [sh, ...extents.map((e) => sh.map((d, i) => (i === axis ? e : d)))].map((x, i) => data(int)(x, s + i)),
          attrs: { axis },
        }))),
    tol: 0,
  },
  Pad: {
    cases: (ctx) => floatOrInt(ctx, (int) =>
      shape(ctx, 4)
        .chain((s) => fc.tuple(fc.constant(s), fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: s.length, maxLength: s.length }), fc.constantFrom(0, int ? 7 : 0.5, -2), seed))
        .map(([sh, paddings, value, s]) => ({ inputs: [data(int)(sh, s)], attrs: { paddings, value } }))),
    tol: 0,
  },
  BroadcastTo: {
    cases: (ctx) => floatOrInt(ctx, (int) =>
      shape(ctx, 4)
        .chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), fc.nat(2), seed))
        .map(([target, src, lead, s]) => ({ inputs: [data(int)(src, s)], attrs: { shape: [...(lead ? [lead + 1] : []), ...target] } }))),
    tol: 0,
  },
  Reverse: {
    cases: (ctx) => floatOrInt(ctx, (int) => shape(ctx, 4).chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), seed)).map(([sh, axes, s]) => ({ inputs: [data(int)(sh, s)], attrs: { axes } }))),
    tol: 0,
  },
  Gather: {
    cases: (ctx) => floatOrInt(ctx, (int) => gatherGeometry(ctx).map(([xs, axis, is, s]) => ({ inputs: [data(int)(xs, s), i32(is, s + 1, 0, xs[axis])], attrs: { axis } }))),
    tol: 0,
  },
  GatherGrad: {
    cases: (ctx) =>
      gatherGeometry(ctx).map(([xs, axis, is, s]): KernelCase => {
        const idx = i32(is, s + 1, 0, xs[axis]);
        const dyShape = [...xs.slice(0, axis), ...is, ...xs.slice(axis + 1)];
        const counts = new Map<number, number>();
        for (const v of Array.from(idx.values)) counts.set(v, (counts.get(v) ?? 0) + 1);
        return { inputs: [f32(dyShape, s), idx], attrs: { axis, shape: xs }, K: Math.max(1, ...counts.values()) };
      }),
    tol: 2e-7,
  },
  OneHot: {
    cases: (ctx) =>
      // Labels are int32 where the backend stores int32 (webgpu refuses float32 labels),
      // float32 integers elsewhere (wasm stores float32 only).
      fc.tuple(shape(ctx, 2), dim(ctx), seed).map(([sh, depth, s]): KernelCase => {
        const labels = i32(sh, s, 0, depth);
        return { inputs: [ctx.int32 ? labels : { values: Float32Array.from(labels.values), shape: sh }], attrs: { depth, dtype: 'float32' } };
      }),
    tol: 0,
  },
};
