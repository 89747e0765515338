/** IoU of every pair of boxes a [N, 4] x b [M, 4] (corners y1, x1, y2, x2): a ratio of areas, a few ulp. */
import fc from 'fast-check';
import type { CaseInput, CaseTable } from '../harness.js';
import { dim, seed, smallDim } from './common.js';
import { rand } from '../../util/rand.mjs';

/** n boxes with y1 < y2 and x1 < x2 inside [0, 4): most pairs overlap, some do not. */
function boxes(n: number, s: number): CaseInput {
  const r = rand(4 * n, s, 0, 4);
  const v = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const [a, b, c, d] = r.subarray(4 * i, 4 * i + 4);
    v.set([Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)], 4 * i);
  }
  return { values: v, shape: [n, 4] };
}

export const boxesCases: CaseTable = {
  IoU: { cases: (ctx) => fc.tuple(smallDim(ctx), dim(ctx), seed).map(([N, M, s]) => ({ inputs: [boxes(N, s), boxes(M, s + 1)] })), tol: 1e-6 },
};
