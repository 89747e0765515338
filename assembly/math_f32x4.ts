// Vector (f32x4) elementary functions for the activation, softmax and loss kernels.
// Cephes-style range reduction plus minimax polynomials: about 1-2 ulp relative error
// (f32), checked against the float64 `ts` oracle in test/wasm/nn.test.ts. Special values
// follow IEEE/JavaScript: NaN in gives NaN out, exp(-inf) = 0, exp(+inf) = +inf,
// log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.

/**
 * c + a * b per lane: a fused multiply-add in the relaxed build (where the CPU has one),
 * a product then a sum in the plain build (the summation order both keep).
 */
// @ts-ignore: decorator
@inline export function madd_v(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in two: the high part has 9 significant bits, so n * LN2_HI is exact
// for |n| < 2^15 and the reduction x - n ln 2 loses nothing.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;

/** e^x per lane. */
// @ts-ignore: decorator
@inline export function exp_v(x: v128): v128 {
  // Outside [-104, 89] e^x is 0 or +inf in f32; clamping keeps 2^n representable. pmax(x, c)
  // is x unless x < c, and pmin(x, c) x unless c < x, so NaN survives the clamp (and each is
  // one instruction on x64 and arm64, where f32x4.min/max take several).
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104.0)), f32x4.splat(89.0));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // e^r on |r| <= ln2/2 (Cephes expf coefficients).
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // Scale by 2^n in two halves so that subnormal results (n down to -150) and the
  // overflow to +inf (n = 128) both come out right.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Natural logarithm per lane. */
// @ts-ignore: decorator
@inline export function log_v(x: v128): v128 {
  // Subnormals: scale by 2^25 so the exponent field is meaningful.
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(33554432.0)), x, tiny);
  const eAdj = v128.and(tiny, i32x4.splat(25));
  // x = m * 2^e with m in [0.5, 1).
  let e = i32x4.sub(i32x4.sub(v128.and(i32x4.shr_u(xs, 23), i32x4.splat(0xff)), i32x4.splat(126)), eAdj);
  let m = v128.or(v128.and(xs, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  // Move m into [sqrt(1/2), sqrt(2)) and subtract 1.
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, small); // small lanes are all ones = -1
  m = f32x4.sub(f32x4.add(m, v128.and(m, small)), f32x4.splat(1.0));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  // Cephes logf polynomial.
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(fe, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(m, y);
  r = f32x4.add(r, f32x4.mul(fe, f32x4.splat(LN2_HI)));
  // Special values: +inf -> +inf, 0 -> -inf, negative or NaN -> NaN.
  r = v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0.0)));
  r = v128.bitselect(f32x4.splat(NaN), r, v128.not(f32x4.ge(x, f32x4.splat(0.0))));
  return r;
}

/** tanh per lane: an odd polynomial near 0, 1 - 2/(e^{2|x|} + 1) elsewhere. */
// @ts-ignore: decorator
@inline export function tanh_v(x: v128): v128 {
  const ax = f32x4.abs(x);
  // |x| >= 0.625: no cancellation worse than a factor ~2 (tanh(0.625) = 0.55).
  const e = exp_v(f32x4.add(ax, ax));
  let big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  // copy the sign of x (tanh is odd); NaN stays NaN through the arithmetic
  big = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // |x| < 0.625: Cephes tanhf polynomial.
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const smallv = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(smallv, big, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** Logistic sigmoid per lane, 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) below (never overflows). */
// @ts-ignore: decorator
@inline export function sigmoid_v(x: v128): v128 {
  const e = exp_v(f32x4.neg(f32x4.abs(x)));
  const s = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), e));
  return v128.bitselect(s, f32x4.mul(e, s), f32x4.ge(x, f32x4.splat(0.0)));
}

/** e^x - 1 per lane, accurate near 0 (the Expm1 kernel): a Taylor polynomial for |x| < 0.5. */
// @ts-ignore: decorator
@inline export function expm1_v(x: v128): v128 {
  const big = f32x4.sub(exp_v(x), f32x4.splat(1.0));
  // x + x^2/2 + ... + x^8/8! : truncation error < 0.5^9/9! ~ 5e-9 relative to |x| >= ...
  let p = f32x4.splat(2.48015873e-5);
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.98412698e-4));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.38888889e-3));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(8.33333333e-3));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(4.16666667e-2));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.66666667e-1));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(0.5));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, x), x), x);
  return v128.bitselect(small, big, f32x4.lt(f32x4.abs(x), f32x4.splat(0.5)));
}

/**
 * log(1 + x) per lane, accurate near 0 (Goldberg's trick): with u = 1 + x rounded,
 * log1p(x) = log(u) * x / (u - 1), exact to a few ulp even when x is tiny (u == 1: x
 * itself, -0 kept). log1p(-1) = -inf, x < -1 or NaN gives NaN, +inf stays +inf.
 * x / (u - 1) is near 1, so nothing overflows for large x.
 */
// @ts-ignore: decorator
@inline export function log1p_v(x: v128): v128 {
  const u = f32x4.add(f32x4.splat(1.0), x);
  const d = f32x4.sub(u, f32x4.splat(1.0));
  let r = f32x4.mul(log_v(u), f32x4.div(x, d));
  r = v128.bitselect(x, r, f32x4.eq(d, f32x4.splat(0.0)));
  return v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
}

/** Scalar versions (tails of loops): lane 0 of the vector function. */
// @ts-ignore: decorator
@inline export function exp_s(x: f32): f32 {
  return f32x4.extract_lane(exp_v(f32x4.splat(x)), 0);
}
// @ts-ignore: decorator
@inline export function log_s(x: f32): f32 {
  return f32x4.extract_lane(log_v(f32x4.splat(x)), 0);
}

/**
 * e^(-u^2) with u^2's rounding error removed: u = h + l with h holding 12 significant
 * bits, so h*h is exact, and e^(-u^2) = e^(-h^2) * e^(-(2h + l) l).
 */
// @ts-ignore: decorator
@inline export function exp_neg_sq(u: v128): v128 {
  const h = v128.and(u, i32x4.splat(0xfffff000));
  const l = f32x4.sub(u, h);
  return f32x4.mul(exp_v(f32x4.neg(f32x4.mul(h, h))), exp_v(f32x4.neg(f32x4.mul(f32x4.add(f32x4.add(h, h), l), l))));
}

/**
 * erfc per lane (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7 for every x),
 * the e^(-z^2) factor taken from exp_neg_sq so the far tail keeps its relative accuracy.
 */
// @ts-ignore: decorator
@inline export function erfc_v(x: v128): v128 {
  // erfc(10.5) < 1e-49 underflows to 0 in f32: clamping keeps inf - inf out of exp_neg_sq
  const z = f32x4.pmin(f32x4.abs(x), f32x4.splat(10.5)); // pmin: one instruction, and NaN stays NaN
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), z)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.26551223));
  const ans = f32x4.mul(f32x4.mul(t, exp_neg_sq(z)), exp_v(p));
  return v128.bitselect(ans, f32x4.sub(f32x4.splat(2), ans), f32x4.ge(x, f32x4.splat(0)));
}

/**
 * erf per lane (the Erf kernel): for |x| < 0.5 its odd series (2/sqrt(pi)) (x - x^3/3 + x^5/10 -
 * x^7/42 + x^9/216 - x^11/1320), truncated below 3e-8 relative, so small x keeps its relative
 * accuracy; beyond, sign(x) (1 - erfc(|x|)), where erf >= 0.52 and nothing cancels. Not
 * inlined: three exps, and the unary loop's body and tail would each carry a copy (4 kB).
 */
export function erf_v(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(<f32>(-1.0 / 1320.0));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(<f32>(1.0 / 216.0)));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(<f32>(-1.0 / 42.0)));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(<f32>(1.0 / 10.0)));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(<f32>(-1.0 / 3.0)));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.0));
  const small = f32x4.mul(f32x4.mul(p, x), f32x4.splat(<f32>1.1283791670955126));
  const a = f32x4.abs(x);
  const big = f32x4.sub(f32x4.splat(1.0), erfc_v(a));
  // copy x's sign onto the large-|x| value (NaN stays NaN: erfc_v(NaN) is NaN)
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.5)));
}
