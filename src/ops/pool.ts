/**
 * Pooling over NHWC images: max, average, min and the global variants. Pooling has no
 * learnable parameters; the window size and stride are hyper-parameters (stride
 * defaults to the window size, padding to 'valid').
 *
 * Conventions: padded cells never win a max; at a tie the gradient goes to the first
 * maximum in row-major window order; average pooling divides by the number of real
 * cells (countIncludePad false, the Keras/TF default) or by the window size.
 */
import { record } from '../autograd/reverse_mode.js';
import { computePool2DInfo, perAxis, resolveSpatial, type PoolOpts } from '../kernels/conv_info.js';
import { AvgPool2D, AvgPool2DGrad, MaxPool2D, MaxPool2DGrad } from '../kernels/pool.js';
import { outputOf } from '../registry/dispatch.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { neg } from './elementwise.js';
import { max, mean } from './reduce.js';
import { reshape } from './shape.js';
import { assertTensor } from './arg_checks.js';

export type { PoolOpts } from '../kernels/conv_info.js';
export interface AvgPoolOpts extends PoolOpts {
  /** Divide by the full window size, padding included (default false: only real cells count). */
  countIncludePad?: boolean;
}

function checkX(op: string, x: unknown): asserts x is Tensor {
  assertTensor(op, 'x', x);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: x must be float32 or float64, received ${x.dtype}`);
}

const asOpts = <T extends PoolOpts>(o: T | number): T => (typeof o === 'number' ? ({ size: o } as T) : o);

function maxPoolCore(op: string, x: Tensor, opts: PoolOpts | number): Tensor {
  checkX(op, x);
  const pool = computePool2DInfo(op, x.shape, asOpts(opts));
  const y = outputOf(MaxPool2D, [x], { pool });
  return record(op, [x], y, (dy) => [outputOf(MaxPool2DGrad, [dy, x], { pool })]);
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
  const y = outputOf(AvgPool2D, [x], { pool, countIncludePad });
  return record('avgPool2d', [x], y, (dy) => [outputOf(AvgPool2DGrad, [dy], { pool, countIncludePad })]);
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

// ---------------------------------------------------------------- 1D and 3D pooling

/**
 * Validated geometry of a pooling window over x [N, ...spatial, C] with `nsp` spatial
 * axes (same rules as 2D: every window holds at least one real cell).
 */
function poolGeometry(op: string, x: Tensor, nsp: 1 | 3, opts: PoolOpts | number) {
  checkX(op, x);
  const layout = nsp === 1 ? 'N,L,C' : 'N,D,H,W,C';
  const axes = nsp === 1 ? ['L'] : ['D', 'H', 'W'];
  if (x.rank !== nsp + 2) throw new RangeError(`${op}: x must have rank ${nsp + 2} (${layout}), received shape ${fmtShape(x.shape)}`);
  x.shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < (i === 0 ? 0 : 1)) throw new RangeError(`${op}: x must have positive integer dimensions (${layout}), received shape ${fmtShape(x.shape)}`);
  });
  const o = asOpts(opts);
  if (o === undefined || o.size === undefined) throw new RangeError(`${op}: the window size is required ({ size: ${nsp === 1 ? 'k' : '[kd, kh, kw]'} })`);
  const size = perAxis(op, 'size', o.size, nsp, 1);
  const strides = perAxis(op, 'strides', o.strides ?? size, nsp, 1);
  const dilations = perAxis(op, 'dilations', o.dilations, nsp, 1);
  const inSizes = x.shape.slice(1, nsp + 1);
  const ctx = () => ` (x shape ${fmtShape(x.shape)}, axes ${axes.join(',')}; window size ${fmtShape(size)})`;
  const { pads, outSizes } = resolveSpatial(op, inSizes, size, strides, dilations, o.padding ?? 'valid', ctx);
  for (let a = 0; a < nsp; a++) {
    for (let i = 0; i < outSizes[a]; i++) {
      let real = false;
      for (let k = 0; k < size[a] && !real; k++) {
        const at = i * strides[a] - pads[a][0] + k * dilations[a];
        real = at >= 0 && at < inSizes[a];
      }
      if (!real) throw new RangeError(`${op}: padding ${JSON.stringify(pads)} leaves window ${i} on axis ${axes[a]} with no input cell${ctx()}; use padding smaller than the window`);
    }
  }
  return { size, strides, dilations, pads, outSizes, countIncludePad: !!(o as AvgPoolOpts).countIncludePad };
}

type Pool2D = (x: Tensor, opts: AvgPoolOpts) => Tensor;

/** A 1D pool is the 2D pool of x viewed as [N, 1, L, C] with a [1, k] window. */
function pool1d(op: string, pool2d: Pool2D, x: Tensor, opts: PoolOpts | number): Tensor {
  const g = poolGeometry(op, x, 1, opts);
  const [N, L, C] = x.shape;
  const y = pool2d(reshape(x, [N, 1, L, C]), {
    size: [1, g.size[0]], strides: [1, g.strides[0]], dilations: [1, g.dilations[0]],
    padding: [[0, 0], g.pads[0]], countIncludePad: g.countIncludePad,
  });
  return reshape(y, [N, g.outSizes[0], C]);
}

/**
 * A 3D pool is separable: a window over (D, H, W) is a product of intervals, so its max
 * (or min) is the max over D of the max over (H, W), and its average with either divisor
 * (real cells, or the full window) is the average over D of the average over (H, W). Two
 * 2D pools do it, and the gradients come from theirs (ties: the first maximum in
 * row-major (d, h, w) order, as in 2D).
 */
function pool3d(op: string, pool2d: Pool2D, x: Tensor, opts: PoolOpts | number): Tensor {
  const g = poolGeometry(op, x, 3, opts);
  const [N, D, H, W, C] = x.shape;
  const [OD, OH, OW] = g.outSizes;
  const hw = pool2d(reshape(x, [N * D, H, W, C]), {
    size: [g.size[1], g.size[2]], strides: [g.strides[1], g.strides[2]], dilations: [g.dilations[1], g.dilations[2]],
    padding: [g.pads[1], g.pads[2]], countIncludePad: g.countIncludePad,
  });
  const d = pool2d(reshape(hw, [N, D, OH * OW, C]), {
    size: [g.size[0], 1], strides: [g.strides[0], 1], dilations: [g.dilations[0], 1],
    padding: [g.pads[0], [0, 0]], countIncludePad: g.countIncludePad,
  });
  return reshape(d, [N, OD, OH, OW, C]);
}

/** Max pooling of signals: x [N,L,C] -> [N,OL,C]; opts { size, strides?, padding?, dilations? } or the size. */
export function maxPool1d(x: Tensor, opts: PoolOpts | number): Tensor {
  return pool1d('maxPool1d', maxPool2d, x, opts);
}
/** Average pooling of signals: x [N,L,C] -> [N,OL,C] (countIncludePad as in avgPool2d). */
export function avgPool1d(x: Tensor, opts: AvgPoolOpts | number): Tensor {
  return pool1d('avgPool1d', avgPool2d, x, opts);
}
/** Min pooling of signals: x [N,L,C] -> [N,OL,C]. */
export function minPool1d(x: Tensor, opts: PoolOpts | number): Tensor {
  return pool1d('minPool1d', minPool2d, x, opts);
}
/** Max pooling of volumes: x [N,D,H,W,C] -> [N,OD,OH,OW,C]; size, strides, dilations per axis or one number. */
export function maxPool3d(x: Tensor, opts: PoolOpts | number): Tensor {
  return pool3d('maxPool3d', maxPool2d, x, opts);
}
/** Average pooling of volumes: x [N,D,H,W,C] -> [N,OD,OH,OW,C] (countIncludePad as in avgPool2d). */
export function avgPool3d(x: Tensor, opts: AvgPoolOpts | number): Tensor {
  return pool3d('avgPool3d', avgPool2d, x, opts);
}
/** Min pooling of volumes: x [N,D,H,W,C] -> [N,OD,OH,OW,C]. */
export function minPool3d(x: Tensor, opts: PoolOpts | number): Tensor {
  return pool3d('minPool3d', minPool2d, x, opts);
}

function checkRank(op: string, x: Tensor, rank: number, layout: string): void {
  checkX(op, x);
  if (x.rank !== rank) throw new RangeError(`${op}: x must have rank ${rank} (${layout}), received shape ${fmtShape(x.shape)}`);
}
/** Mean over L: x [N,L,C] -> [N,C]. */
export function globalAvgPool1d(x: Tensor): Tensor {
  checkRank('globalAvgPool1d', x, 3, 'N,L,C');
  return mean(x, { axes: [1] });
}
/** Max over L: x [N,L,C] -> [N,C] (tied maxima share the gradient, as in globalMaxPool2d). */
export function globalMaxPool1d(x: Tensor): Tensor {
  checkRank('globalMaxPool1d', x, 3, 'N,L,C');
  return max(x, { axes: [1] });
}
/** Mean over D, H and W: x [N,D,H,W,C] -> [N,C]. */
export function globalAvgPool3d(x: Tensor): Tensor {
  checkRank('globalAvgPool3d', x, 5, 'N,D,H,W,C');
  return mean(x, { axes: [1, 2, 3] });
}
/** Max over D, H and W: x [N,D,H,W,C] -> [N,C]. */
export function globalMaxPool3d(x: Tensor): Tensor {
  checkRank('globalMaxPool3d', x, 5, 'N,D,H,W,C');
  return max(x, { axes: [1, 2, 3] });
}
