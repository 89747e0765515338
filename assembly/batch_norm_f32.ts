// Batch normalisation over the last (channel) axis (float32, SIMD): training statistics
// with f64 sums, the normalisation, and the training gradient. The contracts are those of
// src/kernels/norm.ts.

import { ld, ldg, stg } from './vec_f32';
import { partBegin } from './gemm_config';

// Threads: the per-channel sums (statistics, gradient sums) take part `part` of `parts` as
// a band of channels over all the rows, in the same blocks and order as on one thread:
// bitwise the same result on any thread count. The bands are whole multiples of 16
// channels (64 bytes: one cache line of a row when C is a multiple of 16), so two threads
// never share a line of the scratch they write; with fewer than 32 channels the sums run
// on one part. The outputs (y, dx) are elementwise once the sums are known, so those
// passes take a band of rows each, all channels: no two threads write one cache line
// (except where a band boundary falls inside one), and every core gets work even when C
// is small. (Bands of channels for the outputs made 2 threads 2.6x slower than one on
// [64, 28, 28, 16]: both cores wrote halves of every line.)

/** First channel of part `part` of `parts` over C channels. */
// @ts-ignore: decorator
@inline function chan(C: i32, part: i32, parts: i32): i32 {
  return partBegin(C, 16, part, parts);
}

/** First row of part `part` of `parts` over M rows. */
// @ts-ignore: decorator
@inline function rowBand(M: i32, part: i32, parts: i32): i32 {
  return partBegin(M, 1, part, parts);
}

// x is viewed as [M, C] (channels last). Per-channel sums accumulate in f64 in a scratch
// area `acc` provided by the host (32 * (C + 4) bytes: f64 sums, then f32 per-channel
// constants). The rows are taken in blocks of about 16 KB (bnBlockRows): within a block
// each group of 4 channels runs down the rows with its sums (two f64x2) and constants in
// registers, the block staying in L1 for the next group. Row-major order with the sums
// in memory carried a store-to-load chain through every row and reloaded every per-
// channel constant for every 4 values (2-2.5x slower).

/** Rows per block: 4096 floats (16 KB), at least 4. */
// @ts-ignore: decorator
@inline function bnBlockRows(C: i32): i32 {
  return max(4, 4096 / C);
}

/** acc[c..c+4) (f64) += s0 (lanes 0, 1), s1 (lanes 2, 3). */
// @ts-ignore: decorator
@inline function addSums(acc: usize, c: i32, s0: v128, s1: v128): void {
  const p = acc + (<usize>c << 3);
  v128.store(p, f64x2.add(v128.load(p), s0));
  v128.store(p, f64x2.add(v128.load(p, 16), s1), 16);
}

/** Lanes 0, 1 and 2, 3 of v as f64x2. */
// @ts-ignore: decorator
@inline function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/**
 * One group of channels c.. (r of them) of a block of rows: acc[c..] += sum of x (or of
 * (x - mc)^2). Even and odd rows go to separate sums, added at the end of the block: one
 * chain of f64 adds per lane spent most of its time waiting on the add before (2x slower).
 */
// @ts-ignore: decorator
@inline function sumGroup(p: usize, rows: i32, rs: usize, r: i32, full: bool, mc: v128, squares: bool, acc: usize, c: i32): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), t0 = f64x2.splat(0), t1 = f64x2.splat(0);
  let i = 0;
  for (; i + 1 < rows; i += 2) {
    let v = ldg(p, r, full), w = ldg(p + rs, r, full);
    if (squares) {
      const d = f32x4.sub(v, mc), e = f32x4.sub(w, mc);
      v = f32x4.mul(d, d);
      w = f32x4.mul(e, e);
    }
    s0 = f64x2.add(s0, lo64(v));
    s1 = f64x2.add(s1, hi64(v));
    t0 = f64x2.add(t0, lo64(w));
    t1 = f64x2.add(t1, hi64(w));
    p += rs << 1;
  }
  if (i < rows) {
    let v = ldg(p, r, full);
    if (squares) {
      const d = f32x4.sub(v, mc);
      v = f32x4.mul(d, d);
    }
    s0 = f64x2.add(s0, lo64(v));
    s1 = f64x2.add(s1, hi64(v));
  }
  addSums(acc, c, f64x2.add(s0, t0), f64x2.add(s1, t1));
}

/**
 * acc[c] (f64) += sum over the M rows of x[m, c] (centre = 0) or of (x[m, c] - centre[c])^2
 * (the square taken in f32, the sum in f64).
 */
// @ts-ignore: decorator
@inline function channelSums(x: usize, M: i32, C: i32, acc: usize, centre: usize, squares: bool, c0: i32, c1: i32): void {
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = c0; c < c1; c += 4) {
      const r = C - c;
      const mc = squares ? ld(centre, c, r) : f32x4.splat(0);
      const p = x + ((<usize>m0 * <usize>C + <usize>c) << 2);
      if (r >= 4) sumGroup(p, rows, rs, r, true, mc, squares, acc, c);
      else sumGroup(p, rows, rs, r, false, mc, squares, acc, c);
    }
  }
}

/**
 * mean[c] and biased var[c] over the M rows (two passes, f64 sums). meanLo[c] receives
 * the rounding error of the f32 mean (mean64 - mean[c]), so that batch_norm_apply_f32
 * can centre x on the f64 mean: with few rows of nearly equal values, x - mean is
 * small and the f32 mean's rounding would dominate it.
 */
export function batch_norm_stats_f32(x: usize, M: i32, C: i32, mean: usize, variance: usize, acc: usize, meanLo: usize, part: i32, parts: i32): void {
  const c0 = chan(C, part, parts), c1 = chan(C, part + 1, parts);
  if (c0 >= c1) return;
  const c1p = (c1 + 3) & ~3; // accumulators padded to whole vectors
  memory.fill(acc + (<usize>c0 << 3), 0, <usize>(c1p - c0) << 3);
  channelSums(x, M, C, acc, 0, false, c0, c1);
  const inv: f64 = M > 0 ? 1.0 / <f64>M : NaN;
  for (let c = c0; c < c1; c++) {
    const m64 = load<f64>(acc + (<usize>c << 3)) * inv;
    const m32 = <f32>m64;
    store<f32>(mean + (<usize>c << 2), m32);
    store<f32>(meanLo + (<usize>c << 2), <f32>(m64 - <f64>m32));
  }
  // second pass around the f32 mean the kernels will use
  memory.fill(acc + (<usize>c0 << 3), 0, <usize>(c1p - c0) << 3);
  channelSums(x, M, C, acc, mean, true, c0, c1);
  for (let c = c0; c < c1; c++) store<f32>(variance + (<usize>c << 2), <f32>(load<f64>(acc + (<usize>c << 3)) * inv));
}

/**
 * y = (x - mean - meanLo) * gamma / sqrt(var + eps) + beta per channel (meanLo = 0: none),
 * then max(y, 0) when `relu` is not 0 (activation_f32's relu: NaN stays NaN), for part
 * `part` of `parts` of the rows. `scale` is 4*C bytes of scratch of this part's own (the
 * host passes each thread's workspace), filled here.
 */
export function batch_norm_apply_f32(
  x: usize, y: usize, M: i32, C: i32,
  gamma: usize, beta: usize, mean: usize, variance: usize, eps: f32, scale: usize, meanLo: usize, relu: i32, part: i32, parts: i32,
): void {
  const r0 = rowBand(M, part, parts), r1 = rowBand(M, part + 1, parts);
  if (r0 >= r1) return;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(scale + o, <f32>(<f64>load<f32>(gamma + o) / Math.sqrt(<f64>load<f32>(variance + o) + <f64>eps)));
  }
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = r0; m0 < r1; m0 += R) {
    const rows = min(R, r1 - m0);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      // (with meanLo = 0, subtracting its zero vector changes no value)
      const mv = ld(mean, c, r), lv = meanLo ? ld(meanLo, c, r) : f32x4.splat(0), sv = ld(scale, c, r), bv = ld(beta, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (relu) {
        if (r >= 4) applyGroup(x + o, y + o, rows, rs, r, true, mv, lv, sv, bv, true);
        else applyGroup(x + o, y + o, rows, rs, r, false, mv, lv, sv, bv, true);
      } else if (r >= 4) applyGroup(x + o, y + o, rows, rs, r, true, mv, lv, sv, bv, false);
      else applyGroup(x + o, y + o, rows, rs, r, false, mv, lv, sv, bv, false);
    }
  }
}

// @ts-ignore: decorator
@inline function applyGroup(p: usize, q: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, lv: v128, sv: v128, bv: v128, relu: bool): void {
  for (let i = 0; i < rows; i++) {
    const d = f32x4.sub(f32x4.sub(ldg(p, r, full), mv), lv);
    const v = f32x4.add(f32x4.mul(d, sv), bv);
    stg(q, r, full, relu ? f32x4.max(v, f32x4.splat(0)) : v);
    p += rs;
    q += rs;
  }
}

/**
 * Training-mode gradient, first pass: dbeta = sum dy, dgamma = sum dy * xhat with
 * xhat = (x - mean) invstd, for part `part` of `parts` of the channels; also leaves the
 * per-channel constants of batch_norm_grad_dx_f32 in `acc` (the host scratch above).
 * `relu` (0: none) is the output of a batch norm fused with a ReLU: dy counts only where
 * it is > 0, as activation_grad_f32's relu masks it.
 */
export function batch_norm_grad_sums_f32(
  dy: usize, x: usize, gamma: usize, mean: usize, variance: usize,
  dgamma: usize, dbeta: usize, M: i32, C: i32, eps: f32, acc: usize, relu: usize, part: i32, parts: i32,
): void {
  const c0 = chan(C, part, parts), c1 = chan(C, part + 1, parts);
  if (c0 >= c1) return;
  const Cp = (C + 3) & ~3, c1p = (c1 + 3) & ~3;
  const accB = acc, accG = acc + (<usize>Cp << 3);
  memory.fill(accB + (<usize>c0 << 3), 0, <usize>(c1p - c0) << 3);
  memory.fill(accG + (<usize>c0 << 3), 0, <usize>(c1p - c0) << 3);
  // invstd into dgamma's buffer for the first pass (overwritten at the end)
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 2;
    store<f32>(dgamma + o, <f32>(1.0 / Math.sqrt(<f64>load<f32>(variance + o) + <f64>eps)));
  }
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = c0; c < c1; c += 4) {
      const r = C - c;
      const mv = ld(mean, c, r), iv = ld(dgamma, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (relu) {
        if (r >= 4) gradSumGroup(x + o, dy + o, relu + o, rows, rs, r, true, mv, iv, accB, accG, c, true);
        else gradSumGroup(x + o, dy + o, relu + o, rows, rs, r, false, mv, iv, accB, accG, c, true);
      } else if (r >= 4) gradSumGroup(x + o, dy + o, 0, rows, rs, r, true, mv, iv, accB, accG, c, false);
      else gradSumGroup(x + o, dy + o, 0, rows, rs, r, false, mv, iv, accB, accG, c, false);
    }
  }
  const invM: f64 = 1.0 / <f64>M;
  // per-channel constants as f32 arrays after the f64 sums: a = gamma invstd,
  // b = dbeta/M, g = dgamma/M, i = invstd
  const ka = gradConstants(acc, C);
  const kb = ka + (<usize>Cp << 2), kg = kb + (<usize>Cp << 2), ki = kg + (<usize>Cp << 2);
  for (let c = c0; c < c1; c++) {
    const sb = load<f64>(accB + (<usize>c << 3));
    const sg = load<f64>(accG + (<usize>c << 3));
    const o = <usize>c << 2;
    const inv = load<f32>(dgamma + o);
    store<f32>(dbeta + o, <f32>sb);
    store<f32>(dgamma + o, <f32>sg);
    store<f32>(ka + o, load<f32>(gamma + o) * inv);
    store<f32>(kb + o, <f32>(sb * invM));
    store<f32>(kg + o, <f32>(sg * invM));
    store<f32>(ki + o, inv);
  }
}

/** Where batch_norm_grad_sums_f32 leaves its four f32 constant arrays in `acc` (a, then b, g, i). */
// @ts-ignore: decorator
@inline function gradConstants(acc: usize, C: i32): usize {
  return acc + (<usize>((C + 3) & ~3) << 4);
}

/**
 * Training-mode gradient, second pass (after batch_norm_grad_sums_f32 on every part):
 * dx = gamma invstd (dy - dbeta/M - xhat dgamma/M), for part `part` of `parts` of the rows
 * (`relu` as in batch_norm_grad_sums_f32).
 */
export function batch_norm_grad_dx_f32(dy: usize, x: usize, mean: usize, dx: usize, M: i32, C: i32, acc: usize, relu: usize, part: i32, parts: i32): void {
  const r0 = rowBand(M, part, parts), r1 = rowBand(M, part + 1, parts);
  if (r0 >= r1) return;
  const Cp = (C + 3) & ~3;
  const ka = gradConstants(acc, C);
  const kb = ka + (<usize>Cp << 2), kg = kb + (<usize>Cp << 2), ki = kg + (<usize>Cp << 2);
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = r0; m0 < r1; m0 += R) {
    const rows = min(R, r1 - m0);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      const mv = ld(mean, c, r), iv = ld(ki, c, r), av = ld(ka, c, r), bv = ld(kb, c, r), gv = ld(kg, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (relu) {
        if (r >= 4) gradApplyGroup(x + o, dy + o, relu + o, dx + o, rows, rs, r, true, mv, iv, av, bv, gv, true);
        else gradApplyGroup(x + o, dy + o, relu + o, dx + o, rows, rs, r, false, mv, iv, av, bv, gv, true);
      } else if (r >= 4) gradApplyGroup(x + o, dy + o, 0, dx + o, rows, rs, r, true, mv, iv, av, bv, gv, false);
      else gradApplyGroup(x + o, dy + o, 0, dx + o, rows, rs, r, false, mv, iv, av, bv, gv, false);
    }
  }
}

/** dy at q, masked where the fused output at m is not > 0 (relu; else m is unread). */
// @ts-ignore: decorator
@inline function maskedDy(q: usize, m: usize, r: i32, full: bool, relu: bool): v128 {
  const d = ldg(q, r, full);
  return relu ? v128.and(d, f32x4.gt(ldg(m, r, full), f32x4.splat(0))) : d;
}

/** sum dy and sum dy * xhat over a block's rows for channels c.., into accB and accG. */
// @ts-ignore: decorator
@inline function gradSumGroup(p: usize, q: usize, m: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, iv: v128, accB: usize, accG: usize, c: i32, relu: bool): void {
  let b0 = f64x2.splat(0), b1 = f64x2.splat(0), g0 = f64x2.splat(0), g1 = f64x2.splat(0);
  for (let i = 0; i < rows; i++) {
    const d = maskedDy(q, m, r, full, relu);
    const gx = f32x4.mul(d, f32x4.mul(f32x4.sub(ldg(p, r, full), mv), iv));
    b0 = f64x2.add(b0, lo64(d));
    b1 = f64x2.add(b1, hi64(d));
    g0 = f64x2.add(g0, lo64(gx));
    g1 = f64x2.add(g1, hi64(gx));
    p += rs;
    q += rs;
    m += rs;
  }
  addSums(accB, c, b0, b1);
  addSums(accG, c, g0, g1);
}

/** dx = a (dy - b - xhat g) over a block's rows for channels c... */
// @ts-ignore: decorator
@inline function gradApplyGroup(p: usize, q: usize, m: usize, t: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, iv: v128, av: v128, bv: v128, gv: v128, relu: bool): void {
  for (let i = 0; i < rows; i++) {
    const xh = f32x4.mul(f32x4.sub(ldg(p, r, full), mv), iv);
    const inner = f32x4.sub(f32x4.sub(maskedDy(q, m, r, full, relu), bv), f32x4.mul(xh, gv));
    stg(t, r, full, f32x4.mul(av, inner));
    p += rs;
    q += rs;
    m += rs;
    t += rs;
  }
}
