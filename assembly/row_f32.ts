// Row reductions over contiguous float32 rows (SIMD), shared by the softmax and the
// softmax cross-entropy kernels.

import { exp_v } from './math_f32x4';
import { ld, st } from './vec_f32';

// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Masks the lanes at or beyond r (a loop tail) to `fill`. */
// @ts-ignore: decorator
@inline export function tail_fill(v: v128, r: i32, fill: f32): v128 {
  if (r >= 4) return v;
  const lane = i32x4(0, 1, 2, 3);
  return v128.bitselect(v, f32x4.splat(fill), i32x4.lt_s(lane, i32x4.splat(r)));
}

/** Max of K contiguous values (NaN wins). */
// @ts-ignore: decorator
@inline export function row_max(x: usize, K: i32): f32 {
  let m = f32x4.splat(-Infinity);
  for (let k = 0; k < K; k += 4) m = f32x4.max(m, tail_fill(ld(x, k, K - k), K - k, -Infinity));
  return hmax(m);
}

/** sum_k e^(x_k - m), optionally storing each term in y. */
// @ts-ignore: decorator
@inline export function row_exp_sum(x: usize, y: usize, K: i32, m: f32, write: bool): f32 {
  const vm = f32x4.splat(m);
  let s = f32x4.splat(0);
  for (let k = 0; k < K; k += 4) {
    const e = tail_fill(exp_v(f32x4.sub(ld(x, k, K - k), vm)), K - k, 0);
    if (write) st(y, k, K - k, e);
    s = f32x4.add(s, e);
  }
  return hsum(s);
}
