/**
 * Classic image filters, worked by hand: edge detectors on step images, Sobel and Scharr
 * weights, sharpen with zero padding, mean blur, correlation versus true convolution,
 * successive application and blending. Properties of true convolution (commutative with
 * full padding, associative for 'valid') check filter2d against itself independently of
 * any hand-computed number.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';

const { filters } = ck;

/** 6x6 image, 10 on the left half and 0 on the right (a light-to-dark vertical edge). */
const stepLeftBright = () => ck.tensor(Array.from({ length: 6 }, () => [10, 10, 10, 0, 0, 0]));
const rows = (t: Tensor) => t.arraySync() as number[][];

describe('edge detectors', () => {
  it('vertical edge on the 10|0 image gives 30s in the middle columns', () => {
    const y = filters.filter2d(stepLeftBright(), filters.verticalEdge());
    expect(y.shape).toEqual([4, 4]);
    expect(rows(y)).toEqual(Array.from({ length: 4 }, () => [0, 30, 30, 0]));
  });
  it('the mirrored dark-to-light image gives -30, and abs() keeps only the strength', () => {
    const mirrored = ck.tensor(Array.from({ length: 6 }, () => [0, 0, 0, 10, 10, 10]));
    expect(rows(filters.filter2d(mirrored, filters.verticalEdge()))).toEqual(Array.from({ length: 4 }, () => [0, -30, -30, 0]));
    expect(rows(filters.filter2d(mirrored, filters.verticalEdge(), { abs: true }))).toEqual(Array.from({ length: 4 }, () => [0, 30, 30, 0]));
  });
  it('on a 10/0 checkerboard of quadrants the response fades through the crossing rows', () => {
    const top = [10, 10, 10, 0, 0, 0], bottom = [0, 0, 0, 10, 10, 10];
    const img = ck.tensor([top, top, top, bottom, bottom, bottom]);
    // Row 1 window: two rows of +10 contrast and one of -10 -> 10; row 2 the other way round -> -10.
    expect(rows(filters.filter2d(img, filters.verticalEdge()))).toEqual([[0, 30, 30, 0], [0, 10, 10, 0], [0, -10, -10, 0], [0, -30, -30, 0]]);
  });
  it('horizontal edge on a bright-top image gives 30s in the middle rows, and 0 on vertical edges', () => {
    const brightTop = ck.transpose(stepLeftBright());
    expect(rows(filters.filter2d(brightTop, filters.horizontalEdge()))).toEqual([[0, 0, 0, 0], [30, 30, 30, 30], [30, 30, 30, 30], [0, 0, 0, 0]]);
    expect(rows(filters.filter2d(stepLeftBright(), filters.horizontalEdge()))).toEqual(Array.from({ length: 4 }, () => [0, 0, 0, 0]));
  });
  it('Sobel and Scharr weight the centre row: 10 * (1+2+1) = 40 and 10 * (3+10+3) = 160', () => {
    expect(rows(filters.filter2d(stepLeftBright(), filters.sobelX()))).toEqual(Array.from({ length: 4 }, () => [0, 40, 40, 0]));
    expect(rows(filters.filter2d(stepLeftBright(), filters.scharrX()))).toEqual(Array.from({ length: 4 }, () => [0, 160, 160, 0]));
    expect(rows(filters.filter2d(stepLeftBright(), filters.sobelY()))).toEqual(Array.from({ length: 4 }, () => [0, 0, 0, 0]));
    const brightTop = ck.transpose(stepLeftBright());
    expect(rows(filters.filter2d(brightTop, filters.sobelY()))[1]).toEqual([40, 40, 40, 40]);
    expect(rows(filters.filter2d(brightTop, filters.scharrY()))[2]).toEqual([160, 160, 160, 160]);
    // Every edge kernel sums to 0: a flat image gives no response.
    for (const k of [filters.verticalEdge(), filters.horizontalEdge(), filters.sobelX(), filters.sobelY(), filters.scharrX(), filters.scharrY(), filters.meanSubtract2x2()]) {
      expect(ck.sum(k).item()).toBe(0);
    }
  });
});

describe('blur, sharpen and masks', () => {
  it('sharpen with zero padding on a 3x3 image (5x - up - down - left - right)', () => {
    const img = ck.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    // e.g. corner (0,0): 5*1 - 2 - 4 = -1; centre: 25 - 2 - 8 - 4 - 6 = 5; (2,1): 40 - 5 - 7 - 9 = 19.
    expect(rows(filters.filter2d(img, filters.sharpen(), { padding: 'same' }))).toEqual([[-1, 1, 7], [7, 5, 13], [23, 19, 31]]);
    expect(rows(filters.filter2d(img, filters.sharpen(), { padding: 1 }))).toEqual([[-1, 1, 7], [7, 5, 13], [23, 19, 31]]);
  });
  it('mean (box) blur averages each 3x3 neighbourhood', () => {
    expect(rows(filters.boxBlur())).toEqual(Array.from({ length: 3 }, () => [1 / 9, 1 / 9, 1 / 9].map(Math.fround)));
    const img = ck.arange(0, 16, 1, 'float64').reshape([4, 4]);
    expectClose(filters.filter2d(img, filters.boxBlur(3, 'float64')), ck.tensor([[5, 6], [9, 10]], undefined, 'float64'), { atol: 1e-12 });
    expect(filters.meanBlur).toBe(filters.boxBlur);
  });
  it('gaussianKernel: normalised, symmetric, exp(-r^2 / 2 sigma^2) profile', () => {
    const g = filters.gaussianKernel(3, 1, 'float64').toArray();
    expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(g[0] / g[4]).toBeCloseTo(Math.exp(-1), 12);
    expect(g[1] / g[4]).toBeCloseTo(Math.exp(-0.5), 12);
    expect([g[0], g[1], g[3]]).toEqual([g[8], g[7], g[5]]);
    const g5 = filters.gaussianKernel(5, undefined, 'float64');
    expect(g5.shape).toEqual([5, 5]);
    // A Gaussian blur keeps a constant image constant (away from the zero padding).
    expectClose(filters.filter2d(ck.full([7, 7], 3, 'float64'), g5), ck.full([3, 3], 3, 'float64'), { atol: 1e-12 });
    expect(() => filters.gaussianKernel(4)).toThrow(/gaussianKernel: size must be an odd positive integer, received 4/);
    expect(() => filters.gaussianKernel(3, 0)).toThrow(/gaussianKernel: sigma must be a positive number, received 0/);
  });
  it('2x2 mean-subtract mask: the top-left pixel minus the mean of its 2x2 block', () => {
    const img = ck.tensor([[8, 4, 0], [2, 6, 6]]);
    expect(rows(filters.filter2d(img, filters.meanSubtract2x2()))).toEqual([[8 - 20 / 4, 4 - 16 / 4]]);
  });
  it('multi-channel and batched images: each channel is filtered on its own', () => {
    const base = stepLeftBright();
    const rgb = ck.stack([base, ck.mul(base, 2), ck.mul(base, -1)], 2); // [6,6,3]
    const y = filters.filter2d(rgb, filters.verticalEdge());
    expect(y.shape).toEqual([4, 4, 3]);
    expect(y.slice([0, 0, 0], [1, 4, 3]).reshape([4, 3]).arraySync()).toEqual([[0, 0, 0], [30, 60, -30], [30, 60, -30], [0, 0, 0]]);
    const batch = ck.stack([rgb, ck.mul(rgb, 0)]); // [2,6,6,3]
    const yb = filters.filter2d(batch, filters.verticalEdge(), { padding: 'same', strides: 2 });
    expect(yb.shape).toEqual([2, 3, 3, 3]);
    expect(ck.sum(ck.abs(yb.slice([1, 0, 0, 0], [1, 3, 3, 3]))).item()).toBe(0);
  });
});

describe('correlation, convolution, successive application, blending', () => {
  const img = () => ck.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const asym = [[1, 2], [3, 4]];
  it('true convolution and correlation differ for an asymmetric kernel', () => {
    // Correlation (0,0): 1*1 + 2*2 + 3*4 + 4*5 = 37; convolution uses [[4,3],[2,1]]: 4 + 6 + 8 + 5 = 23.
    expect(rows(filters.filter2d(img(), asym))).toEqual([[37, 47], [67, 77]]);
    expect(rows(filters.filter2d(img(), asym, { mode: 'convolve' }))).toEqual([[23, 33], [53, 63]]);
    // A kernel symmetric under the 180-degree flip gives the same either way.
    expect(rows(filters.filter2d(img(), filters.sharpen(), { mode: 'convolve', padding: 'same' }))).toEqual(rows(filters.filter2d(img(), filters.sharpen(), { padding: 'same' })));
    // The convolve2d op agrees.
    expect(ck.convolve2d(img().reshape([1, 3, 3, 1]), ck.tensor(asym).reshape([2, 2, 1, 1])).toArray()).toEqual([23, 33, 53, 63]);
  });

  const small = (seed: number, h: number, w: number) => ck.randomNormal([h, w], { seed, dtype: 'float64' });
  it('full true convolution is commutative, correlation is not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (h, w, kh, kw, seed) => {
        const a = small(seed, h, w), k = small(seed + 1, kh, kw);
        const full = (x: Tensor, y: Tensor, mode: 'convolve' | 'correlate') =>
          filters.filter2d(x, y, { mode, padding: [[y.shape[0] - 1, y.shape[0] - 1], [y.shape[1] - 1, y.shape[1] - 1]] });
        expectClose(full(a, k, 'convolve'), full(k, a, 'convolve'), { atol: 1e-12, rtol: 1e-12 });
        // Correlation in the other order is the 180-degree rotation of the result instead.
        expectClose(full(a, k, 'correlate'), ck.reverse(full(k, a, 'correlate'), [0, 1]), { atol: 1e-12, rtol: 1e-12 });
      }),
      { numRuns: 25, seed: 41 },
    );
  });
  it('successive true convolutions equal one convolution with the combined kernel (associativity)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.nat(), (k1s, k2s, extra, seed) => {
        const n = k1s + k2s - 1 + extra;
        const a = small(seed, n, n + 1), k1 = small(seed + 1, k1s, k1s), k2 = small(seed + 2, k2s, k2s);
        const combined = filters.filter2d(k1, k2, { mode: 'convolve', padding: k2s - 1 });
        const twice = filters.applySuccessively(a, [k1, k2], { mode: 'convolve' });
        expectClose(twice, filters.filter2d(a, combined, { mode: 'convolve' }), { atol: 1e-12, rtol: 1e-12 });
      }),
      { numRuns: 25, seed: 42 },
    );
  });
  it('applySuccessively computes M3 (x) (M2 (x) (M1 (x) A))', () => {
    const a = ck.arange(0, 64, 1, 'float64').reshape([8, 8]);
    const ks = [filters.boxBlur(3, 'float64'), filters.sharpen('float64'), filters.sobelX('float64')];
    const y = filters.applySuccessively(a, ks);
    expect(y.shape).toEqual([2, 2]);
    expectClose(y, filters.filter2d(filters.filter2d(filters.filter2d(a, ks[0]), ks[1]), ks[2]), { atol: 0, rtol: 0 });
    // On the ramp x[i,j] = 8i + j the blur and sharpen keep the slope 1 along a row; Sobel then reads 4 * (-2).
    expectClose(y, ck.full([2, 2], -8, 'float64'), { atol: 1e-9 });
  });
  it('blend gives 0.3 A + 0.7 B by default', () => {
    const a = ck.tensor([10, 20, 0]), b = ck.tensor([0, 100, 1]);
    expectClose(filters.blend(a, b), [3, 76, 0.7]);
    expectClose(filters.blend(a, b, 1), [10, 20, 0]);
    expect(() => filters.blend(a, ck.zeros([2]))).toThrow(/blend: b has shape \[2\], expected a's shape \[3\]/);
  });
  it('normalizeImage maps 0..255 to 0..1', () => {
    const t = filters.normalizeImage(new Uint8Array([0, 51, 102, 255]), [2, 2]);
    expect(t.shape).toEqual([2, 2]);
    expectClose(t, [0, 0.2, 0.4, 1], { atol: 1e-7 });
    expectClose(filters.normalizeImage(ck.tensor([255, 0], undefined, 'int32'), undefined, 'float64'), [1, 0], { atol: 0 });
    expect(() => filters.normalizeImage([0, 256])).toThrow(/normalizeImage: pixel 1 is 256, expected a value in 0..255/);
    expect(() => filters.normalizeImage([NaN])).toThrow(/pixel 0 is NaN/);
  });
});

describe('filter2d gradients and errors', () => {
  it('gradients flow to the image and to the kernel (a learnable filter)', () => {
    const img = ck.randomNormal([5, 4, 2], { seed: 1, dtype: 'float64' });
    const k = ck.randomNormal([3, 2], { seed: 2, dtype: 'float64' });
    gradcheck((x, w) => filters.filter2d(x, w, { padding: 'same' }), [img, k]);
    gradcheck((x, w) => filters.filter2d(x, w, { mode: 'convolve', strides: [2, 1] }), [img, k]);
  });
  it('errors name filter2d and the shapes', () => {
    expect(() => filters.filter2d(ck.zeros([2, 2, 2, 2, 2]), filters.sobelX())).toThrow(/filter2d: image must have rank 2 \(H,W\), 3 \(H,W,C\) or 4 \(N,H,W,C\), received shape \[2, 2, 2, 2, 2\]/);
    expect(() => filters.filter2d(ck.zeros([4, 4]), ck.zeros([3, 3, 1]))).toThrow(/filter2d: kernel must have rank 2 \(KH,KW\), received shape \[3, 3, 1\]/);
    expect(() => filters.filter2d(ck.zeros([2, 2]), filters.sobelX())).toThrow(/filter2d: kernel of size \[3, 3\].*larger than the padded input \(2 = 2 \+ 0 \+ 0 on axis 0\) \(x shape \[1, 2, 2, 1\]/);
    expect(() => filters.filter2d(ck.zeros([4, 4]), filters.sobelX(), { mode: 'flip' as 'convolve' })).toThrow(/filter2d: mode must be 'correlate' or 'convolve', received "flip"/);
    expect(() => filters.filter2d(ck.zeros([4, 4], 'int32'), filters.sobelX())).toThrow(/filter2d: image must be float32 or float64/);
    expect(() => filters.boxBlur(0)).toThrow(/boxBlur: size must be a positive integer, received 0/);
  });
});
