import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { torchVectorTests } from './nn_vectors.js';

const boxes64 = (rows: number[][]) => ck.tensor(rows.flat(), [rows.length, 4], 'float64');
const scores64 = (v: number[]) => ck.tensor(v, [v.length], 'float64');

describe('iou', () => {
  it('identical = 1, disjoint = 0, half overlap, partial overlap', () => {
    const a = boxes64([[0, 0, 2, 2]]);
    const b = boxes64([[0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 1, 2], [1, 0, 3, 2], [2, 0, 4, 2]]);
    // [0,0,1,2] covers half of a: 2 / 4. [1,0,3,2]: intersection 2, union 6. [2,0,4,2] only touches: 0.
    expectClose(ck.iou(a, b), [1, 0, 0.5, 1 / 3, 0], { atol: 1e-15, rtol: 0 });
    expect(ck.iou(a, b).shape).toEqual([1, 5]);
  });
  it('a zero-area union gives 0, never NaN; swapped corners are normalised', () => {
    const y = ck.iou(boxes64([[1, 1, 1, 1], [0, 0, 0, 3]]), boxes64([[1, 1, 1, 1], [0, 0, 0, 3]])).toArray();
    expect(y).toEqual([0, 0, 0, 0]);
    expect(ck.iou(boxes64([[2, 2, 0, 0]]), boxes64([[0, 0, 1, 2]])).item()).toBe(0.5);
    expect(Number.isNaN(ck.iou(boxes64([[NaN, 0, 1, 1]]), boxes64([[0, 0, 1, 1]])).item())).toBe(true);
  });
  it('is symmetric, in [0, 1], 1 on the diagonal (property); float32 agrees', () => {
    const box = fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0.01, max: 4, noNaN: true }), fc.double({ min: 0.01, max: 4, noNaN: true }))
      .map(([x, y, w, h]) => [x, y, x + w, y + h]);
    fc.assert(
      fc.property(fc.array(box, { minLength: 1, maxLength: 6 }), fc.array(box, { minLength: 1, maxLength: 6 }), (ra, rb) => {
        const a = boxes64(ra), b = boxes64(rb);
        const ab = ck.iou(a, b), ba = ck.iou(b, a);
        expectClose(ab, ck.transpose(ba), { atol: 0, rtol: 0 });
        expect(ab.toArray().every((v) => v >= 0 && v <= 1)).toBe(true);
        const aa = ck.iou(a, a).arraySync() as number[][];
        aa.forEach((row, i) => expect(row[i]).toBeCloseTo(1, 12));
        expectClose(ck.iou(ck.cast(a, 'float32'), ck.cast(b, 'float32')), ab, { atol: 2e-6, rtol: 1e-5 });
      }),
      { numRuns: 50 },
    );
  });
  it('errors name the argument and the shape', () => {
    expect(() => ck.iou(ck.zeros([2, 3]), ck.zeros([1, 4]))).toThrow(/iou: a must have shape \[N, 4\] \(x1, y1, x2, y2\), received \[2, 3\]/);
    expect(() => ck.iou(ck.zeros([2, 4]), ck.zeros([1, 4], 'float64'))).toThrow(/iou: a is float32 but b is float64/);
  });
});

describe('nms', () => {
  // 3 is best; 0 overlaps it with IoU exactly 0.5 (dropped: IoU >= threshold); 1 overlaps 3
  // with IoU 36/114 and 0 with 81/119; 2 is far away; 4 is far away but scores 0.3.
  const B = boxes64([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 5], [40, 40, 50, 50]]);
  const S = scores64([0.9, 0.8, 0.7, 0.95, 0.3]);

  it('keeps the right indices, best first, on a worked example', () => {
    expect(ck.iou(boxes64([[0, 0, 10, 10]]), boxes64([[0, 0, 10, 5]])).item()).toBe(0.5);
    const keep = ck.nms(B, S, { scoreThreshold: 0.5 });
    expect(keep.dtype).toBe('int32');
    expect(keep.toArray()).toEqual([3, 1, 2]);
    expect(ck.nms(B, S).toArray()).toEqual([3, 1, 2, 4]);
    expect(ck.nms(B, S, { maxOutput: 2 }).toArray()).toEqual([3, 1]);
    // Threshold 0.6: 0 survives 3 (IoU 0.5), then suppresses 1 (IoU 0.68).
    expect(ck.nms(B, S, { iouThreshold: 0.6 }).toArray()).toEqual([3, 0, 2, 4]);
    expect(ck.nms(B, S, { scoreThreshold: 0.99 }).toArray()).toEqual([]);
  });
  it('per class: boxes of different classes never suppress each other', () => {
    const classes = ck.tensor([1, 0, 0, 0, 0], [5], 'int32');
    expect(ck.nmsPerClass(B, S, classes, { scoreThreshold: 0.5 }).toArray()).toEqual([3, 0, 1, 2]);
    // One class for all: the same as nms.
    expect(ck.nmsPerClass(B, S, ck.zeros([5], 'int32')).toArray()).toEqual(ck.nms(B, S).toArray());
    expect(ck.nmsPerClass(B, S, classes, { maxOutput: 3 }).toArray()).toEqual([3, 0, 1]);
    expect(() => ck.nmsPerClass(B, S, ck.zeros([4], 'int32'))).toThrow(/nmsPerClass: classes must have shape \[5\]/);
    expect(() => ck.nmsPerClass(B, S, ck.tensor([0.5, 0, 0, 0, 0], [5]))).toThrow(/class id 0.5 at index 0 is not an integer/);
  });
  it('greedy invariants on random boxes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(10_000), fc.double({ min: 0.1, max: 0.9, noNaN: true }), (n, seed, thr) => {
        const xy = ck.randomUniform([n, 2], { seed, max: 8, dtype: 'float64' }).toArray();
        const wh = ck.randomUniform([n, 2], { seed: seed + 1, min: 0.5, max: 4, dtype: 'float64' }).toArray();
        const rows = Array.from({ length: n }, (_, i) => [xy[2 * i], xy[2 * i + 1], xy[2 * i] + wh[2 * i], xy[2 * i + 1] + wh[2 * i + 1]]);
        const sv = ck.randomUniform([n], { seed: seed + 2, dtype: 'float64' }).toArray();
        const keep = ck.nms(boxes64(rows), scores64(sv), { iouThreshold: thr }).toArray();
        const m = ck.iou(boxes64(rows), boxes64(rows)).arraySync() as number[][];
        // Best first.
        for (let i = 1; i < keep.length; i++) expect(sv[keep[i - 1]]).toBeGreaterThanOrEqual(sv[keep[i]]);
        // No two kept boxes overlap at or above the threshold.
        for (const i of keep) for (const j of keep) if (i !== j) expect(m[i][j]).toBeLessThan(thr);
        // Every dropped box overlaps a kept box that scores at least as high.
        for (let i = 0; i < n; i++) {
          if (keep.includes(i)) continue;
          expect(keep.some((k) => m[i][k] >= thr && sv[k] >= sv[i])).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
  it('drops NaN scores and checks its arguments', () => {
    expect(ck.nms(boxes64([[0, 0, 1, 1], [5, 5, 6, 6]]), scores64([NaN, 0.5])).toArray()).toEqual([1]);
    expect(() => ck.nms(B, scores64([1, 2]))).toThrow(/nms: scores must have shape \[5\] \(one per box of boxes \[5, 4\]\), received \[2\]/);
    expect(() => ck.nms(B, S, { iouThreshold: 1.5 })).toThrow(/nms: iouThreshold must be in \[0, 1\], received 1.5/);
    expect(() => ck.nms(B, S, { maxOutput: -1 })).toThrow(/nms: maxOutput must be a non-negative integer/);
  });
});

describe('boxes vs PyTorch/torchvision (test/ops/vectors/nn-torch.json)', () => {
  // torchvision's nms drops IoU > threshold and convkit IoU >= threshold; the random boxes
  // of the vector have no pair at exactly the threshold, so the kept sets agree.
  torchVectorTests(['iou', 'nms']);
});
