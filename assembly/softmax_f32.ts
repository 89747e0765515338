// Softmax and log-softmax along an axis (float32, SIMD), with their gradients. The
// contracts are those of src/kernels/activation.ts.

import { exp_v, log_v } from './math_f32x4';
import { hsum, row_exp_sum, row_max } from './row_f32';
import { ld, st } from './vec_f32';

/**
 * Softmax (isLog = 0) or log-softmax (isLog = 1) of x viewed as [outer, K, inner] along K.
 * inner = 1 (the last axis) runs along rows in SIMD; otherwise the SIMD lanes are
 * 4 neighbouring inner positions. Log-softmax is (x - m) - log(s), not x - (m + log(s)):
 * m + log(s) rounds to a multiple of m's ulp (1 at 1e7, 2^-10 at 1e4), losing digits
 * of log(s) or all of it (ONNX's [10000..10003] gave -1.4404297 for -1.4401897).
 */
export function softmax_f32(isLog: i32, x: usize, y: usize, outer: i32, K: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + (<usize>o * <usize>K << 2), yr = y + (<usize>o * <usize>K << 2);
      const m = row_max(xr, K);
      if (isLog) {
        const vm = f32x4.splat(m);
        const ls = log_v(f32x4.splat(row_exp_sum(xr, yr, K, m, false)));
        for (let k = 0; k < K; k += 4) st(yr, k, K - k, f32x4.sub(f32x4.sub(ld(xr, k, K - k), vm), ls));
      } else {
        const s = f32x4.splat(row_exp_sum(xr, yr, K, m, true));
        for (let k = 0; k < K; k += 4) st(yr, k, K - k, f32x4.div(ld(yr, k, K - k), s));
      }
    }
    return;
  }
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>K * <usize>inner;
    for (let i = 0; i < inner; i += 4) {
      const r = inner - i;
      const xb = x + (base << 2), yb = y + (base << 2);
      let m = f32x4.splat(-Infinity);
      for (let k = 0; k < K; k++) m = f32x4.max(m, ld(xb + <usize>k * stride, i, r));
      let s = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const e = exp_v(f32x4.sub(ld(xb + <usize>k * stride, i, r), m));
        if (!isLog) st(yb + <usize>k * stride, i, r, e);
        s = f32x4.add(s, e);
      }
      if (isLog) {
        const ls = log_v(s);
        for (let k = 0; k < K; k++) st(yb + <usize>k * stride, i, r, f32x4.sub(f32x4.sub(ld(xb + <usize>k * stride, i, r), m), ls));
      } else {
        for (let k = 0; k < K; k++) st(yb + <usize>k * stride, i, r, f32x4.div(ld(yb + <usize>k * stride, i, r), s));
      }
    }
  }
}

/**
 * Gradients along K of [outer, K, inner]: softmax (isLog = 0) dx = y (dy - sum(dy y)),
 * log-softmax (isLog = 1) dx = dy - e^y sum(dy), y the forward output.
 */
export function softmax_grad_f32(isLog: i32, dy: usize, y: usize, dx: usize, outer: i32, K: i32, inner: i32): void {
  const stride = <usize>inner << 2;
  const lanes = inner == 1 ? 1 : 4;
  for (let o = 0; o < outer; o++) {
    const base = (<usize>o * <usize>K * <usize>inner) << 2;
    const dyb = dy + base, yb = y + base, dxb = dx + base;
    if (inner == 1) {
      let sv = f32x4.splat(0);
      for (let k = 0; k < K; k += 4) {
        const d = ld(dyb, k, K - k);
        sv = f32x4.add(sv, isLog ? d : f32x4.mul(d, ld(yb, k, K - k)));
      }
      const s = f32x4.splat(hsum(sv));
      for (let k = 0; k < K; k += 4) {
        const d = ld(dyb, k, K - k), yv = ld(yb, k, K - k);
        st(dxb, k, K - k, isLog ? f32x4.sub(d, f32x4.mul(exp_v(yv), s)) : f32x4.mul(yv, f32x4.sub(d, s)));
      }
      continue;
    }
    for (let i = 0; i < inner; i += lanes) {
      const r = inner - i;
      let s = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const d = ld(dyb + <usize>k * stride, i, r);
        s = f32x4.add(s, isLog ? d : f32x4.mul(d, ld(yb + <usize>k * stride, i, r)));
      }
      for (let k = 0; k < K; k++) {
        const o2 = <usize>k * stride;
        const d = ld(dyb + o2, i, r), yv = ld(yb + o2, i, r);
        st(dxb + o2, i, r, isLog ? f32x4.sub(d, f32x4.mul(exp_v(yv), s)) : f32x4.mul(yv, f32x4.sub(d, s)));
      }
    }
  }
}
