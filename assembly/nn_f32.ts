// Neural-network kernels (float32, SIMD): activations and their gradients, softmax and
// log-softmax along an axis, fused softmax cross-entropy, batch normalisation. The
// contracts are those of src/backends/ts/kernels/{activation,loss,norm}.ts.

import { exp_v, log_v, tanh_v, sigmoid_v, expm1_v } from './math_f32x4';
import { ld, st, spl, ldg, stg } from './vec_f32';

// ---------------------------------------------------------------- activations

// Activation codes (src/backends/wasm/kernels/nn.ts keeps the same table).
// @ts-ignore: decorator
@inline const RELU = 0;
// @ts-ignore: decorator
@inline const LEAKY_RELU = 1;
// @ts-ignore: decorator
@inline const ELU = 2;
// @ts-ignore: decorator
@inline const SIGMOID = 3;
// @ts-ignore: decorator
@inline const TANH = 4;
// @ts-ignore: decorator
@inline const SOFTPLUS = 5;
// @ts-ignore: decorator
@inline const STEP = 6;
// @ts-ignore: decorator
@inline const GELU = 7;
// @ts-ignore: decorator
@inline const GELU_TANH = 8;

// @ts-ignore: decorator
@inline const SQRT1_2: f32 = 0.7071067811865476;
// @ts-ignore: decorator
@inline const INV_SQRT_PI: f32 = 0.5641895835477563; // 1/sqrt(pi)
// @ts-ignore: decorator
@inline const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
// @ts-ignore: decorator
@inline const GELU_C: f32 = 0.044715;

/**
 * e^(-u^2) with u^2's rounding error removed: u = h + l with h holding 12 significant
 * bits, so h*h is exact, and e^(-u^2) = e^(-h^2) * e^(-(2h + l) l).
 */
// @ts-ignore: decorator
@inline function exp_neg_sq(u: v128): v128 {
  const h = v128.and(u, i32x4.splat(0xfffff000));
  const l = f32x4.sub(u, h);
  return f32x4.mul(exp_v(f32x4.neg(f32x4.mul(h, h))), exp_v(f32x4.neg(f32x4.mul(f32x4.add(f32x4.add(h, h), l), l))));
}

/**
 * erfc per lane (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7 for every x),
 * the e^(-z^2) factor taken from exp_neg_sq so the far tail keeps its relative accuracy.
 */
// @ts-ignore: decorator
@inline function erfc_v(x: v128): v128 {
  // erfc(10.5) < 1e-49 underflows to 0 in f32: clamping keeps inf - inf out of exp_neg_sq
  const z = f32x4.min(f32x4.abs(x), spl(10.5));
  const t = f32x4.div(spl(1), f32x4.add(spl(1), f32x4.mul(spl(0.5), z)));
  let p = spl(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), spl(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), spl(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), spl(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), spl(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), spl(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), spl(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), spl(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), spl(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), spl(-1.26551223));
  const ans = f32x4.mul(f32x4.mul(t, exp_neg_sq(z)), exp_v(p));
  return v128.bitselect(ans, f32x4.sub(spl(2), ans), f32x4.ge(x, spl(0)));
}

/** log(1 + e) for e >= 0 (Goldberg's trick: exact to a few ulp even when e is tiny). */
// @ts-ignore: decorator
@inline function log1p_pos(e: v128): v128 {
  const u = f32x4.add(spl(1), e);
  const d = f32x4.sub(u, spl(1));
  const r = f32x4.div(f32x4.mul(log_v(u), e), d);
  return v128.bitselect(e, r, f32x4.eq(d, spl(0)));
}

// @ts-ignore: decorator
@inline function act_v(op: i32, x: v128, alpha: v128): v128 {
  const zero = spl(0);
  switch (op) {
    // max(x, 0) keeps NaN and maps -0 to 0, like the oracle.
    case RELU: return f32x4.max(x, zero);
    case LEAKY_RELU: return v128.bitselect(x, f32x4.mul(alpha, x), f32x4.gt(x, zero));
    case ELU: return v128.bitselect(x, f32x4.mul(alpha, expm1_v(x)), f32x4.gt(x, zero));
    case SIGMOID: return sigmoid_v(x);
    case TANH: return tanh_v(x);
    case SOFTPLUS: return f32x4.add(f32x4.max(x, zero), log1p_pos(exp_v(f32x4.neg(f32x4.abs(x)))));
    case STEP: {
      // 1 for x >= 0, 0 for x < 0, NaN stays NaN
      const r = v128.and(f32x4.ge(x, zero), spl(1));
      return v128.bitselect(x, r, f32x4.ne(x, x));
    }
    case GELU: {
      // 0.5 x erfc(-x / sqrt 2)
      return f32x4.mul(f32x4.mul(spl(0.5), x), erfc_v(f32x4.mul(x, spl(-SQRT1_2))));
    }
    default: {
      // 0.5 x (1 + tanh(a)) = x sigmoid(2a): no cancellation for negative x
      const a = f32x4.mul(spl(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(spl(GELU_C), f32x4.mul(x, f32x4.mul(x, x)))));
      return f32x4.mul(x, sigmoid_v(f32x4.add(a, a)));
    }
  }
}

// @ts-ignore: decorator
@inline function act_loop(op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  const va = spl(alpha);
  for (let i = 0; i < n; i += 4) st(y, i, n - i, act_v(op, ld(x, i, n - i), va));
}

/** y = f(x) for the activation codes above (alpha: LeakyRelu slope, Elu scale). */
export function activation_f32(op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  switch (op) {
    case RELU: act_loop(RELU, x, y, n, alpha); break;
    case LEAKY_RELU: act_loop(LEAKY_RELU, x, y, n, alpha); break;
    case ELU: act_loop(ELU, x, y, n, alpha); break;
    case SIGMOID: act_loop(SIGMOID, x, y, n, alpha); break;
    case TANH: act_loop(TANH, x, y, n, alpha); break;
    case SOFTPLUS: act_loop(SOFTPLUS, x, y, n, alpha); break;
    case STEP: act_loop(STEP, x, y, n, alpha); break;
    case GELU: act_loop(GELU, x, y, n, alpha); break;
    default: act_loop(GELU_TANH, x, y, n, alpha); break;
  }
}

/**
 * dx = dy * f'(s) where s is the saved forward input x (Relu, LeakyRelu, Elu, Gelu) or
 * output y (Sigmoid: y(1-y); Tanh: 1-y^2).
 */
// @ts-ignore: decorator
@inline function act_grad_v(op: i32, dy: v128, s: v128, alpha: v128): v128 {
  const zero = spl(0), one = spl(1);
  switch (op) {
    case RELU: return v128.and(dy, f32x4.gt(s, zero));
    case LEAKY_RELU: return v128.bitselect(dy, f32x4.mul(alpha, dy), f32x4.gt(s, zero));
    case ELU: return v128.bitselect(dy, f32x4.mul(f32x4.mul(dy, alpha), exp_v(s)), f32x4.gt(s, zero));
    case SIGMOID: return f32x4.mul(f32x4.mul(dy, s), f32x4.sub(one, s));
    case TANH: return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(s, s)));
    case GELU: {
      // Phi(x) + x phi(x) = 0.5 erfc(-x/sqrt2) + x/sqrt(2 pi) e^(-x^2/2)
      const u = f32x4.mul(s, spl(SQRT1_2));
      const cdf = f32x4.mul(spl(0.5), erfc_v(f32x4.neg(u)));
      const pdf = f32x4.mul(f32x4.mul(u, spl(INV_SQRT_PI)), exp_neg_sq(u)); // = x phi(x)
      return f32x4.mul(dy, f32x4.add(cdf, pdf));
    }
    default: {
      // with sg = sigmoid(2a) = (1+tanh a)/2: d/dx = sg + x * 2 sg (1 - sg) * a'(x)
      const x2 = f32x4.mul(s, s);
      const a = f32x4.mul(spl(SQRT_2_OVER_PI), f32x4.add(s, f32x4.mul(spl(GELU_C), f32x4.mul(s, x2))));
      const da = f32x4.mul(spl(SQRT_2_OVER_PI), f32x4.add(one, f32x4.mul(spl(3 * GELU_C), x2)));
      const a2 = f32x4.add(a, a);
      const sg = sigmoid_v(a2);
      const sgm = sigmoid_v(f32x4.neg(a2));
      const d = f32x4.add(sg, f32x4.mul(f32x4.mul(f32x4.mul(s, spl(2)), f32x4.mul(sg, sgm)), da));
      return f32x4.mul(dy, d);
    }
  }
}

// @ts-ignore: decorator
@inline function act_grad_loop(op: i32, dy: usize, s: usize, dx: usize, n: i32, alpha: f32): void {
  const va = spl(alpha);
  for (let i = 0; i < n; i += 4) st(dx, i, n - i, act_grad_v(op, ld(dy, i, n - i), ld(s, i, n - i), va));
}

/** Gradient kernels (codes RELU, LEAKY_RELU, ELU, SIGMOID, TANH, GELU, GELU_TANH). */
export function activation_grad_f32(op: i32, dy: usize, s: usize, dx: usize, n: i32, alpha: f32): void {
  switch (op) {
    case RELU: act_grad_loop(RELU, dy, s, dx, n, alpha); break;
    case LEAKY_RELU: act_grad_loop(LEAKY_RELU, dy, s, dx, n, alpha); break;
    case ELU: act_grad_loop(ELU, dy, s, dx, n, alpha); break;
    case SIGMOID: act_grad_loop(SIGMOID, dy, s, dx, n, alpha); break;
    case TANH: act_grad_loop(TANH, dy, s, dx, n, alpha); break;
    case GELU: act_grad_loop(GELU, dy, s, dx, n, alpha); break;
    default: act_grad_loop(GELU_TANH, dy, s, dx, n, alpha); break;
  }
}

// ---------------------------------------------------------------- softmax family

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Masks the lanes at or beyond r (a loop tail) to `fill`. */
// @ts-ignore: decorator
@inline function tail_fill(v: v128, r: i32, fill: f32): v128 {
  if (r >= 4) return v;
  const lane = i32x4(0, 1, 2, 3);
  return v128.bitselect(v, f32x4.splat(fill), i32x4.lt_s(lane, i32x4.splat(r)));
}

/** Max of K contiguous values (NaN wins). */
// @ts-ignore: decorator
@inline function row_max(x: usize, K: i32): f32 {
  let m = f32x4.splat(-Infinity);
  for (let k = 0; k < K; k += 4) m = f32x4.max(m, tail_fill(ld(x, k, K - k), K - k, -Infinity));
  return hmax(m);
}

/** sum_k e^(x_k - m), optionally storing each term in y. */
// @ts-ignore: decorator
@inline function row_exp_sum(x: usize, y: usize, K: i32, m: f32, write: bool): f32 {
  const vm = f32x4.splat(m);
  let s = f32x4.splat(0);
  for (let k = 0; k < K; k += 4) {
    const e = tail_fill(exp_v(f32x4.sub(ld(x, k, K - k), vm)), K - k, 0);
    if (write) st(y, k, K - k, e);
    s = f32x4.add(s, e);
  }
  return hsum(s);
}

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

// ---------------------------------------------------------------- batch normalisation
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

/** One group of channels c.. (r of them) of a block of rows: acc[c..] += sum of x (or of (x - mc)^2). */
// @ts-ignore: decorator
@inline function sumGroup(p: usize, rows: i32, rs: usize, r: i32, full: bool, mc: v128, squares: bool, acc: usize, c: i32): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  for (let i = 0; i < rows; i++) {
    let v = ldg(p, r, full);
    if (squares) {
      const d = f32x4.sub(v, mc);
      v = f32x4.mul(d, d);
    }
    s0 = f64x2.add(s0, lo64(v));
    s1 = f64x2.add(s1, hi64(v));
    p += rs;
  }
  addSums(acc, c, s0, s1);
}

/**
 * acc[c] (f64) += sum over the M rows of x[m, c] (centre = 0) or of (x[m, c] - centre[c])^2
 * (the square taken in f32, the sum in f64).
 */
// @ts-ignore: decorator
@inline function channelSums(x: usize, M: i32, C: i32, acc: usize, centre: usize, squares: bool): void {
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = 0; c < C; c += 4) {
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
export function batch_norm_stats_f32(x: usize, M: i32, C: i32, mean: usize, variance: usize, acc: usize, meanLo: usize): void {
  const Cp = (C + 3) & ~3; // accumulators padded to whole vectors
  memory.fill(acc, 0, <usize>Cp << 3);
  channelSums(x, M, C, acc, 0, false);
  const inv: f64 = M > 0 ? 1.0 / <f64>M : NaN;
  for (let c = 0; c < C; c++) {
    const m64 = load<f64>(acc + (<usize>c << 3)) * inv;
    const m32 = <f32>m64;
    store<f32>(mean + (<usize>c << 2), m32);
    store<f32>(meanLo + (<usize>c << 2), <f32>(m64 - <f64>m32));
  }
  // second pass around the f32 mean the kernels will use
  memory.fill(acc, 0, <usize>Cp << 3);
  channelSums(x, M, C, acc, mean, true);
  for (let c = 0; c < C; c++) store<f32>(variance + (<usize>c << 2), <f32>(load<f64>(acc + (<usize>c << 3)) * inv));
}

/**
 * y = (x - mean - meanLo) * gamma / sqrt(var + eps) + beta per channel (meanLo = 0: none).
 * `scale` is host scratch of 4*C bytes (filled here).
 */
export function batch_norm_apply_f32(
  x: usize, y: usize, M: i32, C: i32,
  gamma: usize, beta: usize, mean: usize, variance: usize, eps: f32, scale: usize, meanLo: usize,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(scale + o, <f32>(<f64>load<f32>(gamma + o) / Math.sqrt(<f64>load<f32>(variance + o) + <f64>eps)));
  }
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      // (with meanLo = 0, subtracting its zero vector changes no value)
      const mv = ld(mean, c, r), lv = meanLo ? ld(meanLo, c, r) : f32x4.splat(0), sv = ld(scale, c, r), bv = ld(beta, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (r >= 4) applyGroup(x + o, y + o, rows, rs, r, true, mv, lv, sv, bv);
      else applyGroup(x + o, y + o, rows, rs, r, false, mv, lv, sv, bv);
    }
  }
}

// @ts-ignore: decorator
@inline function applyGroup(p: usize, q: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, lv: v128, sv: v128, bv: v128): void {
  for (let i = 0; i < rows; i++) {
    const d = f32x4.sub(f32x4.sub(ldg(p, r, full), mv), lv);
    stg(q, r, full, f32x4.add(f32x4.mul(d, sv), bv));
    p += rs;
    q += rs;
  }
}

/**
 * Training-mode gradient: dbeta = sum dy, dgamma = sum dy * xhat, xhat = (x - mean) invstd,
 * dx = gamma invstd (dy - dbeta/M - xhat dgamma/M). `acc` is the host scratch above.
 */
export function batch_norm_grad_f32(
  dy: usize, x: usize, gamma: usize, mean: usize, variance: usize,
  dx: usize, dgamma: usize, dbeta: usize, M: i32, C: i32, eps: f32, acc: usize,
): void {
  const Cp = (C + 3) & ~3;
  const accB = acc, accG = acc + (<usize>Cp << 3);
  memory.fill(acc, 0, <usize>Cp << 4);
  // invstd into dgamma's buffer for the first pass (overwritten at the end)
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(dgamma + o, <f32>(1.0 / Math.sqrt(<f64>load<f32>(variance + o) + <f64>eps)));
  }
  const R = bnBlockRows(C);
  const rs = <usize>C << 2;
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      const mv = ld(mean, c, r), iv = ld(dgamma, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (r >= 4) gradSumGroup(x + o, dy + o, rows, rs, r, true, mv, iv, accB, accG, c);
      else gradSumGroup(x + o, dy + o, rows, rs, r, false, mv, iv, accB, accG, c);
    }
  }
  const invM: f64 = 1.0 / <f64>M;
  // per-channel constants as f32 arrays after the f64 sums: a = gamma invstd,
  // b = dbeta/M, g = dgamma/M, i = invstd
  const ka = acc + (<usize>Cp << 4), kb = ka + (<usize>Cp << 2), kg = kb + (<usize>Cp << 2), ki = kg + (<usize>Cp << 2);
  for (let c = 0; c < C; c++) {
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
  for (let m0 = 0; m0 < M; m0 += R) {
    const rows = min(R, M - m0);
    for (let c = 0; c < C; c += 4) {
      const r = C - c;
      const mv = ld(mean, c, r), iv = ld(ki, c, r), av = ld(ka, c, r), bv = ld(kb, c, r), gv = ld(kg, c, r);
      const o = (<usize>m0 * <usize>C + <usize>c) << 2;
      if (r >= 4) gradApplyGroup(x + o, dy + o, dx + o, rows, rs, r, true, mv, iv, av, bv, gv);
      else gradApplyGroup(x + o, dy + o, dx + o, rows, rs, r, false, mv, iv, av, bv, gv);
    }
  }
}

/** sum dy and sum dy * xhat over a block's rows for channels c.., into accB and accG. */
// @ts-ignore: decorator
@inline function gradSumGroup(p: usize, q: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, iv: v128, accB: usize, accG: usize, c: i32): void {
  let b0 = f64x2.splat(0), b1 = f64x2.splat(0), g0 = f64x2.splat(0), g1 = f64x2.splat(0);
  for (let i = 0; i < rows; i++) {
    const d = ldg(q, r, full);
    const gx = f32x4.mul(d, f32x4.mul(f32x4.sub(ldg(p, r, full), mv), iv));
    b0 = f64x2.add(b0, lo64(d));
    b1 = f64x2.add(b1, hi64(d));
    g0 = f64x2.add(g0, lo64(gx));
    g1 = f64x2.add(g1, hi64(gx));
    p += rs;
    q += rs;
  }
  addSums(accB, c, b0, b1);
  addSums(accG, c, g0, g1);
}

/** dx = a (dy - b - xhat g) over a block's rows for channels c... */
// @ts-ignore: decorator
@inline function gradApplyGroup(p: usize, q: usize, t: usize, rows: i32, rs: usize, r: i32, full: bool, mv: v128, iv: v128, av: v128, bv: v128, gv: v128): void {
  for (let i = 0; i < rows; i++) {
    const xh = f32x4.mul(f32x4.sub(ldg(p, r, full), mv), iv);
    const inner = f32x4.sub(f32x4.sub(ldg(q, r, full), bv), f32x4.mul(xh, gv));
    stg(t, r, full, f32x4.mul(av, inner));
    p += rs;
    q += rs;
    t += rs;
  }
}

// ---------------------------------------------------------------- local response normalisation
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
