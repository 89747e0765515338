/**
 * Special functions the activation kernels need, written out so that every backend's
 * oracle gives the same digits (JavaScript has no Math.erf).
 *
 * Measured against CPython's libm over [-30, 30]: erf within 8e-16 relative, erfc within
 * 9e-15 relative (test/ops/activation.test.ts pins a table of those values):
 * - |x| < 2: the everywhere-positive series
 *     erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} 2^n x^(2n+1) / (1*3*5*...*(2n+1)),
 *   whose terms never cancel (unlike the Taylor series in powers of -x^2);
 * - erfc for |x| >= 1.5 and erf for |x| >= 2: Laplace's continued fraction for erfc,
 *   evaluated by the modified Lentz method (under 100 terms),
 *     erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
 *   so erfc keeps its relative accuracy far into the tail where 1 - erf(x) would round to 0.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)
const SERIES_LIMIT = 2;
/** Below this, erfc = 1 - erf loses under 2 digits; above, the continued fraction needs < 100 terms. */
const CF_LIMIT = 1.5;

/** erf(x) by the positive series, for |x| < SERIES_LIMIT. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * exp(-x^2) without the rounding error of x*x (which grows like x^2 * 2^-53): split x
 * into s (24 significant bits, so s*s is exact) and x - s.
 */
function expMinusSquare(x: number): number {
  const s = Math.fround(x);
  return Math.exp(-s * s) * Math.exp((s - x) * (s + x));
}

/** erfc(x) by the continued fraction, for x >= CF_LIMIT. */
function erfcContinuedFraction(x: number): number {
  if (x > 27.3) return 0; // exp(-x^2) is below the smallest subnormal double
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 1000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (expMinusSquare(x) * ONE_OVER_SQRT_PI) / f;
}

/** The error function. erf(NaN) = NaN, erf(+-Infinity) = +-1. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return erfSeries(x);
  const r = 1 - erfcContinuedFraction(ax);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 - erf(x), accurate in the tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= CF_LIMIT) return erfcContinuedFraction(x);
  if (x <= -CF_LIMIT) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}
