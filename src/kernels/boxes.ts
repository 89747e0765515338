/**
 * Box kernels and the box geometry shared by the box ops (nms runs on the host) and every
 * backend's IoU kernel. Boxes are corners (x1, y1, x2, y2), one box per row of a [N, 4]
 * tensor.
 *
 *   IoU   y[n, m] = area(a_n ∩ b_m) / area(a_n ∪ b_m)  for a [N, 4], b [M, 4] -> y [N, M],
 *         0 where the union is empty, NaN where a coordinate is NaN.
 *
 * Not differentiable (the ops record no gradient).
 */
import { allocArray } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import { defineKernel, expectSameDtype } from './kernel.js';

/**
 * Intersection over union of two corner boxes (x1, y1, x2, y2). Corners may come in
 * either order (each box is normalised with min/max first, as TensorFlow does). A zero
 * union (two empty boxes) gives 0, never NaN; NaN coordinates give NaN.
 */
export function boxIoU(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax1 = Math.min(a[i], a[i + 2]), ax2 = Math.max(a[i], a[i + 2]);
  const ay1 = Math.min(a[i + 1], a[i + 3]), ay2 = Math.max(a[i + 1], a[i + 3]);
  const bx1 = Math.min(b[j], b[j + 2]), bx2 = Math.max(b[j], b[j + 2]);
  const by1 = Math.min(b[j + 1], b[j + 3]), by2 = Math.max(b[j + 1], b[j + 3]);
  const iw = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1));
  const ih = Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  if (Number.isNaN(union) || Number.isNaN(inter)) return NaN;
  return union > 0 ? inter / union : 0;
}

/** IoU of every box of a [N, 4] with every box of b [M, 4] (corners, same float dtype) -> [N, M]. */
export const IoU = defineKernel({
  name: 'IoU',
  inputs: ['a', 'b'],
  check([a, b]) {
    for (const [arg, t] of [['a', a], ['b', b]] as const) {
      if (t.shape.length !== 2 || t.shape[1] !== 4) throw new RangeError(`IoU: ${arg} must have shape [N, 4] (x1, y1, x2, y2), received ${fmtShape(t.shape)}`);
    }
    expectSameDtype('IoU', ['a', 'b'], [a, b]);
  },
  reference([a, b]) {
    const N = a.shape[0], M = b.shape[0];
    const av = a.values, bv = b.values;
    const shape = [N, M];
    const y = allocArray(a.dtype, N * M, shape);
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) y[n * M + m] = boxIoU(av, n * 4, bv, m * 4);
    return { values: y, shape, dtype: a.dtype };
  },
});
