/**
 * Bounding boxes: intersection over union and greedy non-max suppression. Boxes are
 * corners (x1, y1, x2, y2); either corner order works (normalised with min/max). Neither
 * op is differentiable. nms reads boxes and scores synchronously (it runs on the host).
 */
import { fromValues } from '../registry/storage.js';
import { outputOf } from '../registry/dispatch.js';
import { IoU, boxIoU } from '../kernels/boxes.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { assertFloatTensor, assertTensor } from './arg_checks.js';

function assertBoxes(op: string, arg: string, b: Tensor): void {
  assertFloatTensor(op, arg, b);
  if (b.rank !== 2 || b.shape[1] !== 4) throw new RangeError(`${op}: ${arg} must have shape [N, 4] (x1, y1, x2, y2), received ${fmtShape(b.shape)}`);
}

/** IoU of every box of a [N, 4] with every box of b [M, 4] -> [N, M]; a zero union gives 0, never NaN. */
export function iou(a: Tensor, b: Tensor): Tensor {
  assertBoxes('iou', 'a', a);
  assertBoxes('iou', 'b', b);
  if (a.dtype !== b.dtype) throw new TypeError(`iou: a is ${a.dtype} but b is ${b.dtype}`);
  return outputOf(IoU, [a, b]);
}

export interface NmsOpts {
  /** A box is dropped when its IoU with a kept box is >= this. Default 0.5. */
  iouThreshold?: number;
  /** Boxes scoring below this are dropped first (e.g. p_c < 0.6). Default: none dropped. */
  scoreThreshold?: number;
  /** At most this many indices are returned. Default: no limit. */
  maxOutput?: number;
}

function nmsOptions(op: string, opts: NmsOpts) {
  const iouThreshold = opts.iouThreshold ?? 0.5;
  const scoreThreshold = opts.scoreThreshold ?? -Infinity;
  const maxOutput = opts.maxOutput ?? Infinity;
  if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1)) {
    throw new RangeError(`${op}: iouThreshold must be in [0, 1], received ${String(iouThreshold)}`);
  }
  if (typeof scoreThreshold !== 'number' || Number.isNaN(scoreThreshold)) throw new RangeError(`${op}: scoreThreshold must be a number, received ${String(scoreThreshold)}`);
  if (maxOutput !== Infinity && !(Number.isInteger(maxOutput) && maxOutput >= 0)) {
    throw new RangeError(`${op}: maxOutput must be a non-negative integer, received ${String(maxOutput)}`);
  }
  return { iouThreshold, scoreThreshold, maxOutput };
}

function readBoxesAndScores(op: string, boxes: Tensor, scores: Tensor): { bv: ArrayLike<number>; sv: ArrayLike<number> } {
  assertBoxes(op, 'boxes', boxes);
  assertFloatTensor(op, 'scores', scores);
  if (!shapesEqual(scores.shape, [boxes.shape[0]])) {
    throw new RangeError(`${op}: scores must have shape [${boxes.shape[0]}] (one per box of boxes ${fmtShape(boxes.shape)}), received ${fmtShape(scores.shape)}`);
  }
  return { bv: boxes.dataSync(), sv: scores.dataSync() };
}

/**
 * Greedy NMS over the candidate indices `cand`: highest score first (lower index first
 * at equal scores), dropping any box whose IoU with an already kept box is >= the threshold.
 */
function greedy(bv: ArrayLike<number>, sv: ArrayLike<number>, cand: number[], iouThreshold: number, maxOutput: number): number[] {
  const order = cand.filter((i) => !Number.isNaN(sv[i])).sort((i, j) => sv[j] - sv[i] || i - j);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxOutput) break;
    if (kept.every((k) => !(boxIoU(bv, 4 * i, bv, 4 * k) >= iouThreshold))) kept.push(i);
  }
  return kept;
}

/**
 * Non-max suppression: drop boxes scoring below scoreThreshold, then repeatedly keep the
 * best remaining box and drop the others whose IoU with it is >= iouThreshold (the
 * course's "IoU >= 0.5"; TensorFlow and torchvision drop only IoU > threshold).
 * Returns the kept indices, int32 [M], best first. NaN scores are dropped.
 */
export function nms(boxes: Tensor, scores: Tensor, opts: NmsOpts = {}): Tensor {
  const { iouThreshold, scoreThreshold, maxOutput } = nmsOptions('nms', opts);
  const { bv, sv } = readBoxesAndScores('nms', boxes, scores);
  const cand: number[] = [];
  for (let i = 0; i < sv.length; i++) if (sv[i] >= scoreThreshold) cand.push(i);
  const kept = greedy(bv, sv, cand, iouThreshold, maxOutput);
  return fromValues(Int32Array.from(kept), [kept.length], 'int32');
}

/**
 * NMS run separately for each class (boxes of different classes never suppress each
 * other). classes: [N] class ids (int32, or integer-valued floats). Returns the kept
 * indices of all classes merged, best score first (lower index first at ties), at most
 * maxOutput in total.
 */
export function nmsPerClass(boxes: Tensor, scores: Tensor, classes: Tensor, opts: NmsOpts = {}): Tensor {
  const { iouThreshold, scoreThreshold, maxOutput } = nmsOptions('nmsPerClass', opts);
  const { bv, sv } = readBoxesAndScores('nmsPerClass', boxes, scores);
  assertTensor('nmsPerClass', 'classes', classes);
  if (!shapesEqual(classes.shape, [boxes.shape[0]])) {
    throw new RangeError(`nmsPerClass: classes must have shape [${boxes.shape[0]}] (one per box), received ${fmtShape(classes.shape)}`);
  }
  const cv = classes.dataSync();
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < sv.length; i++) {
    if (!(sv[i] >= scoreThreshold)) continue;
    if (!Number.isInteger(cv[i])) throw new RangeError(`nmsPerClass: class id ${cv[i]} at index ${i} is not an integer`);
    const list = byClass.get(cv[i]) ?? [];
    list.push(i);
    byClass.set(cv[i], list);
  }
  const kept: number[] = [];
  for (const cand of byClass.values()) kept.push(...greedy(bv, sv, cand, iouThreshold, maxOutput));
  kept.sort((i, j) => sv[j] - sv[i] || i - j);
  const top = kept.slice(0, maxOutput === Infinity ? kept.length : maxOutput);
  return fromValues(Int32Array.from(top), [top.length], 'int32');
}
