/**
 * A synthetic detection data set: circles, squares and triangles of random size, colour and
 * position on a noisy background, with boxes, classes and landmarks for every object.
 *
 * Conventions (the ones detection.ts uses): a box is a corner box [x1, y1, x2, y2] relative
 * to the image (0..1, x to the right, y down); pixel (row i, column j) covers
 * [j/size, (j+1)/size] x [i/size, (i+1)/size] and is painted when its centre lies inside the
 * shape. Landmarks are (x, y) points in the same units:
 * - square (axis-aligned): its 4 corners, clockwise from the top-left;
 * - triangle: its 3 vertices, apex first, then the base from left to right;
 * - circle: its 4 extreme points, clockwise from the top (top, right, bottom, left).
 * Objects lie entirely inside the image; a new object overlapping an earlier one by IoU
 * above 0.1 is redrawn (up to 50 tries, then left out), so images may hold fewer objects
 * than drawn when crowded. Shape colours and the background are random and independent of
 * the class, so only the outline tells the classes apart.
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../ops/creation.js';
import { Rng } from '../ops/random.js';
import type { Box } from './detection.js';
import { boxIoU } from './metrics.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;
export type ShapeName = (typeof SHAPE_CLASSES)[number];

export interface ShapeObject {
  box: Box;
  classId: number;
  /** Corners or extreme points, (x, y) relative to the image; see the module comment. */
  landmarks: [number, number][];
}

export interface ShapesOptions {
  n: number;
  /** Image side in pixels (default 64). */
  size?: number;
  minObjects?: number;
  maxObjects?: number;
  /** Which shapes, in class-index order (default circle, square, triangle). */
  classes?: readonly ShapeName[];
  /** Object side (diameter) range relative to the image (default [0.2, 0.45]). */
  objectSize?: readonly [number, number];
  /** Standard deviation of the background noise (default 0.05). */
  noise?: number;
  seed?: number;
}

export interface ShapesDataset {
  /** [n, size, size, 3] float32 in [0, 1]. */
  images: Tensor;
  /** The same pixels as a host array (NHWC). */
  pixels: Float32Array;
  /** The objects of each image. */
  objects: ShapeObject[][];
  classes: readonly ShapeName[];
  size: number;
}

/** Inside test for a triangle by the signs of the three edge functions. */
function inTriangle(px: number, py: number, v: [number, number][]): boolean {
  const e = (a: [number, number], b: [number, number]) => (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0]);
  const d1 = e(v[0], v[1]), d2 = e(v[1], v[2]), d3 = e(v[2], v[0]);
  const neg = d1 < 0 || d2 < 0 || d3 < 0, pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

/** Generate the shapes data set (seeded: the same options give the same images). */
export function shapesDataset(opts: ShapesOptions): ShapesDataset {
  const fn = 'shapesDataset';
  const { n } = opts;
  const size = opts.size ?? 64;
  const minObjects = opts.minObjects ?? 0, maxObjects = opts.maxObjects ?? 4;
  const classes = opts.classes ?? SHAPE_CLASSES;
  const [smin, smax] = opts.objectSize ?? [0.2, 0.45];
  const noise = opts.noise ?? 0.05;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, received ${n}`);
  if (!Number.isInteger(size) || size < 8) throw new RangeError(`${fn}: size must be an integer >= 8, received ${size}`);
  if (!Number.isInteger(minObjects) || !Number.isInteger(maxObjects) || minObjects < 0 || maxObjects < minObjects) {
    throw new RangeError(`${fn}: need integers 0 <= minObjects <= maxObjects, received minObjects ${minObjects}, maxObjects ${maxObjects}`);
  }
  if (classes.length === 0 || classes.some((c) => !SHAPE_CLASSES.includes(c))) {
    throw new RangeError(`${fn}: classes must be a non-empty list of ${SHAPE_CLASSES.join(', ')}, received ${JSON.stringify(classes)}`);
  }
  if (!(smin > 0 && smax >= smin && smax <= 1)) throw new RangeError(`${fn}: objectSize must satisfy 0 < min <= max <= 1, received [${smin}, ${smax}]`);
  const rng = new Rng(opts.seed ?? 0);
  const px = new Float32Array(n * size * size * 3);
  const objects: ShapeObject[][] = [];
  for (let im = 0; im < n; im++) {
    const base = im * size * size * 3;
    const bg = [rng.uniform(0, 0.4), rng.uniform(0, 0.4), rng.uniform(0, 0.4)];
    for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) px[base + p * 3 + c] = bg[c];
    const count = minObjects + rng.int(maxObjects - minObjects + 1);
    const objs: ShapeObject[] = [];
    for (let k = 0; k < count; k++) {
      let placed: ShapeObject | null = null;
      for (let attempt = 0; attempt < 50 && !placed; attempt++) {
        const classId = rng.int(classes.length);
        const kind = classes[classId];
        const s = rng.uniform(smin, smax);
        const x1 = rng.uniform(0, 1 - s), y1 = rng.uniform(0, 1 - s);
        const box: Box = [x1, y1, x1 + s, y1 + s];
        if (objs.some((o) => boxIoU(o.box, box) > 0.1)) continue;
        let landmarks: [number, number][];
        if (kind === 'square') landmarks = [[x1, y1], [x1 + s, y1], [x1 + s, y1 + s], [x1, y1 + s]];
        else if (kind === 'circle') landmarks = [[x1 + s / 2, y1], [x1 + s, y1 + s / 2], [x1 + s / 2, y1 + s], [x1, y1 + s / 2]];
        else landmarks = [[x1 + rng.uniform(0, s), y1], [x1, y1 + s], [x1 + s, y1 + s]];
        placed = { box, classId, landmarks };
      }
      if (!placed) continue;
      objs.push(placed);
      // Paint: a colour brighter than the background in at least one channel by 0.35.
      const colour = [rng.uniform(0.3, 1), rng.uniform(0.3, 1), rng.uniform(0.3, 1)];
      const ch = rng.int(3);
      colour[ch] = Math.max(colour[ch], bg[ch] + 0.45);
      const [x1, y1, x2, y2] = placed.box;
      const kind = classes[placed.classId];
      const r = (x2 - x1) / 2, cx = x1 + r, cy = y1 + r;
      for (let i = Math.floor(y1 * size); i < Math.min(size, Math.ceil(y2 * size)); i++) {
        const y = (i + 0.5) / size;
        for (let j = Math.floor(x1 * size); j < Math.min(size, Math.ceil(x2 * size)); j++) {
          const x = (j + 0.5) / size;
          const inside = kind === 'square' ? x >= x1 && x <= x2 && y >= y1 && y <= y2
            : kind === 'circle' ? (x - cx) ** 2 + (y - cy) ** 2 <= r * r
            : inTriangle(x, y, placed.landmarks);
          if (inside) for (let c = 0; c < 3; c++) px[base + (i * size + j) * 3 + c] = Math.min(1, colour[c]);
        }
      }
    }
    for (let p = 0; p < size * size * 3; p++) px[base + p] = Math.min(1, Math.max(0, px[base + p] + rng.normal(0, noise)));
    objects.push(objs);
  }
  return { images: tensor(px, [n, size, size, 3]), pixels: px, objects, classes, size };
}
