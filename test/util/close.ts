/**
 * Comparing numbers the way the test suite and `convkit verify` do:
 * |a - e| <= atol + rtol * |e| elementwise; NaN matches only NaN, an infinity only the
 * same infinity.
 */
import { expect } from 'vitest';
import type { Tensor } from '../../src/index.js';

export interface Tol {
  atol?: number;
  rtol?: number;
}

export function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = {}): string | null {
  const atol = tol.atol ?? 1e-5, rtol = tol.rtol ?? 1e-4;
  if (actual.length !== expected.length) return `length ${actual.length} != expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return `index ${i}: got ${a}, expected ${e}`;
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return `index ${i}: got ${a}, expected ${e}`;
      continue;
    }
    if (Math.abs(a - e) > atol + rtol * Math.abs(e)) return `index ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${atol} + ${rtol}*|e|)`;
  }
  return null;
}

/** Assert `actual` (tensor or array) matches `expected` within tolerance, and shapes agree. */
export function expectClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>, tol: Tol = {}): void {
  const isT = (x: unknown): x is Tensor => typeof x === 'object' && x !== null && 'dataSync' in x;
  if (isT(actual) && isT(expected)) expect(actual.shape).toEqual(expected.shape);
  const a = isT(actual) ? actual.dataSync() : actual;
  const e = isT(expected) ? expected.dataSync() : expected;
  const m = mismatch(a, e, tol);
  if (m) expect.fail(m);
}

/** float32 kernel-vs-oracle tolerance for a reduction of length K (XNNPACK style):
 * rounding error of a K-term dot product grows like sqrt(K) for random data. */
export function tolForK(K: number): Tol {
  return { atol: 1e-5 * Math.sqrt(Math.max(1, K)), rtol: 1e-4 * Math.sqrt(Math.max(1, K)) };
}
