/**
 * Elementwise arithmetic with NumPy broadcasting, and the basic unary maths.
 * Each op: the call into the kernel registry, then its gradient rule.
 */
import { record } from '../autograd/reverse_mode.js';
import { fromValues, shareStorage } from '../registry/storage.js';
import {
  Abs, Add, Affine, Cast, Clip, Cos, Div, Equal, Erf, Exp, Expm1, Fill, Floor, Greater, GreaterEqual, IsNaN, Less, LessEqual, Log, Log1p,
  Maximum, Minimum, Mul, Neg, Pow, Reciprocal, Round, Sign, Sin, Sqrt, Square, Sub, Where,
} from '../kernels/elementwise.js';
import { Sum } from '../kernels/reduce.js';
import { outputOf } from '../registry/dispatch.js';
import type { DType } from '../tensor/dtype.js';
import { isDType } from '../tensor/dtype.js';
import { broadcastShapes, broadcastedAxes, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/describe.js';
import { assertTensor } from './arg_checks.js';

export type TensorLike = Tensor | number;

/**
 * A number becomes a scalar tensor of `like`'s dtype; tensors must agree in dtype. A
 * non-integer number next to an int32 tensor is an error rather than a silent
 * truncation (cast the tensor to a float dtype first).
 */
export function asTensor(x: TensorLike, like: Tensor | DType = 'float32', op = 'op', arg = 'x'): Tensor {
  const dtype = typeof like === 'string' ? like : like.dtype;
  if (typeof x === 'number') {
    if (dtype === 'int32' && !Number.isInteger(x)) {
      throw new TypeError(`${op}: ${arg} = ${x} is not an integer but the other operand is int32; cast it to float32 or float64 first`);
    }
    if (dtype === 'int32' && (x < -2147483648 || x > 2147483647)) {
      throw new RangeError(`${op}: ${arg} = ${x} is outside the int32 range [-2147483648, 2147483647] of the other operand; cast it to float64 first`);
    }
    return fromValues([x], [], dtype);
  }
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${arg} must be a Tensor or a number, received ${describeValue(x)}`);
  assertTensor(op, arg, x);
  return x;
}

function pair(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  const ta = asTensor(a, b instanceof Tensor ? b : 'float32', op, 'a');
  const tb = asTensor(b, ta, op, 'b');
  if (ta.dtype !== tb.dtype) throw new TypeError(`${op}: dtypes differ (a is ${ta.dtype}, b is ${tb.dtype}); cast one of them first`);
  broadcastShapes(ta.shape, tb.shape, op);
  return [ta, tb];
}

/** Sum `g` down to `shape` (the adjoint of broadcasting). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const axes = broadcastedAxes(shape, g.shape);
  const s = outputOf(Sum, [g], { axes, keepDims: true });
  return shareStorage(s, shape);
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'add');
  return record('add', [x, y], outputOf(Add, [x, y]), (dy) => [unbroadcast(dy, x.shape), unbroadcast(dy, y.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'sub');
  return record('sub', [x, y], outputOf(Sub, [x, y]), (dy) => [unbroadcast(dy, x.shape), unbroadcast(neg(dy), y.shape)]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'mul');
  return record('mul', [x, y], outputOf(Mul, [x, y]), (dy) => [
    x.requiresGrad ? unbroadcast(mul(dy, y), x.shape) : null,
    y.requiresGrad ? unbroadcast(mul(dy, x), y.shape) : null,
  ]);
}

/**
 * a / b. On int32 tensors the quotient is truncated toward zero (C, Java, WGSL: 7 / 2 = 3,
 * -7 / 2 = -3) and x / 0 = 0, so integer tensors stay integers; `floorDiv` rounds toward
 * -Infinity instead (Python's //, TF.js's div on int32). Cast to a float dtype for true
 * division (PyTorch's torch.div on integers).
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'div');
  const q = outputOf(Div, [x, y]);
  // d(x/y)/dx = 1/y; d(x/y)/dy = -x/y^2 = -q/y.
  return record('div', [x, y], q, (dy) => [
    x.requiresGrad ? unbroadcast(div(dy, y), x.shape) : null,
    y.requiresGrad ? unbroadcast(neg(div(mul(dy, q), y)), y.shape) : null,
  ]);
}

/**
 * floor(a / b), rounding toward -Infinity (Python's //, torch.floor_divide, tf.floorDiv).
 * int32 in, int32 out (x // 0 = 0, like int32 division); on floats, floor of the true
 * quotient. No gradient (it is piecewise constant).
 */
export function floorDiv(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'floorDiv');
  if (x.dtype !== 'int32') return outputOf(Floor, [outputOf(Div, [x, y])]);
  // Exact for every int32 pair: the float64 quotient of two int32s floors correctly.
  const q = outputOf(Floor, [outputOf(Div, [outputOf(Cast, [x], { dtype: 'float64' }), outputOf(Cast, [y], { dtype: 'float64' })])]);
  return outputOf(Cast, [q], { dtype: 'int32' });
}

/** x ** p. d/dx = p x^(p-1); d/dp = x^p ln x (only where x > 0). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, p] = pair(a, b, 'pow');
  const y = outputOf(Pow, [x, p]);
  return record('pow', [x, p], y, (dy) => [
    x.requiresGrad ? unbroadcast(mul(dy, mul(p, pow(x, sub(p, 1)))), x.shape) : null,
    p.requiresGrad ? unbroadcast(mul(dy, mul(y, log(where(greater(x, 0), x, 1)))), p.shape) : null,
  ]);
}

/** Elementwise maximum; at ties the gradient goes to `a` (like PyTorch's max picks one side). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'maximum');
  return record('maximum', [x, y], outputOf(Maximum, [x, y]), (dy) => {
    const m = outputOf(GreaterEqual, [x, y]);
    return [unbroadcast(mul(dy, m), x.shape), unbroadcast(mul(dy, sub(1, m)), y.shape)];
  });
}

export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b, 'minimum');
  return record('minimum', [x, y], outputOf(Minimum, [x, y]), (dy) => {
    const m = outputOf(LessEqual, [x, y]);
    return [unbroadcast(mul(dy, m), x.shape), unbroadcast(mul(dy, sub(1, m)), y.shape)];
  });
}

// Comparisons: no gradient, 1/0 in the inputs' dtype.
export const greater = (a: TensorLike, b: TensorLike) => outputOf(Greater, pair(a, b, 'greater'));
export const greaterEqual = (a: TensorLike, b: TensorLike) => outputOf(GreaterEqual, pair(a, b, 'greaterEqual'));
export const less = (a: TensorLike, b: TensorLike) => outputOf(Less, pair(a, b, 'less'));
export const lessEqual = (a: TensorLike, b: TensorLike) => outputOf(LessEqual, pair(a, b, 'lessEqual'));
export const equal = (a: TensorLike, b: TensorLike) => outputOf(Equal, pair(a, b, 'equal'));
export function isNaN(x: Tensor): Tensor {
  assertTensor('isNaN', 'x', x);
  return outputOf(IsNaN, [x]);
}

/** a where cond != 0, else b (broadcasting all three). Gradient flows to the chosen side. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  assertTensor('where', 'cond', cond);
  const [x, y] = pair(a, b, 'where');
  broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, 'where'), 'where: cond');
  const c = cond.dtype === x.dtype ? cond : cast(cond, x.dtype);
  return record('where', [x, y], outputOf(Where, [c, x, y]), (dy) => {
    const z = outputOf(Fill, [], { shape: [], dtype: dy.dtype, value: 0 });
    return [unbroadcast(outputOf(Where, [c, dy, z]), x.shape), unbroadcast(outputOf(Where, [c, z, dy]), y.shape)];
  });
}

/**
 * Float to int32 truncates toward zero (PyTorch's .to(torch.int32), TF.js's cast). NaN,
 * +-Infinity and values whose truncation falls outside [-2147483648, 2147483647] have no
 * int32 value: an error naming the value and its index, where typed arrays (and C) would
 * give 0 or wrap around silently. The check reads the values where they can be read
 * synchronously (ts, wasm); on webgpu the conversion runs on the GPU, which cannot raise
 * errors, and gives 0 for NaN and +-Infinity and wraps out-of-range values.
 */
function checkCastToInt32(x: Tensor): void {
  const v = x.backend.readSync(x.dataId, x.dtype);
  if (v === null) return;
  for (let i = 0; i < v.length; i++) {
    const f = v[i];
    if (f > -2147483649 && f < 2147483648) continue; // false for NaN too
    const idx: number[] = [];
    for (let d = x.rank - 1, r = i; d >= 0; d--) {
      idx.unshift(r % x.shape[d]);
      r = Math.floor(r / x.shape[d]);
    }
    throw new RangeError(
      `cast: x[${idx.join(', ')}] = ${f} (x is ${x.describe()}) has no int32 value: NaN, +-Infinity and values outside ` +
        '[-2147483648, 2147483647] cannot be cast to int32; replace them first (e.g. ck.where(ck.isNaN(x), 0, x), ck.clip(x, lo, hi))',
    );
  }
}

export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor('cast', 'x', x);
  if (!isDType(dtype)) throw new TypeError(`cast: unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  if (dtype === 'int32' && x.dtype !== 'int32') checkCastToInt32(x);
  // Same dtype: a view, still differentiable (like PyTorch's x.to(x.dtype)).
  if (x.dtype === dtype) return record('cast', [x], shareStorage(x, x.shape), (dy) => [shareStorage(dy, dy.shape)]);
  const y = outputOf(Cast, [x], { dtype });
  if (dtype === 'int32' || x.dtype === 'int32') return y;
  return record('cast', [x], y, (dy) => [outputOf(Cast, [dy], { dtype: x.dtype })]);
}

export function neg(x: Tensor): Tensor {
  assertTensor('neg', 'x', x);
  return record('neg', [x], outputOf(Neg, [x]), (dy) => [neg(dy)]);
}

/** |x|; the gradient at 0 is 0 (sign(0)). */
export function abs(x: Tensor): Tensor {
  assertTensor('abs', 'x', x);
  return record('abs', [x], outputOf(Abs, [x]), (dy) => [mul(dy, sign(x))]);
}

export function sign(x: Tensor): Tensor {
  assertTensor('sign', 'x', x);
  return outputOf(Sign, [x]);
}
export function floor(x: Tensor): Tensor {
  assertTensor('floor', 'x', x);
  return outputOf(Floor, [x]);
}
export function round(x: Tensor): Tensor {
  assertTensor('round', 'x', x);
  return outputOf(Round, [x]);
}

/**
 * Transcendental maps (exp, expm1, log, log1p, sqrt, reciprocal, sin, cos) are float functions: an int32
 * input is promoted to float32 first, as PyTorch and TF.js do, instead of truncating.
 */
function floatInput(op: string, x: Tensor): Tensor {
  assertTensor(op, 'x', x);
  return x.dtype === 'int32' ? outputOf(Cast, [x], { dtype: 'float32' }) : x;
}

export function exp(x: Tensor): Tensor {
  x = floatInput('exp', x);
  const y = outputOf(Exp, [x]);
  return record('exp', [x], y, (dy) => [mul(dy, y)]);
}

export function log(x: Tensor): Tensor {
  x = floatInput('log', x);
  return record('log', [x], outputOf(Log, [x]), (dy) => [div(dy, x)]);
}

/** The error function (torch.erf, ONNX Erf), about 1e-7 relative in float32 for every x. d/dx = 2/sqrt(pi) e^(-x^2). */
export function erf(x: Tensor): Tensor {
  x = floatInput('erf', x);
  return record('erf', [x], outputOf(Erf, [x]), (dy) => [mul(dy, affine(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))]);
}

/**
 * e^x - 1, accurate near 0 where exp(x) - 1 cancels (torch.expm1, tf.expm1).
 * d/dx = e^x, taken from exp(x) rather than y + 1 (which rounds to 0 in the negative tail).
 */
export function expm1(x: Tensor): Tensor {
  x = floatInput('expm1', x);
  return record('expm1', [x], outputOf(Expm1, [x]), (dy) => [mul(dy, exp(x))]);
}

/**
 * log(1 + x), accurate near 0 where log(1 + x) loses x's low digits (torch.log1p,
 * tf.log1p): log1p(-1) = -Infinity, log1p(x < -1) = NaN. d/dx = 1 / (1 + x).
 */
export function log1p(x: Tensor): Tensor {
  x = floatInput('log1p', x);
  return record('log1p', [x], outputOf(Log1p, [x]), (dy) => [div(dy, affine(x, 1, 1))]);
}

export function sqrt(x: Tensor): Tensor {
  x = floatInput('sqrt', x);
  const y = outputOf(Sqrt, [x]);
  return record('sqrt', [x], y, (dy) => [div(dy, mul(y, 2))]);
}

export function square(x: Tensor): Tensor {
  assertTensor('square', 'x', x);
  return record('square', [x], outputOf(Square, [x]), (dy) => [mul(dy, mul(x, 2))]);
}

export function reciprocal(x: Tensor): Tensor {
  x = floatInput('reciprocal', x);
  const y = outputOf(Reciprocal, [x]);
  return record('reciprocal', [x], y, (dy) => [neg(mul(dy, mul(y, y)))]);
}

export function sin(x: Tensor): Tensor {
  x = floatInput('sin', x);
  return record('sin', [x], outputOf(Sin, [x]), (dy) => [mul(dy, cos(x))]);
}
export function cos(x: Tensor): Tensor {
  x = floatInput('cos', x);
  return record('cos', [x], outputOf(Cos, [x]), (dy) => [neg(mul(dy, sin(x)))]);
}

/** Clamp to [min, max]; gradient 1 where min <= x <= max (the bounds included, as PyTorch's clamp), 0 outside. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  assertTensor('clip', 'x', x);
  if (min > max) throw new RangeError(`clip: min (${min}) must not exceed max (${max})`);
  return record('clip', [x], outputOf(Clip, [x], { min, max }), (dy) => [mul(dy, mul(greaterEqual(x, min), lessEqual(x, max)))]);
}

/** x * scale + offset with plain numbers (one kernel, no scalar tensors). */
export function affine(x: Tensor, scale: number, offset = 0): Tensor {
  assertTensor('affine', 'x', x);
  return record('affine', [x], outputOf(Affine, [x], { scale, offset }), (dy) => [outputOf(Affine, [dy], { scale, offset: 0 })]);
}
