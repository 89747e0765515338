/**
 * The packed GEMM (gemm_f32) against the reference triple loop (gemm_f32_ref) in the
 * same WASM module, on the same operands: every transpose combination, accumulate
 * or overwrite, padded leading dimensions, and sizes placed around the register tile
 * (MR x 8), the cache blocks (MC rows, KC depth, read from the module; NC = 4096 columns) and
 * primes. Tolerance scales with the reduction length K (tolForK): the two kernels
 * sum in different orders, and float32 rounding of a K-term sum grows like sqrt(K).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { WasmBackend } from '../../src/backends/wasm/index.js';
import { mismatch, tolForK } from '../util/close.js';
import { rand } from '../util/rand.mjs';

const backend = (): WasmBackend => ck.withBackend('wasm', () => ck.backend() as unknown as WasmBackend);

interface Case { M: number; N: number; K: number; ta: boolean; tb: boolean; acc: boolean; pad: number; seed: number }

/** gemm_f32 and gemm_f32_ref on the same operands; returns null when they agree. */
function check(b: WasmBackend, c: Case): string | null {
  const { M, N, K, ta, tb, acc, pad, seed } = c;
  const lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const aN = Math.max(1, (ta ? K : M) * lda), bN = Math.max(1, (tb ? N : K) * ldb), cN = Math.max(1, M * ldc);
  const pa = b.scratch(aN * 4), pb = b.scratch(bN * 4), pc = b.scratch(cN * 4), pr = b.scratch(cN * 4);
  try {
    const c0 = rand(cN, seed + 3);
    let f = b.f32();
    f.set(rand(aN, seed + 1), pa >> 2);
    f.set(rand(bN, seed + 2), pb >> 2);
    f.set(c0, pc >> 2);
    f.set(c0, pr >> 2);
    b.gemm(M, N, K, pa, lda, ta, pb, ldb, tb, pc, ldc, acc);
    b.wasm.gemm_f32_ref(M, N, K, pa, lda, +ta, pb, ldb, +tb, pr, ldc, +acc);
    f = b.f32();
    const got = f.slice(pc >> 2, (pc >> 2) + cN), want = f.slice(pr >> 2, (pr >> 2) + cN);
    // padding columns of C must be untouched
    for (let i = 0; i < M; i++) for (let j = N; j < ldc; j++) if (got[i * ldc + j] !== c0[i * ldc + j]) return `wrote padding C[${i},${j}]`;
    const m = mismatch(got, want, tolForK(K));
    return m && `${JSON.stringify(c)}: ${m}`;
  } finally {
    for (const p of [pa, pb, pc, pr]) b.freeScratch(p);
  }
}

describe('gemm_f32 vs gemm_f32_ref', () => {
  const b = backend();
  const { gemmMR: MR, gemmNR: NR, gemmMC: MC, gemmKC: KC } = b.tileSizes();

  it('the tile is the one the build promises (5x8 plain, 6x8 relaxed)', () => {
    expect([NR, MR]).toEqual([8, b.variant === 'relaxed' ? 6 : 5]);
    expect([b.wasm.gemm_f32_mr(), b.wasm.gemm_f32_nr(), b.wasm.gemm_f32_mc(), b.wasm.gemm_f32_kc(), b.wasm.gemm_f32_nc()]).toEqual([MR, NR, MC, KC, 4096]);
  });

  it('sizes around the register tile, all transposes, overwrite and accumulate (exhaustive small grid)', () => {
    const sizes = [1, 3, 4, MR - 1, MR, MR + 1, 7, 8, 9, 2 * MR + 1, 15, 16, 17];
    let i = 0;
    for (const M of sizes) for (const N of sizes) {
      const K = sizes[i++ % sizes.length];
      for (const ta of [false, true]) for (const tb of [false, true]) {
        expect(check(b, { M, N, K, ta, tb, acc: (i & 1) === 1, pad: i % 3, seed: i })).toBeNull();
      }
    }
  });

  it('the cache blocks are whole register strips (MC a multiple of MR) and fit the row tables', () => {
    expect(MC % MR).toBe(0);
    expect(MC).toBeLessThanOrEqual(256);
    expect(KC).toBeGreaterThanOrEqual(64);
  });

  it('sizes around the cache blocks MC, KC and primes (property)', () => {
    const around = (v: number) => [v - 1, v, v + 1];
    const dim = fc.oneof(
      fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 31, 37, 61, 64),
      fc.constantFrom(...around(MC), ...around(2 * MC), ...around(KC), ...around(2 * KC), ...around(3 * KC)),
      fc.integer({ min: 1, max: 300 }),
    );
    fc.assert(
      fc.property(dim, dim, dim, fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.nat(1000),
        (M, N, K, ta, tb, acc, pad, seed) => {
          // keep each case cheap: the reference is a scalar triple loop
          fc.pre(M * N * K <= 4e6);
          const m = check(b, { M, N, K, ta, tb, acc, pad, seed });
          if (m) throw new Error(m);
        }),
      { numRuns: 120, seed: 42 },
    );
  });

  it('more than NC = 4096 columns, and K = 0 (C = 0 or unchanged)', () => {
    expect(check(b, { M: 7, N: 4099, K: 3, ta: false, tb: true, acc: false, pad: 1, seed: 5 })).toBeNull();
    expect(check(b, { M: 6, N: 9, K: 0, ta: false, tb: false, acc: false, pad: 1, seed: 6 })).toBeNull();
    expect(check(b, { M: 6, N: 9, K: 0, ta: true, tb: false, acc: true, pad: 0, seed: 7 })).toBeNull();
  });
});

describe('MatMul kernel on wasm vs ts', () => {
  it('rank 2 and batched rank 3 with broadcasting, every transpose', () => {
    for (const [as, bs, ta, tb] of [
      [[17, 9], [9, 23], false, false], [[9, 17], [9, 23], true, false], [[17, 9], [23, 9], false, true], [[9, 17], [23, 9], true, true],
      [[3, 6, 5], [5, 7], false, false], [[1, 5, 6], [4, 5, 7], true, false], [[4, 6, 5], [4, 7, 5], false, true],
    ] as [number[], number[], boolean, boolean][]) {
      const a = rand(as.reduce((x, y) => x * y), 1), bb = rand(bs.reduce((x, y) => x * y), 2);
      const f = () => ck.matmul(ck.tensor(a, as), ck.tensor(bb, bs), { transposeA: ta, transposeB: tb });
      const want = ck.withBackend('ts', f), got = ck.withBackend('wasm', f);
      expect(got.backend.name).toBe('wasm');
      expect(got.shape).toEqual(want.shape);
      const m = mismatch(got.dataSync(), want.dataSync(), tolForK(ta ? as[as.length - 2] : as[as.length - 1]));
      if (m) expect.fail(m);
    }
  });
});
