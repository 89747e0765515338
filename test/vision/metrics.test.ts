import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import * as ck from '../../src/index.js';

type Box = [number, number, number, number];
const det = (box: Box, score: number, classId = 0) => ({ box, score, classId });
const gt = (box: Box, classId = 0) => ({ box, classId });

describe('meanAveragePrecision (VOC, all-point interpolation)', () => {
  const g1: Box = [0, 0, 0.2, 0.2], g2: Box = [0.5, 0.5, 0.8, 0.8];
  it('hand case: TP, FP, TP gives AP = 0.5 * 1 + 0.5 * 2/3', () => {
    // After each detection: precision 1, 1/2, 2/3; recall 1/2, 1/2, 1. The envelope is
    // 1, 2/3, 2/3, so AP = (0.5 - 0) * 1 + (0.5 - 0.5) * 2/3 + (1 - 0.5) * 2/3.
    const r = ck.vision.meanAveragePrecision([[det(g1, 0.9), det([0.3, 0, 0.4, 0.1], 0.8), det(g2, 0.7)]], [[gt(g1), gt(g2)]]);
    expect(r.perClass[0]).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(r.mAP).toBeCloseTo(5 / 6, 12);
  });
  it('the envelope lifts precision: FP first, then two TPs', () => {
    // precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> envelope 2/3 everywhere -> AP 2/3.
    const r = ck.vision.meanAveragePrecision([[det([0.3, 0, 0.4, 0.1], 0.95), det(g1, 0.9), det(g2, 0.7)]], [[gt(g1), gt(g2)]]);
    expect(r.mAP).toBeCloseTo(2 / 3, 12);
  });
  it('a second detection of a matched box is a false positive; misses cap recall', () => {
    // d1 TP (recall 1/2), d2 duplicate FP; g2 is never found: AP = 0.5 * 1.
    const r = ck.vision.meanAveragePrecision([[det(g1, 0.9), det([0, 0, 0.2, 0.21], 0.8)]], [[gt(g1), gt(g2)]]);
    expect(r.mAP).toBeCloseTo(0.5, 12);
  });
  it('matches only within the same image and class; averages classes with ground truth', () => {
    const preds = [[det(g1, 0.9, 1)], [det(g1, 0.8, 0)]];
    const truth = [[gt(g1, 0)], [gt(g1, 0), gt(g2, 2)]];
    const r = ck.vision.meanAveragePrecision(preds, truth, { numClasses: 4 });
    // class 0: the only detection (image 1) is a TP, but image 0's box is missed: AP 0.5.
    // class 1 has no ground truth: NaN, left out. class 2: never detected: 0. class 3: NaN.
    expect(r.perClass[0]).toBeCloseTo(0.5, 12);
    expect(Number.isNaN(r.perClass[1])).toBe(true);
    expect(r.perClass[2]).toBe(0);
    expect(Number.isNaN(r.perClass[3])).toBe(true);
    expect(r.mAP).toBeCloseTo(0.25, 12);
  });
  it('uses the IoU threshold: IoU 0.6 counts at 0.5, not at 0.7', () => {
    // [0, 0, 0.6, 1] against [0, 0, 1, 1]: IoU 0.6.
    const preds = [[det([0, 0, 0.6, 1], 0.9)]], truth = [[gt([0, 0, 1, 1])]];
    expect(ck.vision.boxIoU([0, 0, 0.6, 1], [0, 0, 1, 1])).toBeCloseTo(0.6, 12);
    expect(ck.vision.meanAveragePrecision(preds, truth).mAP).toBe(1);
    expect(ck.vision.meanAveragePrecision(preds, truth, { iouThreshold: 0.7 }).mAP).toBe(0);
  });
  it('rejects bad boxes and thresholds, naming the argument', () => {
    expect(() => ck.vision.meanAveragePrecision([[det([0.5, 0, 0.2, 1], 0.9)]], [[gt(g1)]])).toThrow(/predictions\[0\]\[0\]\.box has x2 < x1/);
    expect(() => ck.vision.meanAveragePrecision([[]], [[gt([0, 0.5, 1, 0.2])]])).toThrow(/groundTruth\[0\]\[0\]\.box has x2 < x1 or y2 < y1/);
    expect(() => ck.vision.meanAveragePrecision([[]], [[]], { iouThreshold: 1.5 })).toThrow(/iouThreshold must be a number in \[0, 1\], received 1.5/);
    expect(() => ck.vision.meanAveragePrecision([[]], [[]], { iouThreshold: -0.1 })).toThrow(/iouThreshold/);
    expect(() => ck.vision.meanAveragePrecision([[], []], [[]])).toThrow(/predictions has 2 images, groundTruth has 1/);
  });
});

describe('rocAuc', () => {
  it('matches the Mann-Whitney statistic (scikit-learn documentation example: 0.75)', () => {
    expect(ck.vision.rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(ck.vision.rocAuc([3, 2, 1], [true, true, false])).toBe(1);
    expect(ck.vision.rocAuc([1, 2, 3], [1, 1, 0])).toBe(0);
  });
  it('counts ties as one half', () => {
    expect(ck.vision.rocAuc([0.5, 0.5], [1, 0])).toBe(0.5);
    expect(ck.vision.rocAuc([0.5, 0.5, 0.9], [1, 0, 1])).toBeCloseTo(0.75, 12);
  });
  it('needs both classes and matching lengths', () => {
    expect(() => ck.vision.rocAuc([1, 2], [1, 1])).toThrow(/both positives and negatives/);
    expect(() => ck.vision.rocAuc([1, 2], [1])).toThrow(/2 scores but 1 labels/);
    expect(() => ck.vision.rocAuc([NaN, 2], [1, 0])).toThrow(/scores\[0\] must be finite/);
  });
});

describe('drawBoxes', () => {
  it('rasterises a box outline in its class colour, scaled', async () => {
    const img = ck.zeros([8, 8, 3]);
    const out = ck.vision.drawBoxes(img, [[0.25, 0.25, 0.75, 0.75]], ['sq'], { scale: 4, classIds: [1] });
    expect([out.width, out.height, out.channels]).toEqual([32, 32, 3]);
    const at = (x: number, y: number) => Array.from(out.pixels.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
    expect(at(8, 16)).toEqual([...ck.vision.CLASS_COLOURS[1]]); // left edge
    expect(at(23, 16)).toEqual([...ck.vision.CLASS_COLOURS[1]]); // right edge (x2 - 1)
    expect(at(16, 16)).toEqual([0, 0, 0]); // inside stays
    // The label's glyphs are drawn in the box colour on a dark strip above the box.
    const strip = Array.from({ length: 7 * 9 }, (_, k) => at(8 + (k % 9), 1 + Math.floor(k / 9)));
    expect(strip.some((p) => p[1] === ck.vision.CLASS_COLOURS[1][1])).toBe(true);
    expect(ck.vision.encodePNG(out).length).toBeGreaterThan(32 * 32 * 3);
    // With a deflate function (node:zlib here) the file is small and decodes to the same pixels.
    const small = ck.vision.encodePNG(out, { deflate: (raw) => deflateSync(raw) });
    expect(small.length).toBeLessThan(32 * 32);
    const back = await ck.decodePng(small);
    expect(Array.from(back.data)).toEqual(Array.from(out.pixels));
  });
  it('rejects reversed boxes and wrong image shapes', () => {
    expect(() => ck.vision.drawBoxes(ck.zeros([8, 8, 3]), [[0.5, 0, 0.25, 1]])).toThrow(/boxes\[0\] has x2 < x1/);
    expect(() => ck.vision.drawBoxes(ck.zeros([8, 8]), [])).toThrow(/image must have shape \[H, W, 3\]/);
    expect(() => ck.vision.drawBoxes(ck.zeros([8, 8, 3]), [[0, 0, 1, 1]], ['a', 'b'])).toThrow(/2 labels for 1 boxes/);
  });
});
