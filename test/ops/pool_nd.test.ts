/**
 * 1D pooling (signals, [N,L,C]) and 3D pooling (volumes, [N,D,H,W,C]): forward against a
 * brute-force reference that walks every window cell by cell, over drawn sizes, strides,
 * paddings and dilations; gradients by finite differences (float64, distinct values so no
 * window has a tie); the tie convention, global variants and errors.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';

type Kind = 'max' | 'min' | 'avg' | 'avgPad';

/** Distinct values in a random order (0.1 apart). */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new ck.Rng(seed).shuffle(Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1)) as number[];
  return ck.tensor(v, shape, 'float64');
}

/** Pool x [N, ...sp, C] by visiting every window cell; padded cells are skipped (or counted, for avgPad). */
function reference(x: Tensor, kind: Kind, size: number[], strides: number[], pads: [number, number][], dil: number[]): Tensor {
  const shape = x.shape, nsp = shape.length - 2;
  const N = shape[0], C = shape[nsp + 1], sp = shape.slice(1, nsp + 1);
  const out = sp.map((n, a) => Math.floor((n + pads[a][0] + pads[a][1] - (dil[a] * (size[a] - 1) + 1)) / strides[a]) + 1);
  const v = x.dataSync();
  const spStride = sp.map((_, a) => sp.slice(a + 1).reduce((p, q) => p * q, 1) * C);
  const windowCount = size.reduce((p, q) => p * q, 1);
  const result: number[] = [];
  const outCount = out.reduce((p, q) => p * q, 1);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < outCount; o++) {
      const oIdx = out.map((_, a) => Math.floor(o / out.slice(a + 1).reduce((p, q) => p * q, 1)) % out[a]);
      for (let c = 0; c < C; c++) {
        const cells: number[] = [];
        for (let k = 0; k < windowCount; k++) {
          const kIdx = size.map((_, a) => Math.floor(k / size.slice(a + 1).reduce((p, q) => p * q, 1)) % size[a]);
          const at = kIdx.map((ki, a) => oIdx[a] * strides[a] - pads[a][0] + ki * dil[a]);
          if (at.some((i, a) => i < 0 || i >= sp[a])) continue;
          cells.push(v[n * sp.reduce((p, q) => p * q, 1) * C + at.reduce((s, i, a) => s + i * spStride[a], 0) + c]);
        }
        const sum = cells.reduce((p, q) => p + q, 0);
        result.push(kind === 'max' ? Math.max(...cells) : kind === 'min' ? Math.min(...cells) : kind === 'avg' ? sum / cells.length : sum / windowCount);
      }
    }
  }
  return ck.tensor(result, [N, ...out, C], 'float64');
}

function run(nsp: 1 | 3, kind: Kind, x: Tensor, opts: ck.AvgPoolOpts): Tensor {
  const o = kind === 'avgPad' ? { ...opts, countIncludePad: true } : opts;
  if (nsp === 1) return kind === 'max' ? ck.maxPool1d(x, o) : kind === 'min' ? ck.minPool1d(x, o) : ck.avgPool1d(x, o);
  return kind === 'max' ? ck.maxPool3d(x, o) : kind === 'min' ? ck.minPool3d(x, o) : ck.avgPool3d(x, o);
}

const axisArb = fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), pl: fc.nat(2), pr: fc.nat(2), extra: fc.nat(2) });

/** Sizes that fit, and pads below the window so every window holds a real cell. */
function axisGeometry(a: { k: number; s: number; d: number; pl: number; pr: number; extra: number }) {
  const pads: [number, number] = [Math.min(a.pl, a.k - 1), Math.min(a.pr, a.k - 1)];
  const eff = a.d * (a.k - 1) + 1;
  const n = Math.max(1, eff - pads[0] - pads[1]) + a.extra;
  return { n, pads };
}

/** Skip a drawn case whose dilated windows can fall entirely in the padding (an error, tested below). */
function unlessAllPadding(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof RangeError && /with no input cell/.test(e.message)) fc.pre(false);
    throw e;
  }
}

describe('1D and 3D pooling forward = the window-by-window reference', () => {
  for (const nsp of [1, 3] as const) {
    it(`${nsp}D: max, min, avg (real cells and counting padding) over drawn windows`, () => {
      fc.assert(
        fc.property(fc.array(axisArb, { minLength: nsp, maxLength: nsp }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.nat(), (axes, N, C, seed) => {
          const geo = axes.map(axisGeometry);
          const x = distinct([N, ...geo.map((g) => g.n), C], seed);
          const opts = { size: axes.map((a) => a.k), strides: axes.map((a) => a.s), dilations: axes.map((a) => a.d), padding: geo.map((g) => g.pads) };
          unlessAllPadding(() => {
            for (const kind of ['max', 'min', 'avg', 'avgPad'] as const) {
              const want = reference(x, kind, opts.size, opts.strides, opts.padding, opts.dilations);
              expectClose(run(nsp, kind, x, opts), want, { atol: 1e-12, rtol: 1e-12 });
            }
          });
        }),
        { numRuns: 25, seed: 41 + nsp },
      );
    });
  }

  it("'same' padding, the default stride (= size), a single-number size, and float32", () => {
    const sig = distinct([2, 7, 3], 1);
    expect(ck.maxPool1d(sig, 2).shape).toEqual([2, 3, 3]);
    expect(ck.avgPool1d(sig, { size: 3, strides: 2, padding: 'same' }).shape).toEqual([2, 4, 3]);
    const vol = distinct([1, 4, 5, 6, 2], 2);
    expect(ck.maxPool3d(vol, 2).shape).toEqual([1, 2, 2, 3, 2]);
    const same = ck.avgPool3d(vol, { size: 3, strides: [1, 2, 2], padding: 'same' });
    expect(same.shape).toEqual([1, 4, 3, 3, 2]);
    const f32 = ck.maxPool3d(ck.cast(vol, 'float32'), { size: [2, 3, 2], strides: 1 });
    expect(f32.dtype).toBe('float32');
    expectClose(f32, ck.cast(ck.maxPool3d(vol, { size: [2, 3, 2], strides: 1 }), 'float32'), { atol: 0, rtol: 0 });
  });

  it('a worked 1D example (an ECG-like signal)', () => {
    const x = ck.tensor([1, 3, 2, 5, 4, 0, 6], [1, 7, 1]);
    expect(ck.maxPool1d(x, 2).toArray()).toEqual([3, 5, 4]);
    expect(ck.minPool1d(x, { size: 3, strides: 2 }).toArray()).toEqual([1, 2, 0]);
    expect(ck.avgPool1d(x, { size: 2, strides: 2, padding: [[1, 0]] }).toArray()).toEqual([1, 2.5, 4.5, 3]);
    expect(ck.avgPool1d(x, { size: 2, strides: 2, padding: [[1, 0]], countIncludePad: true }).toArray()).toEqual([0.5, 2.5, 4.5, 3]);
  });

  it('global pooling over L, and over D, H and W', () => {
    const x = ck.tensor([1, 10, 3, 30, 2, 20], [1, 3, 2]);
    expect(ck.globalAvgPool1d(x).toArray()).toEqual([2, 20]);
    expect(ck.globalMaxPool1d(x).toArray()).toEqual([3, 30]);
    const v = distinct([2, 2, 3, 2, 3], 5);
    expectClose(ck.globalAvgPool3d(v), ck.mean(ck.reshape(v, [2, 12, 3]), { axes: 1 }), { atol: 1e-15 });
    expectClose(ck.globalMaxPool3d(v), ck.max(ck.reshape(v, [2, 12, 3]), { axes: 1 }), { atol: 0 });
    expect(ck.globalMaxPool3d(v).shape).toEqual([2, 3]);
  });
});

describe('1D and 3D pooling gradients', () => {
  it('finite differences over drawn windows (float64)', () => {
    fc.assert(
      fc.property(fc.array(axisArb, { minLength: 3, maxLength: 3 }), fc.nat(), (axes, seed) => {
        const geo = axes.map(axisGeometry);
        const opts = { size: axes.map((a) => a.k), strides: axes.map((a) => a.s), dilations: axes.map((a) => a.d), padding: geo.map((g) => g.pads) };
        unlessAllPadding(() => {
          const vol = distinct([1, ...geo.map((g) => g.n), 2], seed);
          gradcheck((t) => ck.maxPool3d(t, opts), [vol]);
          gradcheck((t) => ck.minPool3d(t, opts), [vol]);
          gradcheck((t) => ck.avgPool3d(t, opts), [vol]);
          gradcheck((t) => ck.avgPool3d(t, { ...opts, countIncludePad: true }), [vol]);
          const o1 = { size: opts.size[0], strides: opts.strides[0], dilations: opts.dilations[0], padding: [geo[0].pads] };
          const sig = distinct([2, geo[0].n, 2], seed + 1);
          gradcheck((t) => ck.maxPool1d(t, o1), [sig]);
          gradcheck((t) => ck.minPool1d(t, o1), [sig]);
          gradcheck((t) => ck.avgPool1d(t, o1), [sig]);
          gradcheck((t) => ck.globalAvgPool1d(t), [sig]);
          gradcheck((t) => ck.globalMaxPool1d(t), [sig]);
          gradcheck((t) => ck.globalAvgPool3d(t), [vol]);
          gradcheck((t) => ck.globalMaxPool3d(t), [vol]);
        });
      }),
      { numRuns: 8, seed: 45 },
    );
  });

  it('3D max-pool ties send the gradient to the first maximum in row-major (d, h, w) order', () => {
    // One 2x2x2 window holding 5 at (0,1,1), (1,0,0) and (1,1,1): (0,1,1) comes first.
    const x = ck.tensor([0, 0, 0, 5, 5, 0, 0, 5], [1, 2, 2, 2, 1], 'float64');
    const [g] = ck.grad((t: Tensor) => ck.sum(ck.maxPool3d(t, 2)))(x);
    expect(g.toArray()).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    const [g1] = ck.grad((t: Tensor) => ck.sum(ck.maxPool1d(t, 3)))(ck.tensor([2, 7, 7], [1, 3, 1], 'float64'));
    expect(g1.toArray()).toEqual([0, 1, 0]);
  });
});

describe('1D and 3D pooling errors name the op, the argument and the shapes', () => {
  it('rank, sizes, strides, kernel larger than the input, windows entirely in the padding, dtype', () => {
    expect(() => ck.maxPool1d(ck.zeros([1, 5, 5, 1]), 2)).toThrow(/maxPool1d: x must have rank 3 \(N,L,C\), received shape \[1, 5, 5, 1\]/);
    expect(() => ck.avgPool3d(ck.zeros([1, 5, 5, 1]), 2)).toThrow(/avgPool3d: x must have rank 5 \(N,D,H,W,C\), received shape \[1, 5, 5, 1\]/);
    expect(() => ck.maxPool1d(ck.zeros([1, 5, 1]), { size: 2, strides: 0 })).toThrow(/maxPool1d: strides must be positive integers, received \[0\]/);
    expect(() => ck.minPool3d(ck.zeros([1, 4, 4, 4, 1]), { size: [2, 2] })).toThrow(/minPool3d: size must have 3 entries, received \[2,2\]/);
    expect(() => ck.maxPool3d(ck.zeros([1, 4, 4, 4, 1]), { size: [2, 2, 1.5] })).toThrow(/maxPool3d: size must be positive integers, received \[2,2,1.5\]/);
    expect(() => ck.maxPool3d(ck.zeros([1, 2, 4, 4, 1]), { size: [3, 1, 1] })).toThrow(
      /maxPool3d: kernel of size \[3, 1, 1\] \(dilated 3 on axis 0\) is larger than the padded input \(2 = 2 \+ 0 \+ 0 on axis 0\) \(x shape \[1, 2, 4, 4, 1\], axes D,H,W; window size \[3, 1, 1\]\)/,
    );
    expect(() => ck.avgPool1d(ck.zeros([1, 3, 1]), { size: 2, padding: [[2, 0]] })).toThrow(/avgPool1d: padding \[\[2,0\]\] leaves window 0 on axis L with no input cell/);
    expect(() => ck.maxPool1d(ck.zeros([1, 3, 1], 'int32'), 1)).toThrow(/maxPool1d: x must be float32 or float64, received int32/);
    expect(() => ck.maxPool3d(ck.zeros([1, 3, 3, 3, 1]), undefined as unknown as number)).toThrow(/maxPool3d: the window size is required/);
    expect(() => ck.globalAvgPool1d(ck.zeros([3, 1]))).toThrow(/globalAvgPool1d: x must have rank 3 \(N,L,C\), received shape \[3, 1\]/);
    expect(() => ck.globalMaxPool3d(ck.zeros([1, 3, 3, 1]))).toThrow(/globalMaxPool3d: x must have rank 5 \(N,D,H,W,C\), received shape \[1, 3, 3, 1\]/);
  });
});
