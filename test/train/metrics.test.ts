import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { accuracy, topKAccuracy, topKCorrect, topK, confusionMatrix, argMaxRows } from '../../src/train/metrics.js';

const scores = ck.tensor([
  [0.1, 0.5, 0.2, 0.2], // order 1, then 2 = 3 (tie), then 0
  [0.9, 0.05, 0.03, 0.02],
  [0.3, 0.3, 0.4, 0.0],
]);

describe('accuracy and top-k', () => {
  it('arg-max accuracy, first maximum on ties', () => {
    expect(accuracy(scores, [1, 0, 2])).toBe(1);
    expect(accuracy(scores, [1, 1, 0])).toBeCloseTo(1 / 3, 12);
    expect(Array.from(argMaxRows([1, 1, 0, 2, 2, 2], 2, 3))).toEqual([0, 0]);
    // One-hot labels work like indices.
    expect(accuracy(scores, ck.tensor([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]))).toBeCloseTo(2 / 3, 12);
  });

  it('top-k counts a label in the top k when fewer than k classes score higher (in_top_k)', () => {
    // Row 0 label 3: one class (1) scores higher -> in top 2; label 0: three higher -> only top 4.
    expect(topKCorrect(scores, [3, 0, 3], 2)).toBe(2); // row 0 yes, row 1 (label 0 is best) yes, row 2 label 3 last: no
    // Row 0 label 0: three classes higher -> no; row 1 label 1: one higher -> yes; row 2 label 3: three higher -> no.
    expect(topKCorrect(scores, [0, 1, 3], 3)).toBe(1);
    expect(topKAccuracy(scores, [0, 3, 3], 4)).toBe(1);
    expect(topKAccuracy(scores, [1, 0, 2], 1)).toBe(1);
    // Row 2: labels 0 and 1 tie at 0.3 behind 0.4: both are in the top 2.
    expect(topKCorrect(scores, [2, 0, 0], 2)).toBe(3);
    expect(topKCorrect(scores, [2, 0, 1], 2)).toBe(3);
    expect(() => topKAccuracy(scores, [0, 9, 0], 2)).toThrow(/label 9 of row 1 is out of range for 4 classes/);
  });

  it('lists the k best classes per row with their scores', () => {
    const t = topK(scores, 2);
    expect(t.indices).toEqual([[1, 2], [0, 1], [2, 0]]);
    expect(t.values[1][0]).toBeCloseTo(0.9, 6);
  });
});

describe('confusion matrix', () => {
  it('counts truth x prediction exactly, with precision and recall', () => {
    const cm = confusionMatrix([0, 1, 1, 2, 2, 2, 0], [0, 1, 2, 2, 2, 1, 1], { numClasses: 3 });
    expect(cm.counts).toEqual([
      [1, 0, 0],
      [1, 1, 1],
      [0, 1, 2],
    ]);
    expect(cm.total).toBe(7);
    expect(cm.accuracy).toBeCloseTo(4 / 7, 12);
    expect(cm.recall(1)).toBeCloseTo(1 / 3, 12);
    expect(cm.precision(2)).toBeCloseTo(2 / 3, 12);
    expect(cm.precision(0)).toBeCloseTo(1 / 2, 12);
  });

  it('takes scores (arg-max) and prints a labelled table', () => {
    const cm = confusionMatrix(scores, [1, 0, 0], { classNames: ['cat', 'dog', 'eel', 'fox'] });
    // Predictions 1, 0, 2 against truths 1, 0, 0.
    expect(cm.counts[0]).toEqual([1, 0, 1, 0]);
    const text = cm.toString();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^true\\pred +cat +dog +eel +fox +recall$/);
    expect(lines[1]).toMatch(/^cat +1 +0 +1 +0 +50\.0%$/);
    expect(lines[2]).toMatch(/^dog +0 +1 +0 +0 +100\.0%$/);
    expect(lines[3]).toMatch(/^eel +0 +0 +0 +0 +-$/);
    expect(lines[5]).toBe('accuracy 66.67% of 3');
    expect(() => confusionMatrix([0, 5], [0, 1], { numClasses: 3 })).toThrow(/prediction 5 at 1 is not a class 0..2/);
    // Names too wide for the columns: columns by index, rows say which index each name has.
    const wide = confusionMatrix([0, 1], [0, 1], { numClasses: 2, classNames: ['T-shirt/top', 'Bag'] }).toString().split('\n');
    expect(wide[0]).toMatch(/^true\\pred +0 +1 +recall$/);
    expect(wide[1]).toMatch(/^0 T-shirt\/top +1 +0 +100\.0%$/);
    expect(wide[2]).toMatch(/^1 Bag +0 +1 +100\.0%$/);
  });
});
