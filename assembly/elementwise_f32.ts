// Elementwise float32 kernels: broadcasting binary maps (arithmetic and comparisons),
// unary maps, and select (Where). Pointers are byte offsets, sizes element counts.
//
// Broadcasting: the host collapses the output shape to at most 4 dims [n0,n1,n2,n3]
// (merging neighbours that broadcast alike) and passes each input's element strides
// per dim (0 where that input is broadcast). The output is contiguous. Because the
// inputs are contiguous, the innermost stride of each input is 0 or 1, and the inner
// loop runs in SIMD for the three cases that occur: both 1 (same shape, bias add
// [..,C] + [C]), a 1 and b 0 (tensor op scalar, x - rowMax), a 0 and b 1.

import {
  BINARY_OP_ADD, BINARY_OP_SUB, BINARY_OP_MUL, BINARY_OP_DIV, BINARY_OP_MAXIMUM, BINARY_OP_MINIMUM, BINARY_OP_GREATER,
  BINARY_OP_GREATER_EQUAL, BINARY_OP_LESS, BINARY_OP_LESS_EQUAL, BINARY_OP_EQUAL, BINARY_OP_POW,
  UNARY_OP_NEG, UNARY_OP_ABS, UNARY_OP_EXP, UNARY_OP_LOG, UNARY_OP_SQRT, UNARY_OP_SQUARE, UNARY_OP_RECIPROCAL, UNARY_OP_SIGN,
  UNARY_OP_AFFINE, UNARY_OP_CLIP, UNARY_OP_FLOOR, UNARY_OP_ROUND, UNARY_OP_IS_NAN, UNARY_OP_SIN, UNARY_OP_COS, UNARY_OP_EXPM1, UNARY_OP_LOG1P, UNARY_OP_ERF,
} from './abi';
import { exp_v, log_v, expm1_v, log1p_v, erf_v } from './math_f32x4';


/**
 * JavaScript's Math.pow in f64 (AssemblyScript's is musl's, within 1 ulp), rounded to
 * f32 like the oracle. JS differs from C where the result would hide a NaN: x ** NaN is
 * NaN (also for x = 1), and (+-1) ** (+-Infinity) is NaN.
 */
// @ts-ignore: decorator
@inline function pow_js(a: f32, b: f32): f32 {
  if (isNaN(b) || (Mathf.abs(a) == 1 && !isFinite(b))) return NaN;
  return <f32>Math.pow(<f64>a, <f64>b);
}

// @ts-ignore: decorator
@inline function bin_v(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1.0);
  switch (op) {
    case BINARY_OP_ADD: return f32x4.add(a, b);
    case BINARY_OP_SUB: return f32x4.sub(a, b);
    case BINARY_OP_MUL: return f32x4.mul(a, b);
    case BINARY_OP_DIV: return f32x4.div(a, b);
    // f32x4.max/min propagate NaN, like Math.max/min.
    case BINARY_OP_MAXIMUM: return f32x4.max(a, b);
    case BINARY_OP_MINIMUM: return f32x4.min(a, b);
    case BINARY_OP_GREATER: return v128.and(f32x4.gt(a, b), one);
    case BINARY_OP_GREATER_EQUAL: return v128.and(f32x4.ge(a, b), one);
    case BINARY_OP_LESS: return v128.and(f32x4.lt(a, b), one);
    case BINARY_OP_LESS_EQUAL: return v128.and(f32x4.le(a, b), one);
    case BINARY_OP_EQUAL: return v128.and(f32x4.eq(a, b), one);
    default: {
      // BINARY_OP_POW: lane by lane in f64
      let r = f32x4.replace_lane(a, 0, pow_js(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
      r = f32x4.replace_lane(r, 1, pow_js(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
      r = f32x4.replace_lane(r, 2, pow_js(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
      return f32x4.replace_lane(r, 3, pow_js(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
    }
  }
}

// @ts-ignore: decorator
@inline function bin_s(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case BINARY_OP_ADD: return a + b;
    case BINARY_OP_SUB: return a - b;
    case BINARY_OP_MUL: return a * b;
    case BINARY_OP_DIV: return a / b;
    case BINARY_OP_MAXIMUM: return Mathf.max(a, b);
    case BINARY_OP_MINIMUM: return Mathf.min(a, b);
    case BINARY_OP_GREATER: return a > b ? 1 : 0;
    case BINARY_OP_GREATER_EQUAL: return a >= b ? 1 : 0;
    case BINARY_OP_LESS: return a < b ? 1 : 0;
    case BINARY_OP_LESS_EQUAL: return a <= b ? 1 : 0;
    case BINARY_OP_EQUAL: return a == b ? 1 : 0;
    default: return pow_js(a, b);
  }
}

/** One output row of n elements; sa, sb are the inputs' inner strides (0 or 1). */
// @ts-ignore: decorator
@inline function bin_row(op: i32, a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      v128.store(y + o, bin_v(op, v128.load(a + o), v128.load(b + o)));
      v128.store(y + o, bin_v(op, v128.load(a + o, 16), v128.load(b + o, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, bin_v(op, v128.load(a + o), v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, bin_s(op, load<f32>(a + o), load<f32>(b + o)));
    }
  } else if (sa == 1 && sb == 0) {
    const s = load<f32>(b);
    const sv = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, bin_v(op, v128.load(a + o), sv));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, bin_s(op, load<f32>(a + o), s));
    }
  } else if (sa == 0 && sb == 1) {
    const s = load<f32>(a);
    const sv = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, bin_v(op, sv, v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, bin_s(op, s, load<f32>(b + o)));
    }
  } else {
    for (; i < n; i++) {
      store<f32>(y + (<usize>i << 2), bin_s(op, load<f32>(a + ((<usize>(i * sa)) << 2)), load<f32>(b + ((<usize>(i * sb)) << 2))));
    }
  }
}

// @ts-ignore: decorator
@inline function bin_nd(
  op: i32, a: usize, b: usize, y: usize,
  n0: i32, n1: i32, n2: i32, n3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32,
  sb0: i32, sb1: i32, sb2: i32, sb3: i32,
): void {
  let yo: usize = y;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const ao = a + (<usize>(i0 * sa0 + i1 * sa1 + i2 * sa2) << 2);
        const bo = b + (<usize>(i0 * sb0 + i1 * sb1 + i2 * sb2) << 2);
        bin_row(op, ao, bo, yo, n3, sa3, sb3);
        yo += <usize>n3 << 2;
      }
    }
  }
}

/**
 * y[i0,i1,i2,i3] = a[sa . i] op b[sb . i] for the op codes BINARY_OP_* (abi.ts); comparisons give
 * 1.0 or 0.0. BINARY_OP_POW runs lane by lane in f64 (no SIMD pow), the others in f32x4.
 */
export function binary_f32(
  op: i32, a: usize, b: usize, y: usize,
  n0: i32, n1: i32, n2: i32, n3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32,
  sb0: i32, sb1: i32, sb2: i32, sb3: i32,
): void {
  // Each case inlines a loop specialised for one op (op is a constant inside it).
  switch (op) {
    case BINARY_OP_ADD: bin_nd(BINARY_OP_ADD, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_SUB: bin_nd(BINARY_OP_SUB, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_MUL: bin_nd(BINARY_OP_MUL, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_DIV: bin_nd(BINARY_OP_DIV, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_MAXIMUM: bin_nd(BINARY_OP_MAXIMUM, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_MINIMUM: bin_nd(BINARY_OP_MINIMUM, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_GREATER: bin_nd(BINARY_OP_GREATER, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_GREATER_EQUAL: bin_nd(BINARY_OP_GREATER_EQUAL, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_LESS: bin_nd(BINARY_OP_LESS, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_LESS_EQUAL: bin_nd(BINARY_OP_LESS_EQUAL, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    case BINARY_OP_EQUAL: bin_nd(BINARY_OP_EQUAL, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
    default: bin_nd(BINARY_OP_POW, a, b, y, n0, n1, n2, n3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3); break;
  }
}


/** sin or cos per lane in f64 (musl's, accurate for every argument), rounded to f32. */
// @ts-ignore: decorator
@inline function trig_v(isCos: bool, x: v128): v128 {
  let r = x;
  r = f32x4.replace_lane(r, 0, <f32>(isCos ? Math.cos(<f64>f32x4.extract_lane(x, 0)) : Math.sin(<f64>f32x4.extract_lane(x, 0))));
  r = f32x4.replace_lane(r, 1, <f32>(isCos ? Math.cos(<f64>f32x4.extract_lane(x, 1)) : Math.sin(<f64>f32x4.extract_lane(x, 1))));
  r = f32x4.replace_lane(r, 2, <f32>(isCos ? Math.cos(<f64>f32x4.extract_lane(x, 2)) : Math.sin(<f64>f32x4.extract_lane(x, 2))));
  return f32x4.replace_lane(r, 3, <f32>(isCos ? Math.cos(<f64>f32x4.extract_lane(x, 3)) : Math.sin(<f64>f32x4.extract_lane(x, 3))));
}

// @ts-ignore: decorator
@inline function un_v(op: i32, x: v128, p0: v128, p1: v128): v128 {
  const one = f32x4.splat(1.0);
  switch (op) {
    case UNARY_OP_NEG: return f32x4.neg(x);
    case UNARY_OP_ABS: return f32x4.abs(x);
    case UNARY_OP_EXP: return exp_v(x);
    case UNARY_OP_LOG: return log_v(x);
    case UNARY_OP_SQRT: return f32x4.sqrt(x);
    case UNARY_OP_SQUARE: return f32x4.mul(x, x);
    case UNARY_OP_RECIPROCAL: return f32x4.div(one, x);
    case UNARY_OP_SIGN: {
      // 1, -1, or x itself (keeps 0, -0 and NaN)
      const pos = f32x4.gt(x, f32x4.splat(0.0));
      const neg = f32x4.lt(x, f32x4.splat(0.0));
      return v128.bitselect(one, v128.bitselect(f32x4.splat(-1.0), x, neg), pos);
    }
    case UNARY_OP_AFFINE: return f32x4.add(f32x4.mul(x, p0), p1);
    case UNARY_OP_CLIP: return f32x4.min(f32x4.max(x, p0), p1);
    case UNARY_OP_FLOOR: return f32x4.floor(x);
    case UNARY_OP_ROUND: {
      // JavaScript's Math.round: halves go up. x - floor(x) is exact in f32.
      const f = f32x4.floor(x);
      return f32x4.add(f, v128.and(f32x4.ge(f32x4.sub(x, f), f32x4.splat(0.5)), one));
    }
    case UNARY_OP_IS_NAN: return v128.and(f32x4.ne(x, x), one);
    case UNARY_OP_SIN: return trig_v(false, x);
    case UNARY_OP_EXPM1: return expm1_v(x);
    case UNARY_OP_LOG1P: return log1p_v(x);
    case UNARY_OP_ERF: return erf_v(x);
    default: return trig_v(true, x);
  }
}

// @ts-ignore: decorator
@inline function un_loop(op: i32, x: usize, y: usize, n: i32, p0: f32, p1: f32): void {
  const v0 = f32x4.splat(p0), v1 = f32x4.splat(p1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, un_v(op, v128.load(x + o), v0, v1));
  }
  if (i < n) {
    // Tail: pad into a vector so the tail gets exactly the SIMD lane arithmetic.
    let t = f32x4.splat(0.0);
    const r = n - i;
    const o = <usize>i << 2;
    t = f32x4.replace_lane(t, 0, load<f32>(x + o));
    if (r > 1) t = f32x4.replace_lane(t, 1, load<f32>(x + o, 4));
    if (r > 2) t = f32x4.replace_lane(t, 2, load<f32>(x + o, 8));
    const u = un_v(op, t, v0, v1);
    store<f32>(y + o, f32x4.extract_lane(u, 0));
    if (r > 1) store<f32>(y + o, f32x4.extract_lane(u, 1), 4);
    if (r > 2) store<f32>(y + o, f32x4.extract_lane(u, 2), 8);
  }
}

/**
 * y[i] = f(x[i]) for the unary op codes UNARY_OP_* (abi.ts, from src/kernels/wasm_abi.ts). UNARY_OP_AFFINE: x*p0 + p1; UNARY_OP_CLIP: min(max(x, p0), p1)
 * (NaN stays NaN).
 */
export function unary_f32(op: i32, x: usize, y: usize, n: i32, p0: f32, p1: f32): void {
  switch (op) {
    case UNARY_OP_NEG: un_loop(UNARY_OP_NEG, x, y, n, p0, p1); break;
    case UNARY_OP_ABS: un_loop(UNARY_OP_ABS, x, y, n, p0, p1); break;
    case UNARY_OP_EXP: un_loop(UNARY_OP_EXP, x, y, n, p0, p1); break;
    case UNARY_OP_LOG: un_loop(UNARY_OP_LOG, x, y, n, p0, p1); break;
    case UNARY_OP_SQRT: un_loop(UNARY_OP_SQRT, x, y, n, p0, p1); break;
    case UNARY_OP_SQUARE: un_loop(UNARY_OP_SQUARE, x, y, n, p0, p1); break;
    case UNARY_OP_RECIPROCAL: un_loop(UNARY_OP_RECIPROCAL, x, y, n, p0, p1); break;
    case UNARY_OP_SIGN: un_loop(UNARY_OP_SIGN, x, y, n, p0, p1); break;
    case UNARY_OP_AFFINE: un_loop(UNARY_OP_AFFINE, x, y, n, p0, p1); break;
    case UNARY_OP_CLIP: un_loop(UNARY_OP_CLIP, x, y, n, p0, p1); break;
    case UNARY_OP_FLOOR: un_loop(UNARY_OP_FLOOR, x, y, n, p0, p1); break;
    case UNARY_OP_ROUND: un_loop(UNARY_OP_ROUND, x, y, n, p0, p1); break;
    case UNARY_OP_IS_NAN: un_loop(UNARY_OP_IS_NAN, x, y, n, p0, p1); break;
    case UNARY_OP_SIN: un_loop(UNARY_OP_SIN, x, y, n, p0, p1); break;
    case UNARY_OP_EXPM1: un_loop(UNARY_OP_EXPM1, x, y, n, p0, p1); break;
    case UNARY_OP_LOG1P: un_loop(UNARY_OP_LOG1P, x, y, n, p0, p1); break;
    case UNARY_OP_ERF: un_loop(UNARY_OP_ERF, x, y, n, p0, p1); break;
    default: un_loop(UNARY_OP_COS, x, y, n, p0, p1); break;
  }
}

/**
 * Select: y = c != 0 ? a : b, all three broadcast to the contiguous output
 * [n0,n1,n2,n3] with per-input strides (inner strides 0 or 1).
 */
export function where_f32(
  c: usize, a: usize, b: usize, y: usize,
  n0: i32, n1: i32, n2: i32, n3: i32,
  sc0: i32, sc1: i32, sc2: i32, sc3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32,
  sb0: i32, sb1: i32, sb2: i32, sb3: i32,
): void {
  const zero = f32x4.splat(0.0);
  let yo: usize = y;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const co = c + (<usize>(i0 * sc0 + i1 * sc1 + i2 * sc2) << 2);
        const ao = a + (<usize>(i0 * sa0 + i1 * sa1 + i2 * sa2) << 2);
        const bo = b + (<usize>(i0 * sb0 + i1 * sb1 + i2 * sb2) << 2);
        // a stride-0 operand is one value for the whole row
        const cs = f32x4.splat(load<f32>(co)), as = f32x4.splat(load<f32>(ao)), bs = f32x4.splat(load<f32>(bo));
        let i = 0;
        for (; i + 4 <= n3; i += 4) {
          const o = <usize>i << 2;
          const cv = sc3 ? v128.load(co + o) : cs;
          const av = sa3 ? v128.load(ao + o) : as;
          const bv = sb3 ? v128.load(bo + o) : bs;
          // NaN != 0, so a NaN condition picks a (as the oracle's `c !== 0`).
          v128.store(yo + o, v128.bitselect(av, bv, f32x4.ne(cv, zero)));
        }
        for (; i < n3; i++) {
          const cv = load<f32>(co + (<usize>(i * sc3) << 2));
          const v = cv != 0 ? load<f32>(ao + (<usize>(i * sa3) << 2)) : load<f32>(bo + (<usize>(i * sb3) << 2));
          store<f32>(yo + (<usize>i << 2), v);
        }
        yo += <usize>n3 << 2;
      }
    }
  }
}
