/**
 * Object localisation and detection, the classic way:
 * - a localisation target per image: [p_c, b_x, b_y, b_h, b_w, c_1..c_k] (box centre
 *   and size relative to the image, classes one-hot, everything but p_c "don't care"
 *   when no object is present);
 * - landmark targets: 2 numbers (x, y) per landmark;
 * - sliding windows, and their convolutional implementation: a classifier whose dense
 *   layers are rewritten as convolutions slides over a larger image in one pass;
 * - YOLO grid targets: each object goes to the cell containing its centre and to the
 *   anchor box whose shape overlaps it most (IoU of widths/heights), giving a
 *   S x S x A x (5 + K) tensor; decoding keeps p_c * class score >= 0.6 and applies
 *   non-max suppression per class (IoU >= 0.5 dropped).
 *
 * Box overlap and suppression on tensors are the ops `iou`, `nms` and `nmsPerClass`.
 * Boxes here are corner boxes [x1, y1, x2, y2] in image-relative units (0..1) unless
 * a function says otherwise.
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../ops/creation.js';
import { reshape } from '../ops/shape.js';
import { nmsPerClass } from '../ops/boxes.js';
import { fmtShape } from '../tensor/shape.js';

export type Box = readonly [number, number, number, number];

/** Centre form (b_x, b_y, b_h, b_w) of a corner box. */
export function toCenter(b: Box): { bx: number; by: number; bh: number; bw: number } {
  return { bx: (b[0] + b[2]) / 2, by: (b[1] + b[3]) / 2, bh: b[3] - b[1], bw: b[2] - b[0] };
}

/** Corner box from centre form. */
export function fromCenter(bx: number, by: number, bh: number, bw: number): Box {
  return [bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2];
}

function checkClass(classId: number, numClasses: number, fn: string): void {
  if (!Number.isInteger(classId) || classId < 0 || classId >= numClasses) {
    throw new RangeError(`${fn}: classId ${classId} is not in [0, ${numClasses})`);
  }
}

/**
 * The localisation target vector of one image: [p_c, b_x, b_y, b_h, b_w, c_1..c_k].
 * With no object, p_c = 0 and the rest is 0 (ignored by `localizationLoss`).
 */
export function localizationTarget(object: { box: Box; classId: number } | null, numClasses: number): number[] {
  const y = new Array<number>(5 + numClasses).fill(0);
  if (!object) return y;
  checkClass(object.classId, numClasses, 'localizationTarget');
  const c = toCenter(object.box);
  y[0] = 1;
  y[1] = c.bx;
  y[2] = c.by;
  y[3] = c.bh;
  y[4] = c.bw;
  y[5 + object.classId] = 1;
  return y;
}

/** Landmark target: (x, y) of each landmark, flattened to 2 numbers per landmark. */
export function landmarkTarget(points: readonly (readonly [number, number])[]): number[] {
  return points.flatMap(([x, y]) => [x, y]);
}

/** Top-left corners of every window of `size` moved by `stride` over an H x W image. */
export function slidingWindows(imageH: number, imageW: number, size: number | [number, number], stride: number | [number, number]): { top: number; left: number; h: number; w: number }[] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const [sh, sw] = typeof stride === 'number' ? [stride, stride] : stride;
  if (h > imageH || w > imageW) throw new RangeError(`slidingWindows: window ${h}x${w} is larger than the image ${imageH}x${imageW}`);
  if (sh < 1 || sw < 1) throw new RangeError(`slidingWindows: stride must be positive, received ${sh}x${sw}`);
  const out: { top: number; left: number; h: number; w: number }[] = [];
  for (let top = 0; top + h <= imageH; top += sh) {
    for (let left = 0; left + w <= imageW; left += sw) out.push({ top, left, h, w });
  }
  return out;
}

/**
 * Rewrite a dense layer's weights W [h*w*c, units], which followed a Flatten of an
 * h x w x c (NHWC) feature map, as an equivalent convolution filter [h, w, c, units].
 * Applied to a larger feature map with stride 1, that convolution evaluates the
 * classifier at every window position at once (the convolutional sliding window).
 * A following dense layer [units, units2] becomes a 1x1 convolution [1, 1, units, units2].
 */
export function denseToConvFilter(W: Tensor, h: number, w: number, c: number): Tensor {
  if (W.rank !== 2 || W.shape[0] !== h * w * c) {
    throw new RangeError(`denseToConvFilter: W must have shape [${h * w * c}, units] for a ${h}x${w}x${c} input, received ${fmtShape(W.shape)}`);
  }
  // Row-major flatten of [h, w, c] matches the HWIO filter's first three axes exactly.
  return reshape(W, [h, w, c, W.shape[1]]);
}

export interface YoloConfig {
  /** Grid size S (S x S cells). */
  gridSize: number;
  /** Anchor box shapes [width, height], image-relative. */
  anchors: readonly (readonly [number, number])[];
  numClasses: number;
}

/** IoU of two boxes of the given widths/heights sharing a centre (anchor matching). */
export function shapeIoU(a: readonly [number, number], b: readonly [number, number]): number {
  const inter = Math.min(a[0], b[0]) * Math.min(a[1], b[1]);
  const union = a[0] * a[1] + b[0] * b[1] - inter;
  return union > 0 ? inter / union : 0;
}

/** Index of the anchor whose shape overlaps the box's shape most. */
export function bestAnchor(box: Box, anchors: readonly (readonly [number, number])[]): number {
  let best = 0, bestIoU = -1;
  anchors.forEach((a, i) => {
    const v = shapeIoU([box[2] - box[0], box[3] - box[1]], a);
    if (v > bestIoU) [best, bestIoU] = [i, v];
  });
  return best;
}

/**
 * YOLO training target [S, S, A, 5 + K]: for each object, the cell (row, col) that
 * contains its centre and its best anchor get [1, b_x, b_y, b_h, b_w, one-hot class],
 * with b_x, b_y the centre's offset inside the cell (0..1) and b_h, b_w the box size in
 * cell units (may exceed 1). Two objects competing for one (cell, anchor) slot: the
 * first keeps it, the rest are reported in `dropped`.
 */
export function yoloTargets(objects: readonly { box: Box; classId: number }[], cfg: YoloConfig): { target: Tensor; dropped: number[] } {
  const S = cfg.gridSize, A = cfg.anchors.length, D = 5 + cfg.numClasses;
  const t = new Float32Array(S * S * A * D);
  const dropped: number[] = [];
  objects.forEach((o, i) => {
    checkClass(o.classId, cfg.numClasses, 'yoloTargets');
    const c = toCenter(o.box);
    if (!(c.bx >= 0 && c.bx <= 1 && c.by >= 0 && c.by <= 1)) throw new RangeError(`yoloTargets: object ${i}'s centre (${c.bx}, ${c.by}) is outside the image`);
    const col = Math.min(S - 1, Math.floor(c.bx * S));
    const row = Math.min(S - 1, Math.floor(c.by * S));
    const a = bestAnchor(o.box, cfg.anchors);
    const base = ((row * S + col) * A + a) * D;
    if (t[base] === 1) {
      dropped.push(i);
      return;
    }
    t[base] = 1;
    t[base + 1] = c.bx * S - col;
    t[base + 2] = c.by * S - row;
    t[base + 3] = c.bh * S;
    t[base + 4] = c.bw * S;
    t[base + 5 + o.classId] = 1;
  });
  return { target: tensor(t, [S, S, A, D]), dropped };
}

export interface Detection {
  box: Box;
  score: number;
  classId: number;
}

/**
 * Turn a YOLO output [S, S, A, 5 + K] (same encoding as `yoloTargets`) into detections:
 * score = p_c * max class probability; drop scores below `scoreThreshold` (0.6);
 * then, per class, keep the best box and drop the others with IoU >= `iouThreshold` (0.5).
 */
export function decodeYolo(pred: Tensor, cfg: YoloConfig, opts: { scoreThreshold?: number; iouThreshold?: number } = {}): Detection[] {
  const S = cfg.gridSize, A = cfg.anchors.length, D = 5 + cfg.numClasses;
  const want = [S, S, A, D];
  if (pred.rank !== 4 || pred.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(`decodeYolo: pred must have shape ${fmtShape(want)}, received ${fmtShape(pred.shape)}`);
  }
  const v = pred.dataSync();
  const candidates: Detection[] = [];
  for (let row = 0; row < S; row++) {
    for (let col = 0; col < S; col++) {
      for (let a = 0; a < A; a++) {
        const base = ((row * S + col) * A + a) * D;
        let classId = 0;
        for (let k = 1; k < cfg.numClasses; k++) if (v[base + 5 + k] > v[base + 5 + classId]) classId = k;
        const score = v[base] * v[base + 5 + classId];
        if (score < (opts.scoreThreshold ?? 0.6)) continue;
        const bx = (col + v[base + 1]) / S, by = (row + v[base + 2]) / S;
        candidates.push({ box: fromCenter(bx, by, v[base + 3] / S, v[base + 4] / S), score, classId });
      }
    }
  }
  if (candidates.length === 0) return [];
  const keep = nmsPerClass(
    tensor(candidates.flatMap((d) => [...d.box]), [candidates.length, 4]),
    tensor(candidates.map((d) => d.score), [candidates.length]),
    tensor(Int32Array.from(candidates, (d) => d.classId), [candidates.length], 'int32'),
    { iouThreshold: opts.iouThreshold ?? 0.5 },
  ).dataSync();
  return Array.from(keep, (i) => candidates[i]);
}
