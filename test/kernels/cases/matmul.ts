/**
 * MatMul: sizes around the backend's GEMM tiles (M, N, K drawn from its sizes; M and K
 * now and then around its cache blocks), both
 * transposes, batch broadcasting. K-term dot products: tol scales with sqrt(K).
 */
import fc from 'fast-check';
import type { CaseTable } from '../harness.js';
import { dim, dimOrBlock, f32, seed } from './common.js';

export const matmulCases: CaseTable = {
  MatMul: {
    cases: (ctx) =>
      fc.tuple(dimOrBlock(ctx), dim(ctx), dimOrBlock(ctx), fc.boolean(), fc.boolean(), fc.constantFrom('none', 'both', 'a1', 'b1', 'aonly'), seed).map(([M, N, K, ta, tb, batching, s]) => {
        const B = 2;
        const aBatch = batching === 'none' ? [] : batching === 'a1' ? [1] : [B];
        const bBatch = batching === 'none' || batching === 'aonly' ? [] : batching === 'b1' ? [1] : [B];
        return {
          inputs: [f32([...aBatch, ...(ta ? [K, M] : [M, K])], s), f32([...bBatch, ...(tb ? [N, K] : [K, N])], s + 1)],
          attrs: { transposeA: ta, transposeB: tb },
          K,
        };
      }),
    tol: 1e-6, // covers eps * K / 3 up to K ~ 600 (see harness.ts)
  },
};
