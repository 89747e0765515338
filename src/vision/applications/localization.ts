/**
 * Object localisation with landmarks on single-object (or empty) images: a convnet outputs
 * [p_c, b_x, b_y, b_h, b_w, c_1..c_K] (detection.ts's `localizationTarget`) followed by 4
 * landmarks (x, y). Loss: the curriculum's squared error (`localizationLoss`: p_c always,
 * box and class terms only when an object is present) plus the squared error of the
 * landmarks that exist (a triangle has 3, so its 4th point is masked out).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, affine, mul, square, sub } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { slice } from '../../ops/shape.js';
import { localizationLoss } from '../../ops/loss.js';
import { fromCenter, localizationTarget, type Box } from '../detection.js';
import { boxIoU } from '../metrics.js';
import type { ShapesDataset } from '../shapes.js';
import { SmallNet, gatherRows, trainLoop, type LoopOptions } from './net.js';

const LANDMARKS = 4;

export interface Localization {
  /** Probability-like objectness p_c (the raw regression output). */
  pc: number;
  box: Box;
  classId: number;
  /** 4 (x, y) points relative to the image; a triangle's 4th is meaningless. */
  landmarks: [number, number][];
}

export interface Localizer {
  net: SmallNet;
  numClasses: number;
  size: number;
  predict(images: Tensor): Localization[];
}

function checkSingle(data: ShapesDataset, fn: string): void {
  const i = data.objects.findIndex((o) => o.length > 1);
  if (i >= 0) throw new RangeError(`${fn}: data image ${i} holds ${data.objects[i].length} objects; localisation needs 0 or 1 (shapesDataset({ maxObjects: 1 }))`);
}

/** Train a localiser on a shapes data set of 0 or 1 object per image. */
export function trainLocalizer(data: ShapesDataset, opts: Partial<LoopOptions> & { landmarkWeight?: number; boxWeight?: number } = {}): Localizer & { history: ReturnType<typeof trainLoop> } {
  checkSingle(data, 'trainLocalizer');
  const K = data.classes.length, D = 5 + K, size = data.size;
  const n = data.objects.length;
  const y = new Float32Array(n * (D + 2 * LANDMARKS));
  const mask = new Float32Array(n * 2 * LANDMARKS);
  data.objects.forEach((objs, i) => {
    const o = objs[0] ?? null;
    y.set(localizationTarget(o, K), i * (D + 2 * LANDMARKS));
    o?.landmarks.forEach(([px, py], k) => {
      y[i * (D + 2 * LANDMARKS) + D + 2 * k] = px;
      y[i * (D + 2 * LANDMARKS) + D + 2 * k + 1] = py;
      mask[i * 2 * LANDMARKS + 2 * k] = mask[i * 2 * LANDMARKS + 2 * k + 1] = 1;
    });
  });
  const net = new SmallNet([size, size, 3], [
    { conv: 16, pool: true }, { conv: 32, pool: true }, { conv: 64, pool: true }, { conv: 64, pool: true },
    { dense: 128 }, { dense: D + 2 * LANDMARKS, relu: false },
  ], opts.seed ?? 0);
  const lw = opts.landmarkWeight ?? 1, bw = opts.boxWeight ?? 1;
  const history = trainLoop(net.params, n, (idx) => {
    const x = gatherRows(data.pixels, idx, [size, size, 3]);
    const t = gatherRows(y, idx, [D + 2 * LANDMARKS]);
    const m = gatherRows(mask, idx, [2 * LANDMARKS]);
    const out = net.forward(x);
    const B = idx.length;
    const loc = localizationLoss(slice(out, [0, 0], [B, D]), slice(t, [0, 0], [B, D]));
    const lm = affine(sum(mul(square(sub(slice(out, [0, D], [B, 2 * LANDMARKS]), slice(t, [0, D], [B, 2 * LANDMARKS]))), m)), lw / B);
    if (bw === 1) return add(loc, lm);
    // boxWeight > 1 weighs the box terms more (YOLO's lambda_coord): (bw - 1) more of their squared error.
    const present = slice(t, [0, 0], [B, 1]);
    const box = affine(sum(mul(square(sub(slice(out, [0, 1], [B, 4]), slice(t, [0, 1], [B, 4]))), present)), (bw - 1) / B);
    return add(add(loc, lm), box);
  }, { epochs: opts.epochs ?? 10, batchSize: opts.batchSize ?? 32, learningRate: opts.learningRate ?? 2e-3, seed: opts.seed, timeLimitSeconds: opts.timeLimitSeconds, onEpoch: opts.onEpoch });
  return { ...localizer(net, K, size), history };
}

function localizer(net: SmallNet, K: number, size: number): Localizer {
  const D = 5 + K, W = D + 2 * LANDMARKS;
  return {
    net, numClasses: K, size,
    predict(images: Tensor): Localization[] {
      const v = net.predictHost(images);
      return Array.from({ length: images.shape[0] }, (_, i) => {
        const r = v.subarray(i * W, (i + 1) * W);
        let classId = 0;
        for (let k = 1; k < K; k++) if (r[5 + k] > r[5 + classId]) classId = k;
        const landmarks = Array.from({ length: LANDMARKS }, (_, k) => [r[D + 2 * k], r[D + 2 * k + 1]] as [number, number]);
        return { pc: r[0], box: fromCenter(r[1], r[2], Math.max(0, r[3]), Math.max(0, r[4])), classId, landmarks };
      });
    },
  };
}

export interface LocalizationReport {
  /** Accuracy of "object present" (p_c > 0.5) over all images. */
  presenceAccuracy: number;
  /** Mean IoU of predicted and true boxes over images that hold an object. */
  meanIoU: number;
  /** Class accuracy over images that hold an object. */
  classAccuracy: number;
  /** Mean Euclidean error of the landmarks, in pixels, over the landmarks that exist. */
  landmarkErrorPx: number;
  images: number;
}

/** Score a localiser on held-out single-object (or empty) images. */
export function evaluateLocalizer(model: Localizer, data: ShapesDataset): LocalizationReport {
  checkSingle(data, 'evaluateLocalizer');
  if (data.size !== model.size) throw new RangeError(`evaluateLocalizer: data has ${data.size}x${data.size} images, the model takes ${model.size}x${model.size}`);
  const preds = model.predict(data.images);
  let present = 0, iouSum = 0, withObj = 0, correct = 0, lmErr = 0, lmCount = 0;
  preds.forEach((p, i) => {
    const o = data.objects[i][0];
    if ((p.pc > 0.5) === !!o) present++;
    if (!o) return;
    withObj++;
    iouSum += boxIoU(p.box, o.box);
    if (p.classId === o.classId) correct++;
    o.landmarks.forEach(([x, y], k) => {
      lmErr += Math.hypot(p.landmarks[k][0] - x, p.landmarks[k][1] - y) * data.size;
      lmCount++;
    });
  });
  return {
    presenceAccuracy: present / preds.length,
    meanIoU: withObj ? iouSum / withObj : NaN,
    classAccuracy: withObj ? correct / withObj : NaN,
    landmarkErrorPx: lmCount ? lmErr / lmCount : NaN,
    images: preds.length,
  };
}

/** Tensor of targets, exported for tests: [N, 5 + K] localisation targets of a data set. */
export function localizationTargets(data: ShapesDataset): Tensor {
  const K = data.classes.length;
  return tensor(data.objects.flatMap((o) => localizationTarget(o[0] ?? null, K)), [data.objects.length, 5 + K]);
}
