/**
 * The localisation and detection applications, trained small and fast on wasm: each must
 * beat a trivial baseline on held-out images, and bad input must fail clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

beforeAll(() => ck.setBackend('wasm'));
afterAll(() => ck.setBackend('ts'));

describe('anchors by k-means over box shapes (distance 1 - IoU)', () => {
  it('finds the two sizes of a two-size data set', () => {
    const boxes: [number, number, number, number][] = [];
    for (let i = 0; i < 20; i++) boxes.push([0, 0, 0.1 + 0.002 * (i % 3), 0.1], [0, 0, 0.4, 0.3 + 0.004 * (i % 3)]);
    const a = ck.vision.kmeansAnchors(boxes, 2);
    expect(a[0][0]).toBeCloseTo(0.102, 3);
    expect(a[0][1]).toBeCloseTo(0.1, 6);
    expect(a[1][0]).toBeCloseTo(0.4, 6);
    expect(a[1][1]).toBeCloseTo(0.304, 3);
    expect(() => ck.vision.kmeansAnchors(boxes.slice(0, 1), 2)).toThrow(/at least k = 2 boxes/);
  });
});

describe('localisation with landmarks', () => {
  it('beats predicting the mean box and the majority class', () => {
    const opts = { size: 32, minObjects: 1, maxObjects: 1 };
    const train = ck.vision.shapesDataset({ ...opts, n: 600, seed: 1 });
    const test = ck.vision.shapesDataset({ ...opts, n: 150, seed: 2 });
    // 8 epochs: at 6 the class accuracy is still on the steep part of its curve (0.47-0.51 as the rounding of
    // the filter gradients changes between builds), at 8 it is 0.75
    const model = ck.vision.trainLocalizer(train, { epochs: 8, batchSize: 32, learningRate: 3e-3 });
    const r = ck.vision.evaluateLocalizer(model, test);
    // Trivial baseline: the mean training box for every image.
    const boxes = train.objects.map((o) => o[0].box);
    const mean = [0, 1, 2, 3].map((k) => boxes.reduce((s, b) => s + b[k], 0) / boxes.length) as [number, number, number, number];
    const baseIoU = test.objects.reduce((s, o) => s + ck.vision.boxIoU(mean, o[0].box), 0) / test.objects.length;
    expect(r.meanIoU).toBeGreaterThan(baseIoU + 0.2);
    expect(r.classAccuracy).toBeGreaterThan(0.5); // chance ~1/3
    expect(r.landmarkErrorPx).toBeLessThan(6);
    expect(r.presenceAccuracy).toBeGreaterThan(0.9); // every test image holds an object
    expect(() => model.predict(ck.zeros([1, 16, 16, 3]))).toThrow(/images must have shape \[N, 32, 32, 3\] for this model, received \[1, 16, 16, 3\]/);
    expect(() => ck.vision.trainLocalizer(ck.vision.shapesDataset({ n: 4, size: 32, minObjects: 2, maxObjects: 2 }))).toThrow(/holds 2 objects; localisation needs 0 or 1/);
  });
});

describe('YOLO-style detection', () => {
  it('reaches a real mAP@0.5 where a trivial detector scores ~0, and checks its input', () => {
    const train = ck.vision.shapesDataset({ n: 500, size: 32, maxObjects: 3, seed: 1 });
    const test = ck.vision.shapesDataset({ n: 100, size: 32, maxObjects: 3, seed: 2 });
    const det = ck.vision.trainDetector(train, { gridSize: 4, numAnchors: 2, epochs: 25, batchSize: 32, learningRate: 3e-3 });
    expect(det.config.anchors.length).toBe(2);
    const dets = det.detect(test.images, { scoreThreshold: 0.3 });
    const r = ck.vision.evaluateDetections(dets, test);
    // Trivial: one box of the mean size at the centre of every image, class 0, score 1.
    const trivial = test.objects.map(() => [{ box: [0.35, 0.35, 0.65, 0.65] as [number, number, number, number], classId: 0, score: 1 }]);
    const base = ck.vision.evaluateDetections(trivial, test).mAP;
    expect(base).toBeLessThan(0.05);
    expect(r.mAP).toBeGreaterThan(0.3);
    expect(() => det.detect(ck.zeros([1, 64, 64, 3]))).toThrow(/images must have shape \[N, 32, 32, 3\]/);
    expect(() => det.detect(test.images, { iouThreshold: 2 })).toThrow(/iouThreshold must be a number in \[0, 1\]/);
  });

  it('the sliding-window baseline scores windows as one convolution over an image pyramid', () => {
    const train = ck.vision.shapesDataset({ n: 200, size: 32, maxObjects: 2, seed: 3 });
    const test = ck.vision.shapesDataset({ n: 40, size: 32, maxObjects: 2, seed: 4 });
    const sw = ck.vision.trainSlidingWindow(train, { window: 16, epochs: 4, batchSize: 32 });
    const r = ck.vision.evaluateDetections(sw.detect(test.images, { scoreThreshold: 0.5 }), test);
    expect(r.mAP).toBeGreaterThan(0.05);
    expect(() => sw.detect(ck.zeros([1, 31, 32, 3]))).toThrow(/images must have shape \[N, 32, 32, 3\]/);
    expect(() => ck.vision.trainSlidingWindow(train, { window: 18 })).toThrow(/multiple of 4/);
  });
});
