/**
 * Pooling ops: forward checked against references built on padded copies (padding with
 * -Infinity for max, 0 for average), conventions pinned by exact tests (first maximum
 * wins ties, padding never wins, the two average divisors), gradients by finite
 * differences in float64 with values kept apart so no window has a tie.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { describeOnBackends, on, read, readNested } from '../util/backends.js';
import { gradcheck } from '../util/gradcheck.js';

type Pads = [[number, number], [number, number]];

/** Distinct values 0.1 apart in a random order: no window has a tie, even after +-1e-6. */
function distinct(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new ck.Rng(seed);
  const v = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return ck.tensor(v.map((k) => (k - n / 2) * 0.1), shape, dtype);
}

/**
 * Pooling over an explicitly padded copy of x: each window is read from the padded
 * tensor with no bounds checks. `fill` is what the padding holds.
 */
function refPool(x: Tensor, size: number[], strides: number[], pads: Pads, dil: number[], fill: number, fold: (cells: number[]) => number): Tensor {
  const xp = ck.pad(x, [[0, 0], pads[0], pads[1], [0, 0]], fill);
  const [N, Hp, Wp, C] = xp.shape;
  const OH = Math.floor((Hp - (dil[0] * (size[0] - 1) + 1)) / strides[0]) + 1;
  const OW = Math.floor((Wp - (dil[1] * (size[1] - 1) + 1)) / strides[1]) + 1;
  const v = xp.dataSync();
  const out: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          const cells: number[] = [];
          for (let kh = 0; kh < size[0]; kh++) {
            for (let kw = 0; kw < size[1]; kw++) {
              cells.push(v[((n * Hp + oh * strides[0] + kh * dil[0]) * Wp + ow * strides[1] + kw * dil[1]) * C + c]);
            }
          }
          out.push(fold(cells));
        }
      }
    }
  }
  return ck.tensor(out, [N, OH, OW, C], 'float64');
}
const sumOf = (c: number[]) => c.reduce((a, b) => a + b, 0);

const poolCase = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  C: fc.integer({ min: 1, max: 3 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  dil: fc.constantFrom(1, 2),
  p: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  same: fc.boolean(),
  extraH: fc.nat(3),
  extraW: fc.nat(3),
  seed: fc.nat(),
});
type PoolCase = typeof poolCase extends fc.Arbitrary<infer T> ? T : never;

/** Shapes and options for a drawn case; pads are kept below the window so windows hold real cells. */
function realise(c: PoolCase) {
  const size = [c.kh, c.kw], strides = [c.sh, c.sw], dil = [c.dil, c.dil];
  const eff = size.map((k) => c.dil * (k - 1) + 1);
  let pads: Pads = [[Math.min(c.p[0], c.kh - 1), Math.min(c.p[1], c.kh - 1)], [Math.min(c.p[2], c.kw - 1), Math.min(c.p[3], c.kw - 1)]];
  let H: number, W: number;
  if (c.same) {
    H = 1 + c.extraH; W = 1 + c.extraW;
    pads = [H, W].map((n, i) => {
      const total = Math.max(0, (Math.ceil(n / strides[i]) - 1) * strides[i] + eff[i] - n);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }) as Pads;
  } else {
    H = Math.max(1, eff[0] - pads[0][0] - pads[0][1]) + c.extraH;
    W = Math.max(1, eff[1] - pads[1][0] - pads[1][1]) + c.extraW;
  }
  return { shape: [c.N, H, W, c.C], opts: { size, strides, dilations: dil, padding: c.same ? ('same' as const) : pads }, size, strides, pads, dil };
}

/** Run `f`, treating the geometry's "window with no input cell" refusal as a discarded case. */
function unlessAllPadding(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof RangeError && /with no input cell/.test(e.message)) fc.pre(false);
    throw e;
  }
}

// ---------------------------------------------------------------- forward

describe('pooling forward: the reference', () => {
  // Every backend's kernels are held to this reference by the conformance suite (test/kernels).
  it('maxPool2d equals the max over a copy padded with -Infinity', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const { shape, opts, size, strides, pads, dil } = realise(c);
        const x = ck.randomNormal(shape, { seed: c.seed });
        unlessAllPadding(() => {
          const y = ck.maxPool2d(x, opts);
          expectClose(y, ck.cast(refPool(x, size, strides, pads, dil, -Infinity, (v) => Math.max(...v)), 'float32'), { atol: 0, rtol: 0 });
        });
      }),
      { numRuns: 60, seed: 31 },
    );
  });

  it('avgPool2d: countIncludePad divides by the window, otherwise by the real cells', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const { shape, opts, size, strides, pads, dil } = realise(c);
        const x = ck.randomNormal(shape, { seed: c.seed });
        unlessAllPadding(() => {
          const inc = ck.avgPool2d(x, { ...opts, countIncludePad: true });
          const exc = ck.avgPool2d(x, opts);
          const sums = refPool(x, size, strides, pads, dil, 0, sumOf);
          const counts = refPool(ck.onesLike(x), size, strides, pads, dil, 0, sumOf);
          const K = size[0] * size[1];
          expectClose(inc, ck.cast(ck.div(sums, K), 'float32'), { atol: 1e-6, rtol: 1e-5 });
          expectClose(exc, ck.cast(ck.div(sums, counts), 'float32'), { atol: 1e-6, rtol: 1e-5 });
        });
      }),
      { numRuns: 60, seed: 32 },
    );
  });

});

describeOnBackends('pooling forward', (backend) => {
  it('minPool2d is the min of each window', async () => {
    const x = ck.tensor([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8], [9, 7, 9, 3]]).reshape([1, 4, 4, 1]);
    expect(await read(on(backend, () => ck.minPool2d(x, { size: 2 })))).toEqual([1, 1, 3, 3]);
  });

  it('worked average example, with and without counting the padding', async () => {
    // 3x3 image 1..9, 3x3 window, stride 1, zero padding 1 on every side.
    const x = ck.arange(1, 10).reshape([1, 3, 3, 1]);
    {
      const exc = await read(ck.avgPool2d(x, { size: 3, strides: 1, padding: 1 }));
      const inc = await read(ck.avgPool2d(x, { size: 3, strides: 1, padding: 1, countIncludePad: true }));
      // Corner window holds 1,2,4,5 (4 real cells, sum 12); edge window 1..6 (6 cells, sum 21); centre all 45.
      expectClose(exc, [12 / 4, 21 / 6, 16 / 4, 27 / 6, 45 / 9, 33 / 6, 24 / 4, 39 / 6, 28 / 4]);
      expectClose(inc, [12 / 9, 21 / 9, 16 / 9, 27 / 9, 45 / 9, 33 / 9, 24 / 9, 39 / 9, 28 / 9]);
      // 'same' with stride 2 on a 5x5 image: the last window is 1 row/column of the image plus padding.
      const y = ck.avgPool2d(ck.arange(0, 25).reshape([1, 5, 5, 1]), { size: 2, padding: 'same' });
      expect(y.shape).toEqual([1, 3, 3, 1]);
      expectClose(await read(y), [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24]);
    }
  });

  it('padded cells never win a max, even when every value is negative', async () => {
    const x = ck.tensor([-1, -2, -3, -4], [1, 2, 2, 1]);
    expect(await readNested(ck.maxPool2d(x, { size: 2, strides: 1, padding: 1 }).reshape([3, 3]))).toEqual([[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]]);
    expect(await read(ck.minPool2d(ck.neg(x), { size: 2, strides: 1, padding: 1 }))).toEqual([1, 1, 2, 1, 1, 2, 3, 3, 4]);
  });

  it('NaN in gives NaN out for max pooling, only in the windows that hold it', async () => {
    const x = ck.tensor([1, NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    {
      const y = await read(ck.maxPool2d(x, { size: 2 }));
      expect(Number.isNaN(y[0])).toBe(true);
      expect(y.slice(1)).toEqual([8, 14, 16]);
      const a = await read(ck.avgPool2d(x, { size: 2 }));
      expect(Number.isNaN(a[0])).toBe(true);
      expect(a.slice(1)).toEqual([(3 + 4 + 7 + 8) / 4, (9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4]);
    }
  });

  it('global pooling gives [N,C]', async () => {
    const x = ck.tensor([1, 10, 2, 20, 3, 30, 4, -40, 5, 50, 6, 60], [2, 1, 3, 2]);
    expectClose(await read(ck.globalAvgPool2d(x)), [2, 20, 5, 70 / 3]);
    expect(await readNested(ck.globalMaxPool2d(x))).toEqual([[3, 30], [6, 60]]);
  });
});

describe('pooling shapes and defaults', () => {
  it('stride defaults to the window size; output floor((n + 2p - f)/s + 1)', () => {
    const x = ck.zeros([2, 7, 6, 3]);
    expect(ck.maxPool2d(x, { size: 2 }).shape).toEqual([2, 3, 3, 3]);
    expect(ck.maxPool2d(x, 3).shape).toEqual([2, 2, 2, 3]);
    expect(ck.maxPool2d(x, { size: 3, strides: 2 }).shape).toEqual([2, 3, 2, 3]);
    expect(ck.maxPool2d(x, { size: [3, 2], strides: [2, 1], padding: 1 }).shape).toEqual([2, Math.floor((7 + 2 - 3) / 2 + 1), Math.floor((6 + 2 - 2) / 1 + 1), 3]);
    expect(ck.avgPool2d(x, { size: 2, padding: 'same' }).shape).toEqual([2, 4, 3, 3]);
    // AlexNet: 55x55 -> 27x27 with overlapping 3x3 windows, stride 2.
    expect(ck.maxPool2d(ck.zeros([1, 55, 55, 1]), { size: 3, strides: 2 }).shape).toEqual([1, 27, 27, 1]);
    expect(ck.globalAvgPool2d(x).shape).toEqual([2, 3]);
  });
  it('dilated windows skip cells', () => {
    const x = ck.arange(0, 16).reshape([1, 4, 4, 1]);
    // A 2x2 window with dilation 2 reads (0,0),(0,2),(2,0),(2,2) from its corner.
    expect(ck.maxPool2d(x, { size: 2, strides: 1, dilations: 2 }).toArray()).toEqual([10, 11, 14, 15]);
    expect(ck.avgPool2d(x, { size: 2, strides: 1, dilations: 2 }).toArray()).toEqual([5, 6, 9, 10]);
  });
  it('float32 and float64 agree', () => {
    const x32 = ck.randomNormal([2, 5, 6, 3], { seed: 4 });
    const x64 = ck.cast(x32, 'float64');
    const opts = { size: 3, strides: 2, padding: 'same' as const };
    expectClose(ck.maxPool2d(x32, opts), ck.cast(ck.maxPool2d(x64, opts), 'float32'), { atol: 0, rtol: 0 });
    expectClose(ck.avgPool2d(x32, opts), ck.cast(ck.avgPool2d(x64, opts), 'float32'), { atol: 1e-6, rtol: 1e-6 });
  });
});

// ---------------------------------------------------------------- gradients

describe('pooling gradients', () => {
  it('max-pool ties send the whole gradient to the first maximum in row-major window order', () => {
    const g = (x: Tensor, opts: ck.PoolOpts) => ck.grad((t) => ck.sum(ck.maxPool2d(t, opts)))(x)[0];
    expect(g(ck.ones([1, 2, 2, 1]), { size: 2 }).toArray()).toEqual([1, 0, 0, 0]);
    // (0,1) and (1,0) tie at 3: the row-major first, (0,1), wins.
    expect(g(ck.tensor([1, 3, 3, 2], [1, 2, 2, 1]), { size: 2 }).toArray()).toEqual([0, 1, 0, 0]);
    // Overlapping windows: each window routes its own dy; a cell that wins twice gets both.
    const dx = ck.grad((t) => ck.sum(ck.mul(ck.maxPool2d(t, { size: 2, strides: 1 }), ck.tensor([1, 10, 100, 1000], [1, 2, 2, 1]))))(
      ck.tensor([5, 5, 5, 5, 5, 5, 5, 5, 5], [1, 3, 3, 1]),
    )[0];
    expect(dx.toArray()).toEqual([1, 10, 0, 100, 1000, 0, 0, 0, 0]);
  });
  it('padding never receives gradient, and the NaN cell takes the max-pool gradient', () => {
    const dx = ck.grad((t) => ck.sum(ck.maxPool2d(t, { size: 2, strides: 1, padding: 1 })))(ck.tensor([-1, -2, -3, -4], [1, 2, 2, 1]))[0];
    // Windows: 9 of them, each sending 1 to its best real cell; -1 wins 4, -2 wins 2, -3 wins 2, -4 wins 1.
    expect(dx.toArray()).toEqual([4, 2, 2, 1]);
    const dn = ck.grad((t) => ck.sum(ck.maxPool2d(t, { size: 2 })))(ck.tensor([1, NaN, 3, 4], [1, 2, 2, 1]))[0];
    expect(dn.toArray()).toEqual([0, 1, 0, 0]);
  });
  it('min-pool ties go to the first minimum', () => {
    const dx = ck.grad((t) => ck.sum(ck.minPool2d(t, { size: 2 })))(ck.tensor([2, 1, 1, 2], [1, 2, 2, 1]))[0];
    expectClose(dx, [0, 1, 0, 0], { atol: 0, rtol: 0 });
  });
  it('average-pool gradient spreads dy / divisor over the real cells', () => {
    const x = ck.zeros([1, 2, 2, 1]);
    const exc = ck.grad((t) => ck.sum(ck.avgPool2d(t, { size: 2, strides: 1, padding: 1 })))(x)[0];
    const inc = ck.grad((t) => ck.sum(ck.avgPool2d(t, { size: 2, strides: 1, padding: 1, countIncludePad: true })))(x)[0];
    // Cell (0,0) lies in windows with 1, 2, 2 and 4 real cells: 1 + 1/2 + 1/2 + 1/4.
    expectClose(exc, [2.25, 2.25, 2.25, 2.25]);
    expectClose(inc, [1, 1, 1, 1]);
  });

  it('finite differences over drawn windows, strides, paddings and dilations', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const { shape, opts } = realise(c);
        const x = distinct(shape, c.seed);
        unlessAllPadding(() => {
          gradcheck((t) => ck.maxPool2d(t, opts), [x]);
          gradcheck((t) => ck.minPool2d(t, opts), [x]);
          gradcheck((t) => ck.avgPool2d(t, opts), [x]);
          gradcheck((t) => ck.avgPool2d(t, { ...opts, countIncludePad: true }), [x]);
        });
      }),
      { numRuns: 20, seed: 33 },
    );
  });
  it('global pooling', () => {
    const x = distinct([2, 3, 4, 3], 5);
    gradcheck((t) => ck.globalAvgPool2d(t), [x]);
    gradcheck((t) => ck.globalMaxPool2d(t), [x]);
  });
});

// ---------------------------------------------------------------- errors

describe('pooling errors name the op, the argument and the shapes', () => {
  const x = ck.zeros([1, 4, 4, 2]);
  it('rank and dtype', () => {
    expect(() => ck.maxPool2d(ck.zeros([4, 4, 2]), { size: 2 })).toThrow(/maxPool2d: x must have rank 4 \(N,H,W,C\), received shape \[4, 4, 2\]/);
    expect(() => ck.avgPool2d(ck.zeros([4, 4]), 2)).toThrow(/avgPool2d: x must have rank 4 \(N,H,W,C\), received shape \[4, 4\]/);
    expect(() => ck.globalAvgPool2d(ck.zeros([4, 4, 2]))).toThrow(/globalAvgPool2d: x must have rank 4 \(N,H,W,C\), received shape \[4, 4, 2\]/);
    expect(() => ck.globalMaxPool2d(ck.zeros([2, 4, 4, 2, 1]))).toThrow(/globalMaxPool2d: x must have rank 4/);
    expect(() => ck.maxPool2d(ck.zeros([1, 4, 4, 2], 'int32'), 2)).toThrow(/maxPool2d: x must be float32 or float64, received int32/);
  });
  it('sizes and strides must be positive integers', () => {
    expect(() => ck.maxPool2d(x, { size: 0 })).toThrow(/maxPool2d: size must be positive integers, received \[0,0\]/);
    expect(() => ck.maxPool2d(x, { size: 1.5 })).toThrow(/maxPool2d: size must be positive integers, received \[1.5,1.5\]/);
    expect(() => ck.avgPool2d(x, { size: 2, strides: [-1, 1] })).toThrow(/avgPool2d: strides must be positive integers, received \[-1,1\]/);
    expect(() => ck.minPool2d(x, { size: [2, 2, 2] })).toThrow(/minPool2d: size must have 2 entries, received \[2,2,2\]/);
    expect(() => ck.maxPool2d(x, undefined as unknown as ck.PoolOpts)).toThrow(/maxPool2d: the window size is required/);
  });
  it('window larger than the padded input, or entirely in the padding', () => {
    expect(() => ck.maxPool2d(x, { size: 5 })).toThrow(/maxPool2d: kernel of size \[5, 5\].*larger than the padded input \(4 = 4 \+ 0 \+ 0 on axis 0\) \(x shape \[1, 4, 4, 2\], axes H,W; window size \[5, 5\]\)/);
    expect(() => ck.maxPool2d(x, { size: 2, padding: 2 })).toThrow(/maxPool2d: padding \[\[2,2\],\[2,2\]\] leaves window 0 on axis H with no input cell \(x shape \[1, 4, 4, 2\]/);
  });
});
