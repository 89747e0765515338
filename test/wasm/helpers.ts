/**
 * Running one kernel on `wasm` and on the `ts` oracle with the same float32 inputs, and
 * the fast-check arbitraries the wasm kernel tests share (sizes around the 4-lane SIMD
 * width: 1, 3, 4, 5, 7, 8, 9, 15, 16, 17).
 */
import { expect } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { mismatch, type Tol } from '../util/close.js';

export const SIMD_SIZES = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17];
export const simdSize = fc.constantFrom(...SIMD_SIZES);
/** Small sizes for the dims of rank-3/4 shapes (keeps the oracle fast). */
export const smallSize = fc.constantFrom(1, 2, 3, 4, 5);

/** Deterministic values in [lo, hi) (xorshift), as float32. */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return a;
}

export interface In {
  values: Float32Array;
  shape: number[];
}
export const inp = (shape: number[], seed: number, lo = -1, hi = 1): In => ({ values: rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape });

/**
 * Run kernel `name` on `backend` with fresh tensors made from `inputs`; returns every
 * output's shape and values, and disposes what it made.
 */
export function runOn(backend: string, name: string, inputs: In[], attrs: Record<string, unknown> = {}): { shape: number[]; values: Float32Array | Int32Array | Float64Array }[] {
  return ck.withBackend(backend, () =>
    ck.tidy(() => {
      const ts = inputs.map((i) => ck.tensor(i.values, i.shape));
      for (const t of ts) expect(t.backend.name).toBe(backend);
      const outs = ck.runKernel(name, ts, attrs);
      return outs.map((o: Tensor) => ({ shape: [...o.shape], values: o.dataSync().slice() }));
    }),
  );
}

/**
 * Kernel `name` on wasm vs ts: same shapes, values within `tol` (per output), and the
 * wasm run recorded no fallback (the kernel really ran in WASM).
 */
export function checkKernel(name: string, inputs: In[], attrs: Record<string, unknown> = {}, tol: Tol | Tol[] = { atol: 0, rtol: 0 }): void {
  const want = runOn('ts', name, inputs, attrs);
  ck.clearFallbacks();
  const got = runOn('wasm', name, inputs, attrs);
  expect(ck.getFallbacks(), `${name} fell back to ts`).toEqual([]);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape, `${name} output ${i} shape`).toEqual(want[i].shape);
    const t = Array.isArray(tol) ? tol[i] : tol;
    const m = mismatch(g.values, want[i].values, t);
    if (m) expect.fail(`${name} output ${i} (inputs ${inputs.map((x) => JSON.stringify(x.shape)).join(', ')}, attrs ${JSON.stringify(attrs)}): ${m}`);
  });
}

/** A broadcast partner of `shape`: some dims set to 1, some leading dims dropped. */
export function broadcastPartner(shape: number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.integer({ min: 0, max: shape.length }))
    .map(([ones, drop]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
}

/** Random shapes of rank 1..maxRank: the last dim from SIMD_SIZES, others small. */
export function shapeArb(maxRank = 4): fc.Arbitrary<number[]> {
  return fc.integer({ min: 1, max: maxRank }).chain((r) => fc.tuple(fc.array(smallSize, { minLength: r - 1, maxLength: r - 1 }), simdSize).map(([lead, last]) => [...lead, last]));
}
