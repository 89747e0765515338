/**
 * Scores for the applications: box IoU, VOC-style mean average precision for detectors,
 * and the area under the ROC curve for verifiers.
 */
import type { Box } from './detection.js';

/** Throw a RangeError naming `arg` unless `b` is a corner box [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2. */
export function checkBox(b: unknown, arg: string, fn: string): asserts b is Box {
  if (!Array.isArray(b) || b.length !== 4 || b.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new RangeError(`${fn}: ${arg} must be a box [x1, y1, x2, y2] of 4 finite numbers, received ${JSON.stringify(b)}`);
  }
  if (b[2] < b[0] || b[3] < b[1]) throw new RangeError(`${fn}: ${arg} has x2 < x1 or y2 < y1 (boxes are [x1, y1, x2, y2]), received ${JSON.stringify(b)}`);
}

/** Throw a RangeError naming `arg` unless `t` is a number in [0, 1]. */
export function checkUnit(t: unknown, arg: string, fn: string): asserts t is number {
  if (typeof t !== 'number' || !(t >= 0 && t <= 1)) throw new RangeError(`${fn}: ${arg} must be a number in [0, 1], received ${String(t)}`);
}

/** Intersection over union of two corner boxes (0 when both are empty). */
export function boxIoU(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export interface ScoredBox {
  box: Box;
  classId: number;
  score: number;
}

export interface GroundTruthBox {
  box: Box;
  classId: number;
}

export interface MapResult {
  /** Mean of the per-class APs over classes that have at least one ground-truth box. */
  mAP: number;
  /** AP per class id (NaN for a class with no ground-truth box: it is left out of the mean). */
  perClass: number[];
}

/**
 * Mean average precision, PASCAL VOC style (VOC2010+ "all-point interpolation").
 *
 * Per class: the detections of all images are sorted by score (highest first; ties keep
 * their input order, image by image). Each is a true positive when its IoU with a not yet
 * matched ground-truth box of the same class in the same image is >= iouThreshold (the
 * best-overlapping such box is matched), otherwise a false positive (a second detection of
 * a matched box is a false positive). With precision p_i and recall r_i after the i-th
 * detection, AP = sum_i (r_i - r_{i-1}) * max_{j >= i} p_j: the area under the precision
 * envelope, evaluated at every point where recall changes (no 11-point sampling).
 * A class with ground truth but no detection scores 0.
 */
export function meanAveragePrecision(
  predictions: readonly (readonly ScoredBox[])[],
  groundTruth: readonly (readonly GroundTruthBox[])[],
  opts: { iouThreshold?: number; numClasses?: number } = {},
): MapResult {
  const fn = 'meanAveragePrecision';
  const thr = opts.iouThreshold ?? 0.5;
  checkUnit(thr, 'iouThreshold', fn);
  if (!Array.isArray(predictions as unknown) || !Array.isArray(groundTruth as unknown)) throw new RangeError(`${fn}: predictions and groundTruth must be arrays (one list of boxes per image)`);
  if (predictions.length !== groundTruth.length) {
    throw new RangeError(`${fn}: predictions has ${predictions.length} images, groundTruth has ${groundTruth.length}`);
  }
  let numClasses = opts.numClasses ?? 0;
  predictions.forEach((dets, i) => dets.forEach((d, k) => {
    checkBox(d.box, `predictions[${i}][${k}].box`, fn);
    if (!Number.isInteger(d.classId) || d.classId < 0) throw new RangeError(`${fn}: predictions[${i}][${k}].classId must be a non-negative integer, received ${d.classId}`);
    if (!Number.isFinite(d.score)) throw new RangeError(`${fn}: predictions[${i}][${k}].score must be finite, received ${d.score}`);
    if (opts.numClasses === undefined) numClasses = Math.max(numClasses, d.classId + 1);
  }));
  groundTruth.forEach((gts, i) => gts.forEach((g, k) => {
    checkBox(g.box, `groundTruth[${i}][${k}].box`, fn);
    if (!Number.isInteger(g.classId) || g.classId < 0) throw new RangeError(`${fn}: groundTruth[${i}][${k}].classId must be a non-negative integer, received ${g.classId}`);
    if (opts.numClasses === undefined) numClasses = Math.max(numClasses, g.classId + 1);
  }));
  const perClass: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const dets: { img: number; box: Box; score: number }[] = [];
    predictions.forEach((ds, img) => ds.forEach((d) => d.classId === c && dets.push({ img, box: d.box, score: d.score })));
    const gts = groundTruth.map((gs) => gs.filter((g) => g.classId === c).map((g) => g.box));
    const nGt = gts.reduce((s, g) => s + g.length, 0);
    if (nGt === 0) {
      perClass.push(NaN);
      continue;
    }
    // Stable sort: equal scores keep their input order.
    const order = dets.map((_, i) => i).sort((a, b) => dets[b].score - dets[a].score || a - b);
    const used = gts.map((g) => new Array<boolean>(g.length).fill(false));
    const precision: number[] = [], recall: number[] = [];
    let tp = 0, fp = 0;
    for (const i of order) {
      const d = dets[i];
      let best = -1, bestIoU = -1;
      gts[d.img].forEach((g, k) => {
        if (used[d.img][k]) return;
        const v = boxIoU(d.box, g);
        if (v > bestIoU) [best, bestIoU] = [k, v];
      });
      if (best >= 0 && bestIoU >= thr) {
        used[d.img][best] = true;
        tp++;
      } else fp++;
      precision.push(tp / (tp + fp));
      recall.push(tp / nGt);
    }
    // Precision envelope, right to left, then the area under it.
    for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1]);
    let ap = 0, prev = 0;
    for (let i = 0; i < recall.length; i++) {
      ap += (recall[i] - prev) * precision[i];
      prev = recall[i];
    }
    perClass.push(ap);
  }
  const scored = perClass.filter((v) => !Number.isNaN(v));
  return { mAP: scored.length ? scored.reduce((s, v) => s + v, 0) / scored.length : NaN, perClass };
}

/**
 * Area under the ROC curve: the probability that a random positive scores higher than a
 * random negative, ties counting one half (the Mann-Whitney U statistic / (P * N)).
 * Higher score means "more likely positive": pass minus the distance for a verifier.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const fn = 'rocAuc';
  if (scores.length !== labels.length) throw new RangeError(`${fn}: ${scores.length} scores but ${labels.length} labels`);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  for (const i of idx) if (!Number.isFinite(scores[i])) throw new RangeError(`${fn}: scores[${i}] must be finite, received ${scores[i]}`);
  idx.sort((a, b) => scores[a] - scores[b]);
  let pos = 0, neg = 0, rankSum = 0;
  // Average ranks over ties (1-based).
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]]) {
        pos++;
        rankSum += rank;
      } else neg++;
    }
    i = j + 1;
  }
  if (pos === 0 || neg === 0) throw new RangeError(`${fn}: labels need both positives and negatives, received ${pos} positive and ${neg} negative`);
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
