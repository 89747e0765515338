// Local response normalisation across channels (float32, SIMD), forward and gradient.
// The contracts are those of src/kernels/norm.ts.

import { exp_v, log_v } from './math_f32x4';
import { ld, st } from './vec_f32';

// Across channels (the last axis): channel c's window is [c - before, c + after] with
// before = floor(size/2), after = floor((size-1)/2), clipped to the channels that exist;
// D_c = k + alpha/size * sum_window x_j^2 and y_c = x_c * D_c^-beta. Each pixel's C values
// are copied, squared, into a zero-padded scratch row, so the clipped window sums are
// plain unaligned vector loads: channels are the SIMD axis.

/** D for one row into d[0..C), from the padded squares row sq (C + size + 4 floats). */
// @ts-ignore: decorator
@inline function lrn_row_d(xr: usize, C: i32, size: i32, before: i32, sq: usize, d: usize, k: f32, alphaOverSize: f32): void {
  memory.fill(sq, 0, <usize>(C + size + 4) << 2);
  for (let c = 0; c < C; c++) {
    const v = load<f32>(xr + (<usize>c << 2));
    store<f32>(sq + (<usize>(c + before) << 2), v * v);
  }
  for (let c = 0; c < C; c += 4) {
    let s = f32x4.splat(0);
    for (let o = 0; o < size; o++) s = f32x4.add(s, v128.load(sq + (<usize>(c + o) << 2)));
    v128.store(d + (<usize>c << 2), f32x4.add(f32x4.splat(k), f32x4.mul(f32x4.splat(alphaOverSize), s)));
  }
}

/**
 * LRN forward over x viewed as [rows, C]. scratch: host memory of 4 * (3C + 2 size + 16) bytes.
 */
export function lrn_f32(x: usize, y: usize, rows: i32, C: i32, size: i32, alpha: f32, beta: f32, k: f32, scratch: usize): void {
  const before = size >> 1;
  const sq = scratch, d = scratch + (<usize>(C + size + 4) << 2);
  const nb = f32x4.splat(-beta);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>C << 2;
    lrn_row_d(x + off, C, size, before, sq, d, k, alpha / <f32>size);
    for (let c = 0; c < C; c += 4) {
      const dp = exp_v(f32x4.mul(nb, log_v(v128.load(d + (<usize>c << 2)))));
      st(y + off, c, C - c, f32x4.mul(ld(x + off, c, C - c), dp));
    }
  }
}

/**
 * LRN gradient: dx_j = dy_j D_j^-beta - 2 beta alpha/size * x_j * sum_{c : j in window(c)} t_c,
 * t_c = dy_c x_c D_c^(-beta-1). Same scratch as lrn_f32.
 */
export function lrn_grad_f32(dy: usize, x: usize, dx: usize, rows: i32, C: i32, size: i32, alpha: f32, beta: f32, k: f32, scratch: usize): void {
  const before = size >> 1, after = (size - 1) >> 1;
  const sq = scratch, d = scratch + (<usize>(C + size + 4) << 2), t = d + (<usize>(C + 4) << 2);
  const nb = f32x4.splat(-beta);
  const coef = f32x4.splat(2 * beta * alpha / <f32>size);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>C << 2;
    lrn_row_d(x + off, C, size, before, sq, d, k, alpha / <f32>size);
    // d <- D^-beta, and t (zero-padded by `after` in front) <- dy x D^-beta / D
    memory.fill(t, 0, <usize>(C + size + 4) << 2);
    for (let c = 0; c < C; c += 4) {
      const dv = v128.load(d + (<usize>c << 2));
      const dp = exp_v(f32x4.mul(nb, log_v(dv)));
      v128.store(d + (<usize>c << 2), dp);
      const tv = f32x4.div(f32x4.mul(f32x4.mul(ld(dy + off, c, C - c), ld(x + off, c, C - c)), dp), dv);
      st(t + (<usize>after << 2), c, C - c, tv);
    }
    for (let c = 0; c < C; c += 4) {
      let s = f32x4.splat(0);
      for (let o = 0; o < size; o++) s = f32x4.add(s, v128.load(t + (<usize>(c + o) << 2)));
      const g = f32x4.sub(f32x4.mul(ld(dy + off, c, C - c), v128.load(d + (<usize>c << 2))), f32x4.mul(coef, f32x4.mul(ld(x + off, c, C - c), s)));
      st(dx + off, c, C - c, g);
    }
  }
}
