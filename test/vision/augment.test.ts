import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { Augmenter, applyTransform, flipLeftRight, flipUpDown, rotateImages, scaleImages, translateImages, cropImages } from '../../src/vision/augment.js';

const batch = (shape: [number, number, number, number], seed: number) => ck.randomUniform(shape, { seed });

describe('deterministic transforms', () => {
  it('flip twice is the identity, and a flip mirrors exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }), (n, h, w, c) => {
        const x = batch([n, h, w, c], h * 31 + w);
        expect(flipLeftRight(flipLeftRight(x)).toArray()).toEqual(x.toArray());
        expect(flipUpDown(flipUpDown(x)).toArray()).toEqual(x.toArray());
        expect(flipLeftRight(x).toArray()).toEqual(ck.reverse(x, 2).toArray());
        expect(flipUpDown(x).toArray()).toEqual(ck.reverse(x, 1).toArray());
      }),
      { numRuns: 25 },
    );
  });

  it('rotation by 0 and scale 1 are the identity; four quarter turns come back', () => {
    const x = batch([2, 6, 6, 3], 1);
    expect(rotateImages(x, 0).toArray()).toEqual(x.toArray());
    expect(scaleImages(x, 1).toArray()).toEqual(x.toArray());
    let r = x;
    for (let i = 0; i < 4; i++) r = rotateImages(r, 90);
    const a = r.toArray(), b = x.toArray();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
    // A quarter turn of a square image is a transpose plus a flip (an exact pixel permutation).
    const q = rotateImages(x, 90).toArray().sort();
    expect(q).toEqual([...b].sort());
  });

  it('a quarter turn moves the top-left corner to a neighbouring corner', () => {
    const img = ck.zeros([1, 5, 5, 1]).toArray();
    img[0] = 1; // top-left
    const x = ck.tensor(img, [1, 5, 5, 1]);
    const r = rotateImages(x, 90).toArray();
    const at = r.findIndex((v) => Math.abs(v - 1) < 1e-9);
    expect([4, 20]).toContain(at); // top-right or bottom-left, depending on the sense
    expect(r.filter((v) => Math.abs(v) > 1e-9).length).toBe(1);
  });

  it('scaling up by 2 about the centre keeps the centre pixel and spreads others', () => {
    const img = new Array(25).fill(0);
    img[12] = 1; // centre of 5x5
    const r = scaleImages(ck.tensor(img, [1, 5, 5, 1]), 2).toArray();
    expect(r[12]).toBe(1);
    expect(r[11]).toBeCloseTo(0.5, 12); // half-way between the centre and its zero neighbour
  });

  it('translation shifts whole pixels with zero fill; crop windows read zeros outside', () => {
    const x = ck.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    expect(translateImages(x, 1, 0).toArray()).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6]);
    expect(translateImages(x, 0, -1).toArray()).toEqual([2, 3, 0, 5, 6, 0, 8, 9, 0]);
    expect(cropImages(x, 1, 1, 2, 2).toArray()).toEqual([5, 6, 8, 9]);
    expect(cropImages(x, -1, 0, 2, 2).toArray()).toEqual([0, 0, 1, 2]);
  });
});

describe('whole-pixel moves (flips and integer shifts)', () => {
  it('take each pixel as the bilinear warp does (compared with shifts a hair off whole, which the warp samples)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 }), (h, w, c, flipH, flipV, sy, sx) => {
        const src = Float32Array.from({ length: h * w * c }, (_, i) => ((i * 7919) % 97) / 97);
        const shape = [1, h, w, c] as const;
        const t = { flipH, flipV, angle: 0, scale: 1, shiftY: sy, shiftX: sx, brightness: 0, contrast: 1, channelShift: new Array(c).fill(0) };
        const fast = new Float32Array(src.length), slow = new Float32Array(src.length);
        applyTransform(src, fast, shape, 0, t);
        applyTransform(src, slow, shape, 0, { ...t, shiftY: sy + 1e-7, shiftX: sx + 1e-7 });
        for (let i = 0; i < src.length; i++) expect(Math.abs(fast[i] - slow[i]), `index ${i}`).toBeLessThan(1e-5);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Augmenter (random, seeded)', () => {
  const opts = { flipHorizontal: true, cropPadding: 2, rotation: 15, scale: 0.1, brightness: 0.1, contrast: 0.2, colorShift: 0.05 } as const;

  it('is reproducible by seed and preserves shape and range', () => {
    const x = batch([4, 8, 8, 3], 5);
    const a = new Augmenter({ ...opts, seed: 42 }).apply(x);
    const b = new Augmenter({ ...opts, seed: 42 }).apply(x);
    const c = new Augmenter({ ...opts, seed: 43 }).apply(x);
    expect(a.shape).toEqual([4, 8, 8, 3]);
    expect(a.toArray()).toEqual(b.toArray());
    expect(a.toArray()).not.toEqual(c.toArray());
    const v = a.toArray();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
  });

  it('draws new parameters for each batch (on-the-fly), yet the stream repeats with the seed', () => {
    const x = batch([2, 6, 6, 1], 9);
    const aug = new Augmenter({ ...opts, seed: 1 });
    const first = aug.apply(x).toArray(), second = aug.apply(x).toArray();
    expect(first).not.toEqual(second);
    const again = new Augmenter({ ...opts, seed: 1 });
    expect(again.apply(x).toArray()).toEqual(first);
    expect(again.apply(x).toArray()).toEqual(second);
  });

  it('with no options it copies; with a flip probability of 1 it mirrors every image', () => {
    const x = batch([3, 4, 5, 2], 2);
    expect(new Augmenter({}).apply(x).toArray()).toEqual(x.toArray());
    expect(new Augmenter({ flipHorizontal: 1 }).apply(x).toArray()).toEqual(flipLeftRight(x).toArray());
    // Pure crop-with-padding moves pixels without changing values: every output value is 0 or an input value.
    const inputs = new Set(x.toArray().map((v) => Math.fround(v)));
    for (const v of new Augmenter({ cropPadding: 1, seed: 3 }).apply(x).toArray()) expect(v === 0 || inputs.has(v)).toBe(true);
  });

  it('rejects bad options and non-NHWC input', () => {
    expect(() => new Augmenter({ rotation: -1 })).toThrow(/rotation must be a non-negative number/);
    expect(() => new Augmenter({ flipHorizontal: 2 })).toThrow(/flipHorizontal must be a boolean or a probability/);
    expect(() => new Augmenter({ scale: [1.2, 0.8] })).toThrow(/scale must give a range/);
    expect(() => new Augmenter({}).apply(ck.zeros([3, 4]))).toThrow(/batch \[N, H, W, C\] \(NHWC\), received shape \[3, 4\]/);
  });
});
