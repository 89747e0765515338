import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

describe('shapesDataset', () => {
  it('is seeded: same options, same images and objects; another seed differs', () => {
    const a = ck.vision.shapesDataset({ n: 6, size: 32, seed: 3 });
    const b = ck.vision.shapesDataset({ n: 6, size: 32, seed: 3 });
    const c = ck.vision.shapesDataset({ n: 6, size: 32, seed: 4 });
    expect(a.images.shape).toEqual([6, 32, 32, 3]);
    expect(a.pixels).toEqual(b.pixels);
    expect(a.objects).toEqual(b.objects);
    expect(a.pixels).not.toEqual(c.pixels);
    expect(Math.min(...a.pixels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.pixels)).toBeLessThanOrEqual(1);
  });

  it('respects minObjects..maxObjects and keeps objects apart and inside the image', () => {
    const d = ck.vision.shapesDataset({ n: 50, size: 48, minObjects: 1, maxObjects: 3, seed: 1 });
    const counts = d.objects.map((o) => o.length);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBe(3);
    for (const objs of d.objects) {
      for (const o of objs) {
        expect(o.box[0]).toBeGreaterThanOrEqual(0);
        expect(o.box[3]).toBeLessThanOrEqual(1);
        expect(o.classId).toBeGreaterThanOrEqual(0);
        expect(o.classId).toBeLessThan(3);
      }
      for (let i = 0; i < objs.length; i++) for (let j = i + 1; j < objs.length; j++) expect(ck.vision.boxIoU(objs[i].box, objs[j].box)).toBeLessThanOrEqual(0.1);
    }
    expect(new Set(d.objects.flat().map((o) => o.classId)).size).toBe(3);
  });

  it('paints each shape inside its box, and its landmarks are its corners / extreme points', () => {
    const size = 64;
    const d = ck.vision.shapesDataset({ n: 30, size, minObjects: 1, maxObjects: 1, noise: 0, seed: 7 });
    const seen = new Set<string>();
    d.objects.forEach((objs, im) => {
      const o = objs[0];
      const kind = d.classes[o.classId];
      seen.add(kind);
      // Pixels that differ from the background (the top-left or bottom-right corner pixel, whichever the object misses).
      const px = (i: number, j: number) => Array.from(d.pixels.subarray(((im * size + i) * size + j) * 3, ((im * size + i) * size + j) * 3 + 3));
      const bg = o.box[0] * size > 1 && o.box[1] * size > 1 ? px(0, 0) : px(size - 1, size - 1);
      let r0 = size, r1 = -1, c0 = size, c1 = -1;
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
        if (px(i, j).every((v, c) => v === bg[c])) continue;
        [r0, r1, c0, c1] = [Math.min(r0, i), Math.max(r1, i), Math.min(c0, j), Math.max(c1, j)];
      }
      // The painted extent matches the box to within one pixel (two for a triangle's apex
      // and a circle's extreme points, where the shape is thinner than a pixel).
      const tol = kind === 'square' ? 1 : 2;
      expect(Math.abs(c0 - o.box[0] * size)).toBeLessThanOrEqual(tol);
      expect(Math.abs(r0 - o.box[1] * size)).toBeLessThanOrEqual(tol);
      expect(Math.abs(c1 + 1 - o.box[2] * size)).toBeLessThanOrEqual(tol);
      expect(Math.abs(r1 + 1 - o.box[3] * size)).toBeLessThanOrEqual(tol);
      const [x1, y1, x2, y2] = o.box;
      const L = o.landmarks;
      if (kind === 'square') expect(L).toEqual([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]);
      if (kind === 'circle') {
        expect(L.length).toBe(4);
        expect(L[0][1]).toBe(y1);
        expect(L[1][0]).toBe(x2);
        expect(L[2][1]).toBeCloseTo(y2, 12);
        expect(L[3][0]).toBe(x1);
      }
      if (kind === 'triangle') {
        expect(L.length).toBe(3);
        expect(L[0][1]).toBe(y1);
        expect(L[0][0]).toBeGreaterThanOrEqual(x1);
        expect(L[0][0]).toBeLessThanOrEqual(x2);
        expect(L.slice(1)).toEqual([[x1, y2], [x2, y2]]);
      }
    });
    expect(seen.size).toBe(3);
  });

  it('rejects bad options, naming them', () => {
    expect(() => ck.vision.shapesDataset({ n: -1 })).toThrow(/n must be a non-negative integer/);
    expect(() => ck.vision.shapesDataset({ n: 1, size: 4 })).toThrow(/size must be an integer >= 8/);
    expect(() => ck.vision.shapesDataset({ n: 1, minObjects: 3, maxObjects: 2 })).toThrow(/minObjects <= maxObjects/);
    expect(() => ck.vision.shapesDataset({ n: 1, classes: ['hexagon' as 'circle'] })).toThrow(/classes must be a non-empty list/);
  });
});
