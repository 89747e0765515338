// Batch normalisation over the last (channel) axis (float32, SIMD): training statistics
// with f64 sums, the normalisation, and the training gradient. The contracts are those of
// src/kernels/norm.ts.

import { ld, ldg, stg } from './vec_f32';
import { partBegin } from './gemm_config';

// Threads: the per-channel sums (statistics, gradient sums) are taken over blocks of rows
// (bnBlockRows): part `part` of `parts` sums its share of the blocks, each block's sums
// stored on their own (batch_norm_sums_f32, batch_norm_grad_block_sums_f32); one thread
// then adds them up block after block (the *_finish_f32 exports). Every block is summed by
// the same instructions and the totals are added in block order on any thread count, so
// the results are bitwise the same on 1, 2 or N threads, and the same as summing the
// blocks into one total as they come. (Before 2026-12-07 the sums split the channels in
// bands of 16: fewer than 32 channels ran on one thread, and a batch norm of 16 channels
// took its statistics on one core.) The outputs (y, dx) are elementwise once the sums are
// known, so those passes take a band of rows each, all channels: no two threads write one
// cache line (except where a band boundary falls inside one), and every core gets work
// even when C is small. (Bands of channels for the outputs made 2 threads 2.6x slower
// than one on [64, 28, 28, 16]: both cores wrote halves of every line.)

/** First row of part `part` of `parts` over M rows. */
// @ts-ignore: decorator
@inline function rowBand(M: i32, part: i32, parts: i32): i32 {
  return partBegin(M, 1, part, parts);
}

// x is viewed as [M, C] (channels last). Per-channel sums accumulate in f64, each block's
// in its own row of a host scratch area (`sums`: 8 * padded(C) bytes per block and sum),
// their totals in another (`acc`: 32 * (C + 4) bytes, f64 totals, then f32 per-channel
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

/** Blocks of bnBlockRows(C) rows over M rows (the last may be shorter): the units the sums split into. */
export function batch_norm_blocks(M: i32, C: i32): i32 {
  const R = bnBlockRows(C);
  return (M + R - 1) / R;
}

/** Channels padded to whole vectors: the length of each block's row of sums. */
// @ts-ignore: decorator
@inline function padded(C: i32): i32 {
  return (C + 3) & ~3;
}

/**
 * For the blocks of part `part` of `parts`: sums[b][c] (f64, rows of padded(C)) = sum over
 * block b's rows of x[m, c] (centre = 0), or of (x[m, c] - centre[c])^2 (the square taken
 * in f32, the sum in f64).
 */
export function batch_norm_sums_f32(x: usize, M: i32, C: i32, centre: usize, sums: usize, part: i32, parts: i32): void {
  const nb = batch_norm_blocks(M, C), R = bnBlockRows(C), Cp = padded(C);
  const b0 = partBegin(nb, 1, part, parts), b1 = partBegin(nb, 1, part + 1, parts);
  const rs = <usize>C << 2;
  for (let b = b0; b < b1; b++) {
    const m0 = b * R, rows = min(R, M - m0);
    const out = sums + (<usize>b * <usize>Cp << 3);
    memory.fill(out, 0, <usize>Cp << 3);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      const p = x + ((<usize>m0 * <usize>C + <usize>c) << 2);
      if (centre) {
        const mc = ld(centre, c, r);
        if (r >= 4) sumGroup(p, rows, rs, r, true, mc, true, out, c);
        else sumGroup(p, rows, rs, r, false, mc, true, out, c);
      } else if (r >= 4) sumGroup(p, rows, rs, r, true, f32x4.splat(0), false, out, c);
      else sumGroup(p, rows, rs, r, false, f32x4.splat(0), false, out, c);
    }
  }
}

/** acc[c] (f64, padded(C) of them) = sum of sums[b][c] over the nb blocks, in block order. */
// @ts-ignore: decorator
@inline function addBlocks(sums: usize, nb: i32, C: i32, acc: usize): void {
  const Cp = padded(C);
  memory.fill(acc, 0, <usize>Cp << 3);
  for (let b = 0; b < nb; b++) {
    const row = sums + (<usize>b * <usize>Cp << 3);
    for (let c = 0; c < Cp; c += 2) {
      const o = <usize>c << 3;
      v128.store(acc + o, f64x2.add(v128.load(acc + o), v128.load(row + o)));
    }
  }
}

/**
 * After batch_norm_sums_f32 on every part: pass 0 (sums of x) writes mean[c] and meanLo[c],
 * the rounding error of the f32 mean (mean64 - mean[c]), so that batch_norm_apply_f32 can
 * centre x on the f64 mean (with few rows of nearly equal values, x - mean is small and
 * the f32 mean's rounding would dominate it); pass 1 (squares around that f32 mean)
 * writes the biased variance[c]. `acc`: 8 * padded(C) bytes of scratch.
 */
export function batch_norm_stats_finish_f32(M: i32, C: i32, sums: usize, acc: usize, mean: usize, variance: usize, meanLo: usize, pass: i32): void {
  addBlocks(sums, batch_norm_blocks(M, C), C, acc);
  const inv: f64 = M > 0 ? 1.0 / <f64>M : NaN;
  for (let c = 0; c < C; c++) {
    const s = load<f64>(acc + (<usize>c << 3)) * inv;
    if (pass) {
      store<f32>(variance + (<usize>c << 2), <f32>s);
    } else {
      const m32 = <f32>s;
      store<f32>(mean + (<usize>c << 2), m32);
      store<f32>(meanLo + (<usize>c << 2), <f32>(s - <f64>m32));
    }
  }
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

/** invstd[c] = 1 / sqrt(variance[c] + eps), as f32: the gradient's per-channel scale. */
export function batch_norm_invstd_f32(variance: usize, C: i32, eps: f32, invstd: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(invstd + o, <f32>(1.0 / Math.sqrt(<f64>load<f32>(variance + o) + <f64>eps)));
  }
}

/**
 * Training-mode gradient, first pass, for the blocks of part `part` of `parts`: per block b,
 * sums[b][c] = sum dy (for dbeta) and sums[nb + b][c] = sum dy * xhat (for dgamma), with
 * xhat = (x - mean) invstd (invstd from batch_norm_invstd_f32). `relu` (0: none) is the
 * output of a batch norm fused with a ReLU: dy counts only where it is > 0, as
 * activation_grad_f32's relu masks it.
 */
export function batch_norm_grad_block_sums_f32(
  dy: usize, x: usize, mean: usize, invstd: usize, relu: usize, M: i32, C: i32, sums: usize, part: i32, parts: i32,
): void {
  const nb = batch_norm_blocks(M, C), R = bnBlockRows(C), Cp = padded(C);
  const b0 = partBegin(nb, 1, part, parts), b1 = partBegin(nb, 1, part + 1, parts);
  const rs = <usize>C << 2;
  for (let b = b0; b < b1; b++) {
    const m0 = b * R, rows = min(R, M - m0);
    const outB = sums + (<usize>b * <usize>Cp << 3), outG = sums + (<usize>(nb + b) * <usize>Cp << 3);
    memory.fill(outB, 0, <usize>Cp << 3);
    memory.fill(outG, 0, <usize>Cp << 3);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      const mv = ld(mean, c, r), iv = ld(invstd, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (relu) {
        if (r >= 4) gradSumGroup(x + o, dy + o, relu + o, rows, rs, r, true, mv, iv, outB, outG, c, true);
        else gradSumGroup(x + o, dy + o, relu + o, rows, rs, r, false, mv, iv, outB, outG, c, true);
      } else if (r >= 4) gradSumGroup(x + o, dy + o, 0, rows, rs, r, true, mv, iv, outB, outG, c, false);
      else gradSumGroup(x + o, dy + o, 0, rows, rs, r, false, mv, iv, outB, outG, c, false);
    }
  }
}

/**
 * After batch_norm_grad_block_sums_f32 on every part: dbeta and dgamma (the blocks' sums
 * added in block order), and the per-channel constants of batch_norm_grad_dx_f32 in `acc`
 * (32 * (C + 4) bytes of host scratch).
 */
export function batch_norm_grad_finish_f32(gamma: usize, invstd: usize, dgamma: usize, dbeta: usize, M: i32, C: i32, sums: usize, acc: usize): void {
  const nb = batch_norm_blocks(M, C), Cp = padded(C);
  const accB = acc, accG = acc + (<usize>Cp << 3);
  addBlocks(sums, nb, C, accB);
  addBlocks(sums + (<usize>nb * <usize>Cp << 3), nb, C, accG);
  const invM: f64 = 1.0 / <f64>M;
  // per-channel constants as f32 arrays after the f64 sums: a = gamma invstd,
  // b = dbeta/M, g = dgamma/M, i = invstd
  const ka = gradConstants(acc, C);
  const kb = ka + (<usize>Cp << 2), kg = kb + (<usize>Cp << 2), ki = kg + (<usize>Cp << 2);
  for (let c = 0; c < C; c++) {
    const sb = load<f64>(accB + (<usize>c << 3));
    const sg = load<f64>(accG + (<usize>c << 3));
    const o = <usize>c << 2;
    const inv = load<f32>(invstd + o);
    store<f32>(dbeta + o, <f32>sb);
    store<f32>(dgamma + o, <f32>sg);
    store<f32>(ka + o, load<f32>(gamma + o) * inv);
    store<f32>(kb + o, <f32>(sb * invM));
    store<f32>(kg + o, <f32>(sg * invM));
    store<f32>(ki + o, inv);
  }
}

/** Where batch_norm_grad_finish_f32 leaves its four f32 constant arrays in `acc` (a, then b, g, i). */
// @ts-ignore: decorator
@inline function gradConstants(acc: usize, C: i32): usize {
  return acc + (<usize>((C + 3) & ~3) << 4);
}

/**
 * Training-mode gradient, second pass (after batch_norm_grad_finish_f32):
 * dx = gamma invstd (dy - dbeta/M - xhat dgamma/M), for part `part` of `parts` of the rows
 * (`relu` as in batch_norm_grad_block_sums_f32).
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
