/**
 * Detection on the shapes data set, two ways:
 * - YOLO-style: an S x S grid, A anchors chosen by k-means with distance 1 - IoU over the
 *   training boxes' shapes, 5 + K numbers per anchor. Outputs are decoded as
 *   p_c = sigmoid(t_0), b_x, b_y = sigmoid(t_1), sigmoid(t_2) (offset inside the cell),
 *   b_w, b_h = anchor * exp(t_3 / t_4) (cell units), classes = softmax, then `decodeYolo`:
 *   score p_c * class probability >= 0.6, per-class NMS at IoU 0.5.
 *   Loss per (cell, anchor): objectness as binary cross-entropy (weight 1 where an object is
 *   assigned, `noObjectWeight` elsewhere), and only where an object is assigned: squared error
 *   of the centre offsets and of the log sizes (weight `boxWeight`) and class cross-entropy.
 * - the sliding-window baseline: a classifier of W x W crops (K shapes + background) whose
 *   last layers are convolutions, so one pass over an image scores every window at stride 4;
 *   an image pyramid gives several window sizes; then the same threshold and per-class NMS.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, affine, mul, square, sub } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { reshape, slice } from '../../ops/shape.js';
import { sigmoid, softplus, logSoftmax } from '../../ops/activation.js';
import { softmaxCrossEntropy } from '../../ops/loss.js';
import { nmsPerClass } from '../../ops/boxes.js';
import { Rng } from '../../ops/random.js';
import { noGrad } from '../../autograd/reverse_mode.js';
import { tidy } from '../../registry/storage.js';
import { decodeYolo, bestAnchor, toCenter, type Box, type Detection, type YoloConfig } from '../detection.js';
import { boxIoU, meanAveragePrecision, checkUnit, type MapResult } from '../metrics.js';
import type { ShapesDataset } from '../shapes.js';
import { SmallNet, gatherRows, trainLoop, type LoopOptions } from './net.js';

/**
 * k-means over box shapes [w, h] with distance 1 - IoU (boxes sharing a centre), the YOLOv2
 * way of choosing anchors. Starts from k boxes spread over the area order; returns anchors
 * sorted by area.
 */
export function kmeansAnchors(boxes: readonly Box[], k: number, opts: { iterations?: number } = {}): [number, number][] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`kmeansAnchors: k must be a positive integer, received ${k}`);
  if (boxes.length < k) throw new RangeError(`kmeansAnchors: need at least k = ${k} boxes, received ${boxes.length}`);
  const wh = boxes.map((b) => [b[2] - b[0], b[3] - b[1]] as [number, number]).sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const iou = (a: readonly number[], b: readonly number[]) => {
    const inter = Math.min(a[0], b[0]) * Math.min(a[1], b[1]);
    return inter / (a[0] * a[1] + b[0] * b[1] - inter);
  };
  let centres = Array.from({ length: k }, (_, i) => [...wh[Math.floor(((i + 0.5) * wh.length) / k)]] as [number, number]);
  for (let it = 0; it < (opts.iterations ?? 30); it++) {
    const acc = centres.map(() => [0, 0, 0]);
    for (const b of wh) {
      let best = 0;
      for (let c = 1; c < k; c++) if (iou(b, centres[c]) > iou(b, centres[best])) best = c;
      acc[best][0] += b[0];
      acc[best][1] += b[1];
      acc[best][2]++;
    }
    centres = centres.map((c, i) => (acc[i][2] ? [acc[i][0] / acc[i][2], acc[i][1] / acc[i][2]] : c));
  }
  return centres.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
}

export interface DetectOptions {
  scoreThreshold?: number;
  iouThreshold?: number;
}

export interface Detector {
  config: YoloConfig;
  size: number;
  net: SmallNet;
  /** Detections of each image [N, size, size, 3]. */
  detect(images: Tensor, opts?: DetectOptions): Detection[][];
}

export interface DetectorOptions extends Partial<LoopOptions> {
  gridSize?: number;
  numAnchors?: number;
  anchors?: readonly (readonly [number, number])[];
  noObjectWeight?: number;
  boxWeight?: number;
  /** Filters of the convolutions (default [16, 32, 64, 64, 64]); pooled down to the grid. */
  filters?: readonly number[];
}

/** Encoded training targets [N, S, S, A, 5 + K]: objectness, cell offsets, log size ratios to the anchor, one-hot. */
function encodeTargets(data: ShapesDataset, cfg: YoloConfig): Float32Array {
  const S = cfg.gridSize, A = cfg.anchors.length, D = 5 + cfg.numClasses;
  const out = new Float32Array(data.objects.length * S * S * A * D);
  data.objects.forEach((objs, i) => {
    for (const o of objs) {
      const c = toCenter(o.box);
      const col = Math.min(S - 1, Math.floor(c.bx * S)), row = Math.min(S - 1, Math.floor(c.by * S));
      const a = bestAnchor(o.box, cfg.anchors);
      const base = (((i * S + row) * S + col) * A + a) * D;
      if (out[base] === 1) continue; // slot taken (rare: the data set keeps objects apart)
      out[base] = 1;
      out[base + 1] = c.bx * S - col;
      out[base + 2] = c.by * S - row;
      out[base + 3] = Math.log(c.bh / cfg.anchors[a][1]);
      out[base + 4] = Math.log(c.bw / cfg.anchors[a][0]);
      out[base + 5 + o.classId] = 1;
    }
  });
  return out;
}

/** Train the YOLO-style detector on a shapes data set. */
export function trainDetector(data: ShapesDataset, opts: DetectorOptions = {}): Detector & { history: ReturnType<typeof trainLoop> } {
  const size = data.size, K = data.classes.length;
  const S = opts.gridSize ?? size / 8;
  const pools = Math.log2(size / S);
  if (!Number.isInteger(S) || !Number.isInteger(pools) || pools < 0) throw new RangeError(`trainDetector: gridSize must divide the image size ${size} by a power of 2, received ${opts.gridSize}`);
  const boxes = data.objects.flat().map((o) => o.box);
  const anchors = opts.anchors ?? kmeansAnchors(boxes, opts.numAnchors ?? 2);
  const A = anchors.length, D = 5 + K;
  const cfg: YoloConfig = { gridSize: S, anchors: anchors.map((a) => [a[0], a[1]] as const), numClasses: K };
  const filters = opts.filters ?? [16, 32, 64, 64, 64];
  const layers = filters.map((f, i) => ({ conv: f, pool: i < pools }));
  if (pools > filters.length) throw new RangeError(`trainDetector: ${filters.length} convolutions cannot pool ${size} down to ${S}`);
  const net = new SmallNet([size, size, 3], [...layers, { conv: A * D, kernel: 1, relu: false }], opts.seed ?? 0);
  const targets = encodeTargets(data, cfg);
  const noObj = opts.noObjectWeight ?? 0.5, boxW = opts.boxWeight ?? 5;
  const history = trainLoop(net.params, data.objects.length, (idx) => {
    const B = idx.length, M = B * S * S * A;
    const x = gatherRows(data.pixels, idx, [size, size, 3]);
    const t = reshape(gatherRows(targets, idx, [S, S, A, D]), [M, D]);
    const out = reshape(net.forward(x), [M, D]);
    const obj = slice(t, [0, 0], [M, 1]);
    const z = slice(out, [0, 0], [M, 1]);
    // BCE with logits: softplus(z) - t z, weighted 1 (object) or noObj (no object).
    const w = affine(obj, 1 - noObj, noObj);
    const objLoss = sum(mul(w, sub(softplus(z), mul(obj, z))));
    const xy = sub(sigmoid(slice(out, [0, 1], [M, 2])), slice(t, [0, 1], [M, 2]));
    const hw = sub(slice(out, [0, 3], [M, 2]), slice(t, [0, 3], [M, 2]));
    const boxLoss = affine(sum(mul(obj, add(sum(square(xy), { axes: 1, keepDims: true }), sum(square(hw), { axes: 1, keepDims: true })))), boxW);
    const clsLoss = affine(sum(mul(obj, sum(mul(slice(t, [0, 5], [M, K]), logSoftmax(slice(out, [0, 5], [M, K]))), { axes: 1, keepDims: true }))), -1);
    return affine(add(add(objLoss, boxLoss), clsLoss), 1 / B);
  }, { epochs: opts.epochs ?? 10, batchSize: opts.batchSize ?? 32, learningRate: opts.learningRate ?? 2e-3, seed: opts.seed, timeLimitSeconds: opts.timeLimitSeconds, onEpoch: opts.onEpoch });
  return { ...yoloDetector(net, cfg, size), history };
}

function yoloDetector(net: SmallNet, cfg: YoloConfig, size: number): Detector {
  const S = cfg.gridSize, A = cfg.anchors.length, K = cfg.numClasses, D = 5 + K;
  return {
    config: cfg, size, net,
    detect(images: Tensor, opts: DetectOptions = {}): Detection[][] {
      checkUnit(opts.scoreThreshold ?? 0.6, 'scoreThreshold', 'detect');
      checkUnit(opts.iouThreshold ?? 0.5, 'iouThreshold', 'detect');
      const raw = net.predictHost(images);
      const per = S * S * A * D;
      return Array.from({ length: images.shape[0] }, (_, i) => {
        const dec = new Float32Array(per);
        for (let c = 0; c < S * S * A; c++) {
          const r = i * per + c * D, a = c % A;
          const sg = (v: number) => 1 / (1 + Math.exp(-v));
          dec[c * D] = sg(raw[r]);
          dec[c * D + 1] = sg(raw[r + 1]);
          dec[c * D + 2] = sg(raw[r + 2]);
          dec[c * D + 3] = cfg.anchors[a][1] * S * Math.exp(Math.min(raw[r + 3], 5));
          dec[c * D + 4] = cfg.anchors[a][0] * S * Math.exp(Math.min(raw[r + 4], 5));
          let m = -Infinity, z = 0;
          for (let k = 0; k < K; k++) m = Math.max(m, raw[r + 5 + k]);
          for (let k = 0; k < K; k++) z += Math.exp(raw[r + 5 + k] - m);
          for (let k = 0; k < K; k++) dec[c * D + 5 + k] = Math.exp(raw[r + 5 + k] - m) / z;
        }
        return decodeYolo(tensor(dec, [S, S, A, D]), cfg, opts);
      });
    },
  };
}

/** mAP@iouThreshold of a detector's output on a labelled shapes data set. */
export function evaluateDetections(detections: readonly (readonly Detection[])[], data: ShapesDataset, opts: { iouThreshold?: number } = {}): MapResult {
  return meanAveragePrecision(detections, data.objects, { iouThreshold: opts.iouThreshold ?? 0.5, numClasses: data.classes.length });
}

/** Bilinear resize of one HWC image held in a host array. */
function resize(src: Float32Array, h: number, w: number, nh: number, nw: number, C: number): Float32Array {
  const out = new Float32Array(nh * nw * C);
  for (let i = 0; i < nh; i++) {
    const y = Math.max(0, Math.min(h - 1, ((i + 0.5) * h) / nh - 0.5));
    const y0 = Math.floor(y), y1 = Math.min(h - 1, y0 + 1), fy = y - y0;
    for (let j = 0; j < nw; j++) {
      const x = Math.max(0, Math.min(w - 1, ((j + 0.5) * w) / nw - 0.5));
      const x0 = Math.floor(x), x1 = Math.min(w - 1, x0 + 1), fx = x - x0;
      for (let c = 0; c < C; c++) {
        const v = (1 - fy) * ((1 - fx) * src[(y0 * w + x0) * C + c] + fx * src[(y0 * w + x1) * C + c]) + fy * ((1 - fx) * src[(y1 * w + x0) * C + c] + fx * src[(y1 * w + x1) * C + c]);
        out[(i * nw + j) * C + c] = v;
      }
    }
  }
  return out;
}

/** A square crop [x1, y1, x1 + s, y1 + s] (image units, may leave the image: zero padded) resized to win x win. */
function crop(px: Float32Array, size: number, x1: number, y1: number, s: number, win: number): Float32Array {
  const out = new Float32Array(win * win * 3);
  for (let i = 0; i < win; i++) {
    const y = Math.floor((y1 + ((i + 0.5) / win) * s) * size);
    for (let j = 0; j < win; j++) {
      const x = Math.floor((x1 + ((j + 0.5) / win) * s) * size);
      if (y < 0 || y >= size || x < 0 || x >= size) continue;
      for (let c = 0; c < 3; c++) out[(i * win + j) * 3 + c] = px[(y * size + x) * 3 + c];
    }
  }
  return out;
}

export interface SlidingWindowDetector {
  size: number;
  window: number;
  /** Window sides, relative to the image, that the pyramid scans. */
  windowSizes: readonly number[];
  net: SmallNet;
  numClasses: number;
  detect(images: Tensor, opts?: DetectOptions): Detection[][];
}

/**
 * The sliding-window baseline. Training crops: each object's box, jittered by up to 10% of
 * its side (its class); background (class K): a near miss of each object (shifted by half to
 * one side) and `cropsPerImage` random squares, all overlapping no object by IoU >= 0.3;
 * every crop resized to `window` pixels. The classifier is conv-pool-conv-pool, then a
 * (window/4) x (window/4) 'valid' convolution and a 1x1 convolution: the dense layers as
 * convolutions, so running it on a whole (resized) image scores every window at stride 4.
 */
export function trainSlidingWindow(data: ShapesDataset, opts: Partial<LoopOptions> & { window?: number; windowSizes?: readonly number[]; cropsPerImage?: number } = {}): SlidingWindowDetector & { history: ReturnType<typeof trainLoop> } {
  const win = opts.window ?? 24, K = data.classes.length, size = data.size;
  if (win % 4 !== 0) throw new RangeError(`trainSlidingWindow: window must be a multiple of 4, received ${win}`);
  const rng = new Rng((opts.seed ?? 0) + 7);
  const crops: Float32Array[] = [], labels: number[] = [];
  data.objects.forEach((objs, i) => {
    const px = data.pixels.subarray(i * size * size * 3, (i + 1) * size * size * 3);
    for (const o of objs) {
      const s = (o.box[2] - o.box[0]) * rng.uniform(0.9, 1.1);
      const c = toCenter(o.box);
      const cx = c.bx + rng.uniform(-0.1, 0.1) * s, cy = c.by + rng.uniform(-0.1, 0.1) * s;
      crops.push(crop(px, size, cx - s / 2, cy - s / 2, s, win));
      labels.push(o.classId);
      // A near miss (the window slid off the object by 0.5 to 1 side): background unless it still overlaps by IoU >= 0.3.
      const ang = rng.uniform(0, 2 * Math.PI), dist = rng.uniform(0.5, 1) * s, ns = s * rng.uniform(0.7, 1.4);
      const nx = c.bx + Math.cos(ang) * dist - ns / 2, ny = c.by + Math.sin(ang) * dist - ns / 2;
      if (!objs.some((q) => boxIoU(q.box, [nx, ny, nx + ns, ny + ns]) >= 0.3)) {
        crops.push(crop(px, size, nx, ny, ns, win));
        labels.push(K);
      }
    }
    for (let b = 0; b < (opts.cropsPerImage ?? 3); b++) {
      for (let t = 0; t < 20; t++) {
        const s = rng.uniform(0.15, 0.6), x1 = rng.uniform(0, 1 - s), y1 = rng.uniform(0, 1 - s);
        if (objs.some((o) => boxIoU(o.box, [x1, y1, x1 + s, y1 + s]) >= 0.3)) continue;
        crops.push(crop(px, size, x1, y1, s, win));
        labels.push(K);
        break;
      }
    }
  });
  const x = new Float32Array(crops.length * win * win * 3);
  crops.forEach((c, i) => x.set(c, i * win * win * 3));
  const net = new SmallNet([win, win, 3], [
    { conv: 16, pool: true }, { conv: 32, pool: true }, { conv: 64, kernel: win / 4, padding: 'valid' }, { conv: K + 1, kernel: 1, relu: false },
  ], opts.seed ?? 0);
  const y = Int32Array.from(labels);
  const history = trainLoop(net.params, crops.length, (idx) => {
    const out = reshape(net.forward(gatherRows(x, idx, [win, win, 3])), [idx.length, K + 1]);
    return softmaxCrossEntropy(out, tensor(Int32Array.from(idx, (i) => y[i]), [idx.length], 'int32'));
  }, { epochs: opts.epochs ?? 5, batchSize: opts.batchSize ?? 64, learningRate: opts.learningRate ?? 2e-3, seed: opts.seed, timeLimitSeconds: opts.timeLimitSeconds, onEpoch: opts.onEpoch });
  const windowSizes = opts.windowSizes ?? [0.22, 0.3, 0.38, 0.46];
  return { ...slidingDetector(net, size, win, K, windowSizes), history };
}

function slidingDetector(net: SmallNet, size: number, win: number, K: number, windowSizes: readonly number[]): SlidingWindowDetector {
  return {
    size, window: win, windowSizes, net, numClasses: K,
    detect(images: Tensor, opts: DetectOptions = {}): Detection[][] {
      const thr = opts.scoreThreshold ?? 0.6, iouThr = opts.iouThreshold ?? 0.5;
      checkUnit(thr, 'scoreThreshold', 'detect');
      checkUnit(iouThr, 'iouThreshold', 'detect');
      if (images.rank !== 4 || images.shape[1] !== size || images.shape[2] !== size || images.shape[3] !== 3) {
        throw new RangeError(`detect: images must have shape [N, ${size}, ${size}, 3] for this detector, received [${images.shape.join(', ')}]`);
      }
      const all = images.dataSync() as Float32Array;
      const N = images.shape[0];
      return Array.from({ length: N }, (_, i) => {
        const px = all.subarray(i * size * size * 3, (i + 1) * size * size * 3);
        const cands: Detection[] = [];
        for (const ws of windowSizes) {
          // Resize so that a window of `win` pixels covers `ws` of the image.
          const ns = Math.max(win, Math.round(win / ws));
          const { v, oh, ow } = noGrad(() => tidy(() => {
            const out = net.forward(tensor(resize(px, size, size, ns, ns, 3), [1, ns, ns, 3]), { anySize: true });
            return { v: out.dataSync(), oh: out.shape[1], ow: out.shape[2] };
          }));
          for (let r = 0; r < oh; r++) {
            for (let c = 0; c < ow; c++) {
              const b = (r * ow + c) * (K + 1);
              let m = -Infinity, z = 0;
              for (let k = 0; k <= K; k++) m = Math.max(m, v[b + k]);
              for (let k = 0; k <= K; k++) z += Math.exp(v[b + k] - m);
              let best = 0;
              for (let k = 1; k < K; k++) if (v[b + k] > v[b + best]) best = k;
              const score = Math.exp(v[b + best] - m) / z;
              if (score < thr) continue;
              const x1 = (c * 4) / ns, y1 = (r * 4) / ns;
              cands.push({ box: [x1, y1, x1 + win / ns, y1 + win / ns], score, classId: best });
            }
          }
        }
        if (cands.length === 0) return [];
        const keep = nmsPerClass(
          tensor(cands.flatMap((d) => [...d.box]), [cands.length, 4]),
          tensor(cands.map((d) => d.score), [cands.length]),
          tensor(Int32Array.from(cands, (d) => d.classId), [cands.length], 'int32'),
          { iouThreshold: iouThr },
        ).dataSync();
        return Array.from(keep, (k) => cands[k]);
      });
    },
  };
}
