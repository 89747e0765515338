/** Box geometry shared by the box ops (nms runs on the host) and every backend's IoU kernel. */

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
