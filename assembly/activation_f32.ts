// Activation kernels (float32, SIMD): y = f(x) and dx = dy f'(saved) for the codes of
// ACTIVATION_OP (src/kernels/wasm_abi.ts, generated into ./abi). The contracts are those
// of src/kernels/activation.ts.

import { ACTIVATION_OP_RELU, ACTIVATION_OP_LEAKY_RELU, ACTIVATION_OP_ELU, ACTIVATION_OP_SIGMOID, ACTIVATION_OP_TANH, ACTIVATION_OP_STEP, ACTIVATION_OP_GELU, ACTIVATION_OP_GELU_TANH } from './abi';
import { exp_v, tanh_v, sigmoid_v, expm1_v, erfc_v, exp_neg_sq } from './math_f32x4';
import { ld, st, spl } from './vec_f32';

// @ts-ignore: decorator
@inline const SQRT1_2: f32 = 0.7071067811865476;
// @ts-ignore: decorator
@inline const INV_SQRT_PI: f32 = 0.5641895835477563; // 1/sqrt(pi)
// @ts-ignore: decorator
@inline const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
// @ts-ignore: decorator
@inline const GELU_C: f32 = 0.044715;


// @ts-ignore: decorator
@inline function act_v(op: i32, x: v128, alpha: v128): v128 {
  const zero = spl(0);
  switch (op) {
    // max(x, 0) keeps NaN and maps -0 to 0, like the oracle.
    case ACTIVATION_OP_RELU: return f32x4.max(x, zero);
    case ACTIVATION_OP_LEAKY_RELU: return v128.bitselect(x, f32x4.mul(alpha, x), f32x4.gt(x, zero));
    case ACTIVATION_OP_ELU: return v128.bitselect(x, f32x4.mul(alpha, expm1_v(x)), f32x4.gt(x, zero));
    case ACTIVATION_OP_SIGMOID: return sigmoid_v(x);
    case ACTIVATION_OP_TANH: return tanh_v(x);
    case ACTIVATION_OP_STEP: {
      // 1 for x >= 0, 0 for x < 0, NaN stays NaN
      const r = v128.and(f32x4.ge(x, zero), spl(1));
      return v128.bitselect(x, r, f32x4.ne(x, x));
    }
    case ACTIVATION_OP_GELU: {
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

/** y = f(x) for the ACTIVATION_OP codes (alpha: the LeakyRelu slope, the Elu scale). */
export function activation_f32(op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  switch (op) {
    case ACTIVATION_OP_RELU: act_loop(ACTIVATION_OP_RELU, x, y, n, alpha); break;
    case ACTIVATION_OP_LEAKY_RELU: act_loop(ACTIVATION_OP_LEAKY_RELU, x, y, n, alpha); break;
    case ACTIVATION_OP_ELU: act_loop(ACTIVATION_OP_ELU, x, y, n, alpha); break;
    case ACTIVATION_OP_SIGMOID: act_loop(ACTIVATION_OP_SIGMOID, x, y, n, alpha); break;
    case ACTIVATION_OP_TANH: act_loop(ACTIVATION_OP_TANH, x, y, n, alpha); break;
    case ACTIVATION_OP_STEP: act_loop(ACTIVATION_OP_STEP, x, y, n, alpha); break;
    case ACTIVATION_OP_GELU: act_loop(ACTIVATION_OP_GELU, x, y, n, alpha); break;
    default: act_loop(ACTIVATION_OP_GELU_TANH, x, y, n, alpha); break;
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
    case ACTIVATION_OP_RELU: return v128.and(dy, f32x4.gt(s, zero));
    case ACTIVATION_OP_LEAKY_RELU: return v128.bitselect(dy, f32x4.mul(alpha, dy), f32x4.gt(s, zero));
    case ACTIVATION_OP_ELU: return v128.bitselect(dy, f32x4.mul(f32x4.mul(dy, alpha), exp_v(s)), f32x4.gt(s, zero));
    case ACTIVATION_OP_SIGMOID: return f32x4.mul(f32x4.mul(dy, s), f32x4.sub(one, s));
    case ACTIVATION_OP_TANH: return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(s, s)));
    case ACTIVATION_OP_GELU: {
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

/** Gradient kernels (codes RELU, LEAKY_RELU, ELU, SIGMOID, TANH, GELU, GELU_TANH of ACTIVATION_OP). */
export function activation_grad_f32(op: i32, dy: usize, s: usize, dx: usize, n: i32, alpha: f32): void {
  switch (op) {
    case ACTIVATION_OP_RELU: act_grad_loop(ACTIVATION_OP_RELU, dy, s, dx, n, alpha); break;
    case ACTIVATION_OP_LEAKY_RELU: act_grad_loop(ACTIVATION_OP_LEAKY_RELU, dy, s, dx, n, alpha); break;
    case ACTIVATION_OP_ELU: act_grad_loop(ACTIVATION_OP_ELU, dy, s, dx, n, alpha); break;
    case ACTIVATION_OP_SIGMOID: act_grad_loop(ACTIVATION_OP_SIGMOID, dy, s, dx, n, alpha); break;
    case ACTIVATION_OP_TANH: act_grad_loop(ACTIVATION_OP_TANH, dy, s, dx, n, alpha); break;
    case ACTIVATION_OP_GELU: act_grad_loop(ACTIVATION_OP_GELU, dy, s, dx, n, alpha); break;
    default: act_grad_loop(ACTIVATION_OP_GELU_TANH, dy, s, dx, n, alpha); break;
  }
}
