import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { Dataset } from '../../src/data/index.js';

/** n samples of shape [2, 2, 1] whose values all equal the sample index; label = index % k. */
function indexed(n: number, k = 3): Dataset {
  const x = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) x.fill(i, i * 4, i * 4 + 4);
  return new Dataset({ x, sampleShape: [2, 2, 1], y: Int32Array.from({ length: n }, (_, i) => i % k), name: 't' });
}
const ids = (d: Dataset) => Array.from({ length: d.length }, (_, i) => d.x[i * 4]);

describe('Dataset', () => {
  it('checks sizes, label/sample counts and class ranges', () => {
    expect(() => new Dataset({ x: new Float32Array(7), sampleShape: [2, 2], y: new Int32Array(2) })).toThrow(/7 sample values do not divide into samples of shape \[2, 2\]/);
    expect(() => new Dataset({ x: new Float32Array(8), sampleShape: [2, 2], y: new Int32Array(3) })).toThrow(/label\/sample count mismatch/);
    expect(() => new Dataset({ x: new Float32Array(8), sampleShape: [2, 2], y: Int32Array.from([0, 5]), numClasses: 3 })).toThrow(/label 5 is out of range for 3 classes/);
  });

  it('shuffles reproducibly by seed, as a permutation', () => {
    const d = indexed(50);
    const a = ids(d.shuffle(7)), b = ids(d.shuffle(7)), c = ids(d.shuffle(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort((p, q) => p - q)).toEqual(ids(d));
    // Labels travel with their samples.
    const s = d.shuffle(7);
    for (let i = 0; i < s.length; i++) expect(s.y[i]).toBe(s.x[i * 4] % 3);
  });

  it('batches in order, keeps the remainder unless dropRemainder, and shuffles by seed', () => {
    const d = indexed(10);
    const sizes = [...d.hostBatches(4)].map((b) => b.size);
    expect(sizes).toEqual([4, 4, 2]);
    expect([...d.hostBatches(4, { dropRemainder: true })].map((b) => b.size)).toEqual([4, 4]);
    expect(d.batchCount(4)).toBe(3);
    const first = [...d.hostBatches(3)][0];
    expect(Array.from(first.indices)).toEqual([0, 1, 2]);
    const order = (seed: number) => [...d.hostBatches(3, { shuffle: true, seed })].flatMap((b) => Array.from(b.indices));
    expect(order(1)).toEqual(order(1));
    expect([...order(1)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [b0] = [...d.batches(4)];
    expect(b0.x.shape).toEqual([4, 2, 2, 1]);
    expect(b0.y.dtype).toBe('int32');
    expect(b0.y.toArray()).toEqual([0, 1, 2, 0]);
  });

  it('splits by fractions or counts into disjoint parts covering the set', () => {
    const d = indexed(20);
    const [a, b, c] = d.split([0.5, 0.3, 0.2], { seed: 3 });
    expect([a.length, b.length, c.length]).toEqual([10, 6, 4]);
    expect([...ids(a), ...ids(b), ...ids(c)].sort((p, q) => p - q)).toEqual(ids(d));
    const [p, q] = d.split([15, 5], { shuffle: false });
    expect(ids(p)).toEqual(ids(d).slice(0, 15));
    expect(ids(q)).toEqual(ids(d).slice(15));
    expect(() => d.split([0.5, 0.2])).toThrow(/fractions summing to 1 or counts summing to 20/);
    const again = d.split([0.5, 0.3, 0.2], { seed: 3 });
    expect(ids(again[1])).toEqual(ids(b));
  });

  it('stratifies train/validation/test splits by class', () => {
    const d = indexed(300, 3);
    const { train, validation, test } = d.trainValTest({ validation: 0.1, test: 0.2, seed: 1 });
    expect(train.classCounts()).toEqual([70, 70, 70]);
    expect(validation!.classCounts()).toEqual([10, 10, 10]);
    expect(test.classCounts()).toEqual([20, 20, 20]);
    expect(test.name).toBe('t (test)');
  });

  it('stratified splits keep the overall sizes exact and each class within one sample of its share', () => {
    // 12 samples in each of 10 classes: 20% of 120 is 24 test samples, 2 or 3 per class.
    const d = indexed(120, 10);
    const { train, test } = d.trainValTest({ test: 0.2, seed: 5 });
    expect([train.length, test.length]).toEqual([96, 24]);
    for (const c of test.classCounts()) expect(c === 2 || c === 3).toBe(true);
    expect([...ids(train), ...ids(test)].sort((a, b) => a - b)).toEqual(ids(d));
  });

  it('converts to and from tensors', () => {
    const x = ck.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = ck.tensor([2, 0, 1], [3], 'int32');
    const d = Dataset.fromTensors(x, y);
    expect(d.length).toBe(3);
    expect(d.numClasses).toBe(3);
    const back = d.toTensors();
    expect(back.x.arraySync()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(back.y.toArray()).toEqual([2, 0, 1]);
    const reg = Dataset.fromTensors(x, ck.tensor([[0.5], [1], [2]]));
    expect(reg.hasClassLabels).toBe(false);
    expect(reg.labelShape).toEqual([1]);
    expect(() => Dataset.fromTensors(x, ck.tensor([1, 2], [2], 'int32'))).toThrow(/same first \(sample\) dimension/);
  });
});

describe('slice and take count whole samples (issue 13, part 11)', () => {
  const ds = () => new Dataset({ x: Float32Array.from({ length: 10 * 2 }, (_, i) => i), sampleShape: [2], y: Int32Array.from({ length: 10 }, (_, i) => i), numClasses: 10 });
  const ys = (d: Dataset) => Array.from(d.y);

  it('negative indices count from the end, as Array.prototype.slice does', () => {
    expect(ys(ds().slice(-3))).toEqual([7, 8, 9]);
    expect(ys(ds().slice(2, -6))).toEqual([2, 3]);
    expect(ys(ds().slice(-100, 2))).toEqual([0, 1]);
    expect(ys(ds().slice(8, 100))).toEqual([8, 9]);
    expect(ds().slice(-3).x.length).toBe(6);
  });

  it('fractional indices and negative or fractional take counts are errors (they split a sample)', () => {
    expect(() => ds().take(1.5)).toThrow(/^Dataset.take: n must be a non-negative integer \(a number of samples\), received 1.5$/);
    expect(() => ds().take(-5)).toThrow(/^Dataset.take: n must be a non-negative integer \(a number of samples\), received -5$/);
    expect(() => ds().slice(0.5)).toThrow(/^Dataset.slice: start must be an integer \(a sample index\), received 0.5$/);
    expect(() => ds().slice(0, NaN)).toThrow(/^Dataset.slice: end must be an integer \(a sample index\), received NaN$/);
    expect(ds().take(0).length).toBe(0);
  });
});
