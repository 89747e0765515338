/**
 * Pooling over NHWC images: max, average, min and the global variants. Pooling has no
 * learnable parameters; the window size and stride are hyper-parameters (stride
 * defaults to the window size, padding to 'valid').
 *
 * Conventions: padded cells never win a max; at a tie the gradient goes to the first
 * maximum in row-major window order; average pooling divides by the number of real
 * cells (countIncludePad false, the Keras/TF default) or by the window size.
 */
import { record } from '../autograd/tape.js';
import { computePool2DInfo, type PoolOpts } from '../kernels/conv_info.js';
import { run1 } from '../registry/engine.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { neg } from './elementwise.js';
import { max, mean } from './reduce.js';

export type { PoolOpts } from '../kernels/conv_info.js';
export interface AvgPoolOpts extends PoolOpts {
  /** Divide by the full window size, padding included (default false: only real cells count). */
  countIncludePad?: boolean;
}

function checkX(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, received ${typeof x}`);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: x must be float32 or float64, received ${x.dtype}`);
}

const asOpts = <T extends PoolOpts>(o: T | number): T => (typeof o === 'number' ? ({ size: o } as T) : o);

function maxPoolCore(op: string, x: Tensor, opts: PoolOpts | number): Tensor {
  checkX(op, x);
  const pool = computePool2DInfo(op, x.shape, asOpts(opts));
  const y = run1('MaxPool2D', [x], { pool });
  return record(op, [x], y, (dy) => [run1('MaxPool2DGrad', [dy, x], { pool })]);
}

/** Max pooling: x [N,H,W,C] -> [N,OH,OW,C]. `opts` is { size, strides?, padding?, dilations? } or just the size. */
export function maxPool2d(x: Tensor, opts: PoolOpts | number): Tensor {
  return maxPoolCore('maxPool2d', x, opts);
}

/** Min pooling, -maxPool(-x): ties send the gradient to the first minimum. */
export function minPool2d(x: Tensor, opts: PoolOpts | number): Tensor {
  checkX('minPool2d', x);
  return neg(maxPoolCore('minPool2d', neg(x), opts));
}

/** Average pooling: x [N,H,W,C] -> [N,OH,OW,C]. */
export function avgPool2d(x: Tensor, opts: AvgPoolOpts | number): Tensor {
  checkX('avgPool2d', x);
  const o = asOpts(opts);
  const pool = computePool2DInfo('avgPool2d', x.shape, o);
  const countIncludePad = !!o.countIncludePad;
  const y = run1('AvgPool2D', [x], { pool, countIncludePad });
  return record('avgPool2d', [x], y, (dy) => [run1('AvgPool2DGrad', [dy], { pool, countIncludePad })]);
}

function checkRank4(op: string, x: Tensor): void {
  checkX(op, x);
  if (x.rank !== 4) throw new RangeError(`${op}: x must have rank 4 (N,H,W,C), received shape ${fmtShape(x.shape)}`);
}

/** Global average pooling (GAP): the mean over H and W, x [N,H,W,C] -> [N,C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkRank4('globalAvgPool2d', x);
  return mean(x, { axes: [1, 2] });
}

/**
 * Global max pooling: the max over H and W, x [N,H,W,C] -> [N,C]. Built on the max
 * reduction, so tied maxima share the gradient equally (maxPool2d gives it to the first).
 */
export function globalMaxPool2d(x: Tensor): Tensor {
  checkRank4('globalMaxPool2d', x);
  return max(x, { axes: [1, 2] });
}
