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

  it('clamps only what colour changes produce: geometry keeps values outside [0, 1] (normalised images)', () => {
    const x = ck.randomNormal([3, 6, 5, 2], { seed: 4 }); // mean 0, std 1: about half the values negative
    expect(new Augmenter({ flipHorizontal: 1 }).apply(x).toArray()).toEqual(flipLeftRight(x).toArray());
    const inputs = new Set(x.toArray().map((v) => Math.fround(v)));
    const moved = new Augmenter({ cropPadding: 1, flipVertical: 0.5, seed: 2 }).apply(x).toArray();
    expect(moved.some((v) => v < 0)).toBe(true);
    for (const v of moved) expect(v === 0 || inputs.has(v)).toBe(true);
    // a colour change clamps to clip (default [0, 1]), or not at all with clip null
    const bright = new Augmenter({ brightness: 0.1, seed: 2 }).apply(x).toArray();
    expect(Math.min(...bright)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...bright)).toBeLessThanOrEqual(1);
    expect(Math.min(...new Augmenter({ brightness: 0.1, clip: null, seed: 2 }).apply(x).toArray())).toBeLessThan(0);
  });

  it('rejects bad options and non-NHWC input', () => {
    expect(() => new Augmenter({ rotation: -1 })).toThrow(/rotation must be a non-negative number/);
    expect(() => new Augmenter({ flipHorizontal: 2 })).toThrow(/flipHorizontal must be a boolean or a probability/);
    expect(() => new Augmenter({ scale: [1.2, 0.8] })).toThrow(/scale must give a range/);
    expect(() => new Augmenter({}).apply(ck.zeros([3, 4]))).toThrow(/batch \[N, H, W, C\] \(NHWC\), received shape \[3, 4\]/);
  });
});

describe('random erasing (torchvision RandomErasing)', () => {
  it('fills one rectangle of every image, all channels, with the value, inside the scale range; the rest stays', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 30 }), fc.integer({ min: 3, max: 30 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1000 }), (h, w, c, seed) => {
        const x = batch([3, h, w, c], seed);
        const src = x.toArray();
        const scale = [0.05, 0.4] as const, ratio = [0.5, 2] as const;
        const out = new Augmenter({ erasing: { probability: 1, scale, ratio, value: -1 }, seed }).apply(x).toArray();
        for (let n = 0; n < 3; n++) {
          const erased: [number, number][] = [];
          for (let y = 0; y < h; y++)
            for (let xx = 0; xx < w; xx++) {
              const k = ((n * h + y) * w + xx) * c;
              const hit = out[k] === -1;
              for (let ch = 0; ch < c; ch++) expect(out[k + ch]).toBe(hit ? -1 : src[k + ch]);
              if (hit) erased.push([y, xx]);
            }
          if (erased.length === 0) continue; // no draw fitted in 10 tries (small images): the image stays whole
          const ys = erased.map((p) => p[0]), xs = erased.map((p) => p[1]);
          const eh = Math.max(...ys) - Math.min(...ys) + 1, ew = Math.max(...xs) - Math.min(...xs) + 1;
          expect(erased.length).toBe(eh * ew); // one solid rectangle
          expect(eh).toBeLessThan(h);
          expect(ew).toBeLessThan(w);
          // the area and the aspect ratio before rounding each side to whole pixels
          expect(Math.sqrt(eh * ew)).toBeLessThanOrEqual(Math.sqrt(scale[1] * h * w) + 1);
          expect(Math.sqrt(eh * ew)).toBeGreaterThanOrEqual(Math.sqrt(scale[0] * h * w) - 1);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('erases about the probability asked for, with torchvision default areas; probability 0 copies', () => {
    const x = ck.full([400, 28, 28, 1], 0.5);
    const out = new Augmenter({ erasing: true, seed: 7 }).apply(x).toArray();
    let images = 0, area = 0;
    for (let n = 0; n < 400; n++) {
      let zeros = 0;
      for (let p = 0; p < 784; p++) if (out[n * 784 + p] === 0) zeros++;
      if (zeros) {
        images++;
        area += zeros / 784;
      }
    }
    expect(images / 400).toBeGreaterThan(0.42);
    expect(images / 400).toBeLessThan(0.58);
    // mean of U(0.02, 0.33) is 0.175; tall or wide draws that do not fit are drawn again, which favours smaller areas
    expect(area / images).toBeGreaterThan(0.12);
    expect(area / images).toBeLessThan(0.2);
    expect(new Augmenter({ erasing: 0, seed: 7 }).apply(x).toArray()).toEqual(x.toArray());
  });

  it('draws height / width within the ratio range (large images, where rounding to pixels is small)', () => {
    const x = ck.full([40, 100, 100, 1], 0.5);
    const out = new Augmenter({ erasing: { probability: 1, ratio: [0.5, 2] }, seed: 3 }).apply(x).toArray();
    for (let n = 0; n < 40; n++) {
      let eh = 0, ew = 0;
      for (let y = 0; y < 100; y++) {
        let row = 0;
        for (let xx = 0; xx < 100; xx++) if (out[n * 10000 + y * 100 + xx] === 0) row++;
        if (row) eh++;
        ew = Math.max(ew, row);
      }
      expect(eh / ew).toBeGreaterThan(0.5 / 1.12);
      expect(eh / ew).toBeLessThan(2 * 1.12);
    }
  });

  it('rejects bad erasing options, naming them', () => {
    expect(() => new Augmenter({ erasing: 1.5 })).toThrow(/erasing probability must be in \[0, 1\], received 1.5/);
    expect(() => new Augmenter({ erasing: { scale: [0.5, 0.1] } })).toThrow(/erasing scale must be \[min, max\] with 0 < min <= max <= 1, received \[0.5,0.1\]/);
    expect(() => new Augmenter({ erasing: { ratio: [0, 2] } })).toThrow(/erasing ratio must be \[min, max\]/);
    expect(() => new Augmenter({ erasing: { value: NaN } })).toThrow(/erasing value must be a finite number/);
    expect(() => new Augmenter({ erasing: { p: 0.5 } as unknown as ck.ErasingOptions })).toThrow(/unknown erasing option 'p'/);
  });
});
