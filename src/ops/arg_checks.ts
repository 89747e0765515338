/**
 * Argument checks shared by the op files (not part of the public API). Every public op
 * checks its tensor arguments here before touching them, so a wrong argument is named by
 * the op and the argument ("relu: x must be a Tensor, received undefined") instead of
 * failing inside the engine ("Cannot read properties of undefined").
 */
import { isFloat } from '../tensor/dtype.js';
import { describeValue } from '../tensor/describe.js';
import { fmtShape } from '../tensor/shape.js';
import { DisposedTensorError, Tensor } from '../tensor/tensor.js';

/** Throws unless `x` is a live Tensor (not disposed). */
export function assertTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${arg} must be a Tensor, received ${describeValue(x)}`);
  if (x.isDisposed) throw new DisposedTensorError(x, `${op}: ${arg} (${x.describe()}) was disposed and cannot be used`);
}

/** Throws unless `xs` is a non-empty array of live Tensors; names the bad entry. */
export function assertTensorList(op: string, arg: string, xs: unknown): asserts xs is Tensor[] {
  if (!Array.isArray(xs)) throw new TypeError(`${op}: ${arg} must be an array of Tensors, received ${describeValue(xs)}`);
  if (xs.length === 0) throw new RangeError(`${op}: ${arg} must hold at least one tensor, received an empty array`);
  xs.forEach((x, i) => assertTensor(op, `${arg}[${i}]`, x));
}

/** Throws unless `x` is a float tensor (activations are not defined on int32 here). */
export function assertFloatTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  assertTensor(op, arg, x);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: ${arg} must be float32 or float64, received ${x.dtype} ${fmtShape(x.shape)}`);
}
