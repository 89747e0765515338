/** Argument checks shared by the neural-network op files (not part of the public API). */
import { isFloat } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Throws unless `x` is a float tensor (activations are not defined on int32 here). */
export function assertFloatTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${arg} must be a Tensor, received ${x === null ? 'null' : typeof x}`);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: ${arg} must be float32 or float64, received ${x.dtype} ${fmtShape(x.shape)}`);
}
