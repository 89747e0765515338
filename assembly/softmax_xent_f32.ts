// Fused softmax cross-entropy over the last axis (float32, SIMD), forward and gradient.
// The contracts are those of src/kernels/loss.ts.

import { log_v } from './math_f32x4';
import { hsum, row_exp_sum, row_max } from './row_f32';
import { ld, st } from './vec_f32';

/**
 * loss[n] = sum_k t_nk (log s_n - (z_nk - m_n)) over the labels t_nk != 0, m_n = max_k z_nk,
 * s_n = sum_k e^(z_nk - m_n), for logits z [N, K] and labels t [N, K] (log s minus the
 * shifted logit: m + log s would round to m for logits of 1e7, giving a loss of 1 for 0.862).
 */
export function softmax_xent_f32(z: usize, t: usize, loss: usize, N: i32, K: i32): void {
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    const zr = z + (<usize>n * <usize>K << 2), tr = t + (<usize>n * <usize>K << 2);
    const m = row_max(zr, K);
    const vm = f32x4.splat(m);
    const ls = log_v(f32x4.splat(row_exp_sum(zr, 0, K, m, false)));
    let acc = f32x4.splat(0);
    for (let k = 0; k < K; k += 4) {
      const tv = ld(tr, k, K - k);
      const term = f32x4.mul(tv, f32x4.sub(ls, f32x4.sub(ld(zr, k, K - k), vm)));
      // skip label-0 terms: a -inf logit there must not make 0 * inf = NaN
      acc = f32x4.add(acc, v128.and(term, f32x4.ne(tv, zero)));
    }
    store<f32>(loss + (<usize>n << 2), hsum(acc));
  }
}

/** dz[n, k] = g[n] * (softmax(z_n)_k * sum_j t_nj - t_nk). */
export function softmax_xent_grad_f32(g: usize, z: usize, t: usize, dz: usize, N: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>K << 2;
    const zr = z + off, tr = t + off, dr = dz + off;
    const m = row_max(zr, K);
    let tsv = f32x4.splat(0);
    for (let k = 0; k < K; k += 4) tsv = f32x4.add(tsv, ld(tr, k, K - k));
    const s = row_exp_sum(zr, dr, K, m, true);
    const scale = f32x4.splat(hsum(tsv) / s);
    const gv = f32x4.splat(load<f32>(g + (<usize>n << 2)));
    for (let k = 0; k < K; k += 4) {
      const e = ld(dr, k, K - k);
      st(dr, k, K - k, f32x4.mul(gv, f32x4.sub(f32x4.mul(e, scale), ld(tr, k, K - k))));
    }
  }
}
