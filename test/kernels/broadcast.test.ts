/**
 * The broadcast index arithmetic every backend shares (src/kernels/broadcast.ts), and the
 * elementwise and reduce contracts' checks, which run before any backend sees a call.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { broadcastIndex, broadcastStrides, collapse, type StridedWalk } from '../../src/kernels/broadcast.js';
import { sizeOf, stridesOf } from '../../src/tensor/shape.js';

/** Every operand's offset at each flat index of the walk, in row-major order. */
function offsets(w: StridedWalk): number[][] {
  const n = sizeOf(w.shape);
  return w.strides.map((st) =>
    Array.from({ length: n }, (_, i) => {
      let o = 0;
      for (let d = w.shape.length - 1, r = i; d >= 0; d--) {
        o += (r % w.shape[d]) * st[d];
        r = Math.floor(r / w.shape[d]);
      }
      return o;
    }),
  );
}

describe('broadcast walks', () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 });
  it('collapse visits the same offsets as the uncollapsed walk (property)', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (shape, ones) => {
        const inShape = shape.map((d, i) => (ones[i] ? 1 : d)).slice(shape.length > 1 && ones[4] ? 1 : 0);
        const strides = [broadcastStrides(inShape, shape), stridesOf(shape)];
        const w = collapse(shape, strides);
        expect(w.shape.every((d) => d > 1)).toBe(true);
        expect(offsets(w)).toEqual(offsets({ shape: [...shape], strides }));
        expect(Array.from(broadcastIndex(inShape, shape))).toEqual(offsets({ shape: [...shape], strides })[0]);
      }),
    );
  });
  it('merges contiguous axes and drops size-1 axes', () => {
    expect(collapse([2, 1, 3, 4], [stridesOf([2, 1, 3, 4])])).toEqual({ shape: [24], strides: [[1]] });
    expect(collapse([2, 3, 4], [broadcastStrides([4], [2, 3, 4]), stridesOf([2, 3, 4])])).toEqual({ shape: [6, 4], strides: [[0, 1], [4, 1]] });
    expect(collapse([1, 1], [[0, 0]])).toEqual({ shape: [], strides: [[]] });
  });
});

describe('elementwise and reduce contracts check their inputs on every backend', () => {
  it.each(['ts', 'wasm'])('%s', (backend) => {
    ck.withBackend(backend, () => {
      const a = ck.zeros([2, 3]), b = ck.zeros([4]);
      expect(() => ck.runKernel('Add', [a, b])).toThrow(/Add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
      expect(() => ck.runKernel('Mul', [a, ck.zeros([3], 'int32')])).toThrow(TypeError);
      expect(() => ck.runKernel('Where', [a, a, b])).toThrow(RangeError);
      expect(() => ck.runKernel('Sum', [a], { axes: [2], keepDims: false })).toThrow(/Sum: axis 2 is out of range/);
      expect(() => ck.runKernel('Max', [a], { axes: [1, 1], keepDims: false })).toThrow(/Max: repeated axis/);
      expect(() => ck.runKernel('ArgMax', [a], { axis: -1, keepDims: false })).toThrow(RangeError);
    });
  });
});
