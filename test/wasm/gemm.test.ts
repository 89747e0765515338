import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { WasmBackend } from '../../src/backends/wasm/index.js';
import { mismatch, tolForK } from '../util/close.js';

const be = () => { ck.setBackendSync('wasm'); const b = ck.getBackend() as WasmBackend; ck.setBackendSync('ts'); return b; };

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** Run gemm_f32 and gemm_f32_ref on the same random operands; return both C. */
function both(b: WasmBackend, M: number, N: number, K: number, ta: boolean, tb: boolean, acc: boolean, seed: number) {
  const lda = (ta ? M : K) + (seed % 3), ldb = (tb ? K : N) + ((seed >> 2) % 3), ldc = N + ((seed >> 4) % 2);
  const aN = (ta ? K : M) * lda, bN = (tb ? N : K) * ldb, cN = M * ldc;
  const pa = b.scratch(aN * 4), pb = b.scratch(bN * 4), pc = b.scratch(cN * 4), pr = b.scratch(cN * 4);
  const c0 = rand(cN, seed + 3);
  let f = b.f32();
  f.set(rand(aN, seed + 1), pa >> 2); f.set(rand(bN, seed + 2), pb >> 2); f.set(c0, pc >> 2); f.set(c0, pr >> 2);
  b.gemm(M, N, K, pa, lda, ta, pb, ldb, tb, pc, ldc, acc);
  b.wasm.gemm_f32_ref(M, N, K, pa, lda, +ta, pb, ldb, +tb, pr, ldc, +acc);
  f = b.f32();
  const got = f.slice(pc >> 2, (pc >> 2) + cN), want = f.slice(pr >> 2, (pr >> 2) + cN);
  for (const p of [pa, pb, pc, pr]) b.freeScratch(p);
  return { got, want };
}

describe('gemm_f32 vs gemm_f32_ref', () => {
  it('smoke', () => {
    const b = be();
    for (const [M, N, K] of [[1, 1, 1], [5, 8, 3], [7, 9, 300], [241, 17, 513], [64, 64, 64]]) {
      for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
        const { got, want } = both(b, M, N, K, ta, tb, acc, M * 31 + N * 7 + K);
        const m = mismatch(got, want, tolForK(K));
        expect(m, `${M}x${N}x${K} ta=${ta} tb=${tb} acc=${acc}`).toBeNull();
      }
    }
  });
});
