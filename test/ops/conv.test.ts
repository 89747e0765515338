/**
 * Convolution ops: forward checked against an independent im2col + matmul written here,
 * against hand-computed values and against adjoint identities; gradients checked by
 * finite differences in float64 over shapes and attributes drawn by fast-check; the
 * conventions (output size, padding split, TF channel order) and the error messages pinned.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { computeConv2DInfo } from '../../src/kernels/conv_info.js';
import { expectClose, tolForK } from '../util/close.js';
import { describeOnBackends, on, read, readNested } from '../util/backends.js';
import { directionalCheck, gradcheck } from '../util/gradcheck.js';

const f64 = (shape: number[], seed: number) => ck.randomNormal(shape, { seed, dtype: 'float64' });
type Pads = [[number, number], [number, number]];

// ---------------------------------------------------------------- an independent reference

/** TF 'same' padding, computed here independently of src/kernels/conv_info.ts. */
function samePads(n: number, k: number, s: number, d: number): [number, number] {
  const eff = d * (k - 1) + 1;
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + eff - n);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * conv2d by im2col + matmul: for each group, every output position becomes a row of its
 * receptive field (zeros where it falls in the padding), and the filters a matrix.
 * Only the MatMul kernel of the library is used.
 */
function im2colConv2d(x: Tensor, w: Tensor, strides: number[], pads: Pads, dil: number[], groups: number): Tensor {
  const [N, H, W, C] = x.shape;
  const [KH, KW, Cg, F] = w.shape;
  const Fg = F / groups;
  const OH = Math.floor((H + pads[0][0] + pads[0][1] - (dil[0] * (KH - 1) + 1)) / strides[0]) + 1;
  const OW = Math.floor((W + pads[1][0] + pads[1][1] - (dil[1] * (KW - 1) + 1)) / strides[1]) + 1;
  const xv = x.dataSync(), wv = w.dataSync();
  const K = KH * KW * Cg, rows = N * OH * OW;
  const y = new Float64Array(rows * F);
  for (let g = 0; g < groups; g++) {
    const cols = new Float64Array(rows * K);
    for (let r = 0; r < rows; r++) {
      const n = Math.floor(r / (OH * OW)), oh = Math.floor(r / OW) % OH, ow = r % OW;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const ih = oh * strides[0] - pads[0][0] + kh * dil[0];
          const iw = ow * strides[1] - pads[1][0] + kw * dil[1];
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          for (let ci = 0; ci < Cg; ci++) cols[r * K + (kh * KW + kw) * Cg + ci] = xv[((n * H + ih) * W + iw) * C + g * Cg + ci];
        }
      }
    }
    const wm = new Float64Array(K * Fg);
    for (let k = 0; k < K; k++) for (let j = 0; j < Fg; j++) wm[k * Fg + j] = wv[k * F + g * Fg + j];
    const prod = ck.matmul(ck.tensor(cols, [rows, K], 'float64'), ck.tensor(wm, [K, Fg], 'float64')).dataSync();
    for (let r = 0; r < rows; r++) for (let j = 0; j < Fg; j++) y[r * F + g * Fg + j] = prod[r * Fg + j];
  }
  return ck.tensor(y, [N, OH, OW, F], 'float64');
}

type PadKind = 'valid' | 'same' | 'number' | 'explicit';
interface Case2D {
  N: number; G: number; Cg: number; Fg: number; KH: number; KW: number;
  sh: number; sw: number; dh: number; dw: number;
  padKind: PadKind; p: [number, number, number, number]; extraH: number; extraW: number; seed: number;
}

const case2d = (maxExtra = 3) =>
  fc.record({
    N: fc.integer({ min: 1, max: 2 }),
    G: fc.integer({ min: 1, max: 3 }),
    Cg: fc.integer({ min: 1, max: 2 }),
    Fg: fc.integer({ min: 1, max: 2 }),
    KH: fc.integer({ min: 1, max: 3 }),
    KW: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    padKind: fc.constantFrom<PadKind>('valid', 'same', 'number', 'explicit'),
    p: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    extraH: fc.integer({ min: 0, max: maxExtra }),
    extraW: fc.integer({ min: 0, max: maxExtra }),
    seed: fc.nat(),
  });

/** Sizes that fit the kernel, the padding option as the op takes it, and the resolved pads. */
function realise(c: Case2D) {
  const effH = c.dh * (c.KH - 1) + 1, effW = c.dw * (c.KW - 1) + 1;
  let padding: ck.Padding;
  let H: number, W: number, pads: Pads;
  if (c.padKind === 'same') {
    H = 1 + c.extraH; W = 1 + c.extraW;
    padding = 'same';
    pads = [samePads(H, c.KH, c.sh, c.dh), samePads(W, c.KW, c.sw, c.dw)];
  } else {
    pads = c.padKind === 'valid' ? [[0, 0], [0, 0]] : c.padKind === 'number' ? [[c.p[0], c.p[0]], [c.p[0], c.p[0]]] : [[c.p[0], c.p[1]], [c.p[2], c.p[3]]];
    padding = c.padKind === 'valid' ? 'valid' : c.padKind === 'number' ? c.p[0] : pads;
    H = Math.max(1, effH - pads[0][0] - pads[0][1]) + c.extraH;
    W = Math.max(1, effW - pads[1][0] - pads[1][1]) + c.extraW;
  }
  const x = [c.N, H, W, c.G * c.Cg], w = [c.KH, c.KW, c.Cg, c.G * c.Fg];
  const opts = { strides: [c.sh, c.sw], dilations: [c.dh, c.dw], padding, groups: c.G };
  return { x, w, opts, pads };
}

// ---------------------------------------------------------------- forward

describe('conv2d forward: the reference', () => {
  // Every backend's kernels are held to this reference by the conformance suite (test/kernels).
  it('matches im2col + matmul over drawn shapes, strides, paddings, dilations and groups', () => {
    fc.assert(
      fc.property(case2d(), (c) => {
        const { x: xs, w: ws, opts, pads } = realise(c);
        const x64 = f64(xs, c.seed), w64 = f64(ws, c.seed + 1);
        const expected = im2colConv2d(x64, w64, opts.strides, pads, opts.dilations, c.G);
        const K = c.KH * c.KW * c.Cg;
        const y = ck.conv2d(ck.cast(x64, 'float32'), ck.cast(w64, 'float32'), opts);
        expectClose(y, ck.cast(expected, 'float32'), tolForK(K));
        // The float64 oracle agrees with the reference to rounding.
        expectClose(ck.conv2d(x64, w64, opts), expected, { atol: 1e-12, rtol: 1e-12 });
      }),
      { numRuns: 60, seed: 11 },
    );
  });

});

describeOnBackends('conv2d forward', (backend) => {
  it('reproduces the example vector (3x3 input, 2x2 kernel, padding 1) computed by hand', async () => {
    // y[i,j] = x[i-1,j-1]*1 + x[i,j]*(-1) with x read as 0 outside the 3x3 image.
    const xv = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const at = (i: number, j: number) => (i < 0 || i > 2 || j < 0 || j > 2 ? 0 : xv[i * 3 + j]);
    const byHand: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) byHand.push(at(i - 1, j - 1) - at(i, j));
    const fromFile = [-1, -2, -3, 0, -4, -4, -4, 3, -7, -4, -4, 6, 0, 7, 8, 9];
    expect(byHand).toEqual(fromFile);
    const y = on(backend, () => ck.conv2d(ck.tensor(xv, [1, 3, 3, 1]), ck.tensor([1, 0, 0, -1], [2, 2, 1, 1]), { strides: [1, 1], padding: [[1, 1], [1, 1]], dilations: [1, 1], groups: 1 }));
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(await read(y)).toEqual(fromFile);
  });

  it('multi-channel input: each filter spans the full depth and filters run in parallel', async () => {
    // 2x2 image, 2 channels; filter 0 sums channel 0, filter 1 takes channel 1 minus channel 0.
    const x = ck.tensor([[[[1, 10], [2, 20]], [[3, 30], [4, 40]]]]);
    const w = ck.tensor([[[[1, -1], [0, 1]]]]); // [1,1,2,2]: w[0,0,c,f]
    expect(await readNested(on(backend, () => ck.conv2d(x, w)))).toEqual([[[[1, 9], [2, 18]], [[3, 27], [4, 36]]]]);
  });

  it('adds the bias to every position of its filter', async () => {
    const x = ck.ones([1, 3, 3, 1]);
    const w = ck.ones([2, 2, 1, 2]);
    expect(await read(on(backend, () => ck.conv2d(x, w, { bias: ck.tensor([0.5, -4]) })))).toEqual([4.5, 0, 4.5, 0, 4.5, 0, 4.5, 0]);
  });

  it('NaN in gives NaN out, only where the window reads it', async () => {
    const xv = new Float32Array(16).fill(1);
    xv[0] = NaN;
    const y = await read(on(backend, () => ck.conv2d(ck.tensor(xv, [1, 4, 4, 1]), ck.ones([2, 2, 1, 1]))));
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y.slice(1)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
  });
});

describe('output size floor((n + 2p - f)/s + 1) and padding conventions', () => {
  const cases: [n: number, f: number, p: number, s: number][] = [
    [6, 3, 0, 1], [6, 3, 1, 1], [7, 3, 1, 2], [5, 2, 0, 2], [32, 5, 0, 1], [227, 11, 0, 4], [224, 7, 3, 2], [28, 5, 2, 1], [8, 1, 0, 3], [4, 4, 0, 1],
  ];
  it.each(cases)('n=%i f=%i p=%i s=%i', (n, f, p, s) => {
    const y = ck.conv2d(ck.zeros([1, n, n, 1]), ck.zeros([f, f, 1, 1]), { padding: p, strides: s });
    const o = Math.floor((n + 2 * p - f) / s + 1);
    expect(y.shape).toEqual([1, o, o, 1]);
  });
  it('non-square kernels and per-axis strides', () => {
    expect(ck.conv2d(ck.zeros([2, 7, 9, 3]), ck.zeros([3, 1, 3, 4]), { strides: [2, 3] }).shape).toEqual([2, 3, 3, 4]);
    expect(ck.conv2d(ck.zeros([1, 5, 6, 1]), ck.zeros([1, 3, 1, 1]), { padding: [[0, 0], [1, 1]] }).shape).toEqual([1, 5, 6, 1]);
  });
  it("'same' keeps ceil(n/s) and puts the odd padding at the end (TF)", () => {
    const info = computeConv2DInfo('conv2d', [1, 6, 5, 1], [2, 3, 1, 1], { padding: 'same', strides: [2, 1] });
    expect([info.outH, info.outW]).toEqual([3, 5]);
    expect([info.padTop, info.padBottom, info.padLeft, info.padRight]).toEqual([0, 0, 1, 1]);
    const info2 = computeConv2DInfo('conv2d', [1, 5, 5, 1], [4, 4, 1, 1], { padding: 'same' });
    expect([info2.padTop, info2.padBottom]).toEqual([1, 2]);
    // dilation 2 makes a 3-tap kernel span 5 cells: 'same' pads 2 + 2.
    const info3 = computeConv2DInfo('conv2d', [1, 5, 5, 1], [3, 3, 1, 1], { padding: 'same', dilations: 2 });
    expect([info3.outH, info3.padTop, info3.padBottom]).toEqual([5, 2, 2]);
  });
  it('dilation spaces the taps: a dilated 2x2 kernel reads cells 2 apart', () => {
    const x = ck.arange(0, 16).reshape([1, 4, 4, 1]);
    const w = ck.tensor([1, 0, 0, 0, 0, 0, 0, 0, 1], [3, 3, 1, 1]);
    const wd = ck.tensor([1, 0, 0, 1], [2, 2, 1, 1]);
    // w with a 3x3 footprint and taps at (0,0),(2,2) equals the 2x2 kernel with dilation 2.
    expect(ck.conv2d(x, wd, { dilations: 2 }).toArray()).toEqual(ck.conv2d(x, w).toArray());
    expect(ck.conv2d(x, wd, { dilations: 2 }).toArray()).toEqual([0 + 10, 1 + 11, 4 + 14, 5 + 15]);
  });
  it('1x1 convolution mixes channels at each pixel (a matmul over C)', () => {
    const x = f64([2, 3, 3, 5], 1), w = f64([1, 1, 5, 4], 2);
    const viaMatmul = ck.matmul(x.reshape([18, 5]), w.reshape([5, 4])).reshape([2, 3, 3, 4]);
    expectClose(ck.conv2d(x, w), viaMatmul, { atol: 1e-12, rtol: 1e-12 });
  });
});

// ---------------------------------------------------------------- other forms

describe('conv1d, conv3d, depthwise, transpose, convolve2d forward', () => {
  it('conv1d of a signal by hand and equal to conv2d with H = 1', () => {
    // A moving difference: y[t] = x[t+1] - x[t].
    const x = ck.tensor([1, 4, 9, 16, 25], [1, 5, 1]);
    expect(ck.conv1d(x, ck.tensor([-1, 1], [2, 1, 1])).toArray()).toEqual([3, 5, 7, 9]);
    expect(ck.conv1d(x, ck.tensor([-1, 1], [2, 1, 1]), { padding: 'same' }).toArray()).toEqual([3, 5, 7, 9, -25]);
    expect(ck.conv1d(x, ck.tensor([1, 1, 1], [3, 1, 1]), { strides: 2, padding: [[1, 0]] }).toArray()).toEqual([5, 29]);
    const xs = f64([2, 9, 3], 3), ws = f64([3, 1, 6], 4);
    const y1 = ck.conv1d(xs, ws, { strides: 2, dilations: 2, groups: 3, padding: [[2, 1]] });
    const y2 = im2colConv2d(xs.reshape([2, 1, 9, 3]), ws.reshape([1, 3, 1, 6]), [1, 2], [[0, 0], [2, 1]], [1, 2], 3);
    expectClose(y1, y2.reshape([2, 4, 6]), { atol: 1e-12, rtol: 1e-12 });
  });

  it('conv3d equals the sum over depth taps of conv2d on slices', () => {
    fc.assert(
      fc.property(
        fc.record({ D: fc.integer({ min: 1, max: 5 }), KD: fc.integer({ min: 1, max: 2 }), sd: fc.integer({ min: 1, max: 2 }), dd: fc.integer({ min: 1, max: 2 }), pf: fc.integer({ min: 0, max: 1 }), pb: fc.integer({ min: 0, max: 1 }), G: fc.integer({ min: 1, max: 2 }), seed: fc.nat() }),
        ({ D, KD, sd, dd, pf, pb, G, seed }) => {
          fc.pre(D + pf + pb >= dd * (KD - 1) + 1);
          const x = f64([1, D, 4, 5, 2 * G], seed), w = f64([KD, 2, 2, 2, G], seed + 1);
          const hw: Pads = [[1, 0], [0, 1]];
          const opts = { strides: [sd, 1, 2], dilations: [dd, 1, 2], padding: [[pf, pb], ...hw] as [number, number][], groups: G };
          const y = ck.conv3d(x, w, opts);
          const OD = Math.floor((D + pf + pb - dd * (KD - 1) - 1) / sd) + 1;
          expect(y.shape).toEqual([1, OD, 4, 2, G]);
          for (let od = 0; od < OD; od++) {
            let acc: Tensor | null = null;
            for (let kd = 0; kd < KD; kd++) {
              const id = od * sd - pf + kd * dd;
              if (id < 0 || id >= D) continue;
              const xs = x.slice([0, id, 0, 0, 0], [1, 1, 4, 5, 2 * G]).reshape([1, 4, 5, 2 * G]);
              const ws = w.slice([kd, 0, 0, 0, 0], [1, 2, 2, 2, G]).reshape([2, 2, 2, G]);
              const part = im2colConv2d(xs, ws, [1, 2], hw, [1, 2], G);
              acc = acc ? ck.add(acc, part) : part;
            }
            const got = y.slice([0, od, 0, 0, 0], [1, 1, 4, 2, G]).reshape([1, 4, 2, G]);
            expectClose(got, acc ?? ck.zeros([1, 4, 2, G], 'float64'), { atol: 1e-12, rtol: 1e-12 });
          }
        },
      ),
      { numRuns: 25, seed: 13 },
    );
  });

  it('depthwiseConv2d: output channel c*M + m is channel c filtered by w[:,:,c,m] (TF order)', () => {
    const C = 3, M = 2;
    const x = f64([2, 5, 4, C], 5), w = f64([3, 2, C, M], 6);
    const y = ck.depthwiseConv2d(x, w, { strides: [2, 1], padding: 'same', dilations: [1, 2] });
    expect(y.shape).toEqual([2, 3, 4, C * M]);
    for (let c = 0; c < C; c++) {
      for (let m = 0; m < M; m++) {
        const xc = x.slice([0, 0, 0, c], [2, 5, 4, 1]);
        const wcm = w.slice([0, 0, c, m], [3, 2, 1, 1]);
        const ref = im2colConv2d(xc, wcm, [2, 1], [samePads(5, 3, 2, 1), samePads(4, 2, 1, 2)], [1, 2], 1);
        expectClose(y.slice([0, 0, 0, c * M + m], [2, 3, 4, 1]), ref, { atol: 1e-12, rtol: 1e-12 });
      }
    }
  });

  it('conv2dTranspose by hand: stride 2 stamps the kernel, stride 1 overlaps and adds', () => {
    const x = ck.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(ck.conv2dTranspose(x, ck.ones([2, 2, 1, 1]), { strides: 2 }).arraySync()).toEqual(
      [[[[1], [1], [2], [2]], [[1], [1], [2], [2]], [[3], [3], [4], [4]], [[3], [3], [4], [4]]]],
    );
    expect(ck.conv2dTranspose(x, ck.ones([2, 2, 1, 1])).reshape([3, 3]).arraySync()).toEqual([[1, 3, 2], [4, 10, 6], [3, 7, 4]]);
    // Padding [[1,1],[1,1]] removes the border of the full 3x3 output; outputPadding adds a row/column at the end.
    expect(ck.conv2dTranspose(x, ck.ones([2, 2, 1, 1]), { padding: 1 }).toArray()).toEqual([10]);
    expect(ck.conv2dTranspose(x, ck.ones([2, 2, 1, 1]), { strides: 2, padding: [[0, 1], [0, 1]], outputPadding: 1 }).shape).toEqual([1, 4, 4, 1]);
  });

  it('conv2dTranspose output size OH = (H-1)*s - t - b + d*(K-1) + op + 1, and H*s with same', () => {
    const shapeOf = (H: number, K: number, opts: ck.ConvTransposeOptions) => ck.conv2dTranspose(ck.zeros([1, H, H, 2]), ck.zeros([K, K, 3, 2]), opts).shape[1];
    expect(shapeOf(4, 3, { strides: 2 })).toBe(3 * 2 + 2 + 1);
    expect(shapeOf(4, 3, { strides: 2, padding: [[1, 0], [1, 0]], outputPadding: 1 })).toBe(3 * 2 - 1 + 2 + 1 + 1);
    expect(shapeOf(4, 3, { strides: 3, dilations: 2, padding: 1, outputPadding: 2 })).toBe(3 * 3 - 2 + 4 + 2 + 1);
    expect(shapeOf(3, 3, { strides: 2, padding: 'same' })).toBe(6);
    expect(shapeOf(3, 1, { strides: 2, padding: 'same' })).toBe(6);
    expect(shapeOf(5, 4, { strides: 1, padding: 'same' })).toBe(5);
  });

  it('conv2dTranspose is the adjoint of conv2d: <T(x), y> = <x, conv(y)>', () => {
    fc.assert(
      fc.property(
        fc.record({
          H: fc.integer({ min: 1, max: 4 }), W: fc.integer({ min: 1, max: 4 }), G: fc.integer({ min: 1, max: 2 }),
          a: fc.integer({ min: 1, max: 2 }), b: fc.integer({ min: 1, max: 2 }),
          K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }),
          same: fc.boolean(), pt: fc.integer({ min: 0, max: 1 }), pb: fc.integer({ min: 0, max: 1 }), op: fc.nat(), seed: fc.nat(),
        }),
        (c) => {
          const C = c.G * c.a, F = c.G * c.b;
          const opts: ck.ConvTransposeOptions = c.same
            ? { strides: c.s, dilations: c.d, padding: 'same', groups: c.G }
            : { strides: c.s, dilations: c.d, padding: [[c.pt, c.pb], [c.pb, c.pt]], outputPadding: c.op % c.s, groups: c.G };
          const full = (n: number) => (n - 1) * c.s + c.d * (c.K - 1) + 1 - c.pt - c.pb;
          fc.pre(c.same || (full(c.H) >= 1 && full(c.W) >= 1));
          const x = f64([2, c.H, c.W, C], c.seed), w = f64([c.K, c.K, c.b, C], c.seed + 1);
          const t = ck.conv2dTranspose(x, w, opts);
          if (c.same) expect(t.shape).toEqual([2, c.H * c.s, c.W * c.s, F]);
          const y = f64([...t.shape], c.seed + 2);
          const pads = (c.same
            ? [0, 1].map(() => {
                const total = Math.max(0, c.d * (c.K - 1) + 1 - c.s);
                return [Math.floor(total / 2), total - Math.floor(total / 2)];
              })
            : [[c.pt, c.pb], [c.pb, c.pt]]) as Pads;
          // conv2d over y with the same geometry maps back to x's shape; w [K,K,F/G,C] is its filter.
          const back = im2colConv2d(y, w, [c.s, c.s], pads, [c.d, c.d], c.G);
          expect(back.shape).toEqual(x.shape);
          const lhs = ck.sum(ck.mul(t, y)).item(), rhs = ck.sum(ck.mul(x, back)).item();
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(rhs)));
        },
      ),
      { numRuns: 40, seed: 14 },
    );
  });

  it('convolve2d is conv2d with the kernel flipped in both spatial axes', () => {
    const x = f64([1, 5, 5, 2], 7), k = f64([3, 2, 2, 3], 8);
    const kv = k.dataSync();
    const flipped = new Float64Array(kv.length);
    for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 2; kw++) for (let i = 0; i < 6; i++) flipped[((2 - kh) * 2 + (1 - kw)) * 6 + i] = kv[(kh * 2 + kw) * 6 + i];
    expectClose(ck.convolve2d(x, k, { padding: 1 }), ck.conv2d(x, ck.tensor(flipped, [3, 2, 2, 3], 'float64'), { padding: 1 }), { atol: 1e-12, rtol: 1e-12 });
    // 1D-like hand example: correlation with [1,2] gives a+2b, convolution gives 2a+b.
    const row = ck.tensor([1, 10, 100], [1, 1, 3, 1]), k12 = ck.tensor([1, 2], [1, 2, 1, 1]);
    expect(ck.conv2d(row, k12).toArray()).toEqual([21, 210]);
    expect(ck.convolve2d(row, k12).toArray()).toEqual([12, 120]);
  });
});

// ---------------------------------------------------------------- gradients

describe('conv gradients (finite differences, float64)', () => {
  it('conv2d: dx, dw, db over drawn strides 1-3, paddings, dilations 1-2 and groups', () => {
    fc.assert(
      fc.property(case2d(2), fc.boolean(), (c, withBias) => {
        const { x: xs, w: ws, opts } = realise(c);
        const x = f64(xs, c.seed), w = f64(ws, c.seed + 1), b = f64([ws[3]], c.seed + 2);
        if (withBias) gradcheck((x, w, b) => ck.conv2d(x, w, { ...opts, bias: b }), [x, w, b]);
        else gradcheck((x, w) => ck.conv2d(x, w, opts), [x, w]);
      }),
      { numRuns: 20, seed: 21 },
    );
  });

  it('conv2d pinned cases: batch 1, 1x1 kernel, odd sizes, asymmetric explicit padding', () => {
    gradcheck((x, w) => ck.conv2d(x, w), [f64([1, 3, 5, 3], 1), f64([1, 1, 3, 2], 2)]);
    gradcheck((x, w) => ck.conv2d(x, w, { strides: [3, 2], padding: [[2, 0], [0, 1]] }), [f64([1, 7, 5, 1], 3), f64([3, 2, 1, 3], 4)]);
    gradcheck((x, w) => ck.conv2d(x, w, { padding: 'same', dilations: [2, 1], groups: 2 }), [f64([1, 5, 3, 4], 5), f64([3, 3, 2, 2], 6)]);
  });

  it('conv1d', () => {
    fc.assert(
      fc.property(
        fc.record({ L: fc.integer({ min: 0, max: 4 }), K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }), G: fc.integer({ min: 1, max: 2 }), pl: fc.integer({ min: 0, max: 2 }), pr: fc.integer({ min: 0, max: 2 }), seed: fc.nat() }),
        (c) => {
          const L = Math.max(1, c.d * (c.K - 1) + 1 - c.pl - c.pr) + c.L;
          const x = f64([1, L, 2 * c.G], c.seed), w = f64([c.K, 2, 3 * c.G], c.seed + 1), b = f64([3 * c.G], c.seed + 2);
          gradcheck((x, w, b) => ck.conv1d(x, w, { strides: c.s, dilations: c.d, groups: c.G, padding: [[c.pl, c.pr]], bias: b }), [x, w, b]);
        },
      ),
      { numRuns: 15, seed: 22 },
    );
  });

  it('conv3d (full check on a small case, directional on drawn ones)', () => {
    gradcheck((x, w, b) => ck.conv3d(x, w, { strides: [1, 2, 1], padding: [[1, 0], [0, 1], [1, 1]], bias: b }), [f64([1, 3, 3, 2, 2], 1), f64([2, 2, 1, 2, 2], 2), f64([2], 3)]);
    fc.assert(
      fc.property(
        fc.record({ s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }), G: fc.integer({ min: 1, max: 3 }), same: fc.boolean(), seed: fc.nat() }),
        (c) => {
          const x = f64([2, 4, 5, 4, c.G], c.seed), w = f64([2, 3, 2, 1, 2 * c.G], c.seed + 1);
          directionalCheck((x, w) => ck.conv3d(x, w, { strides: c.s, dilations: [c.d, 1, 3 - c.d], groups: c.G, padding: c.same ? 'same' : 1 }), [x, w], { seed: c.seed });
        },
      ),
      { numRuns: 12, seed: 23 },
    );
  });

  it('depthwiseConv2d', () => {
    fc.assert(
      fc.property(
        fc.record({ C: fc.integer({ min: 1, max: 3 }), M: fc.integer({ min: 1, max: 2 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), same: fc.boolean(), seed: fc.nat() }),
        (c) => {
          const x = f64([1, 5, 4, c.C], c.seed), w = f64([2, 3, c.C, c.M], c.seed + 1), b = f64([c.C * c.M], c.seed + 2);
          gradcheck((x, w, b) => ck.depthwiseConv2d(x, w, { strides: c.s, dilations: c.d, padding: c.same ? 'same' : [[1, 0], [0, 1]], bias: b }), [x, w, b]);
        },
      ),
      { numRuns: 10, seed: 24 },
    );
  });

  it('conv2dTranspose with strides, padding, outputPadding, dilations and groups', () => {
    fc.assert(
      fc.property(
        fc.record({ H: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }), G: fc.integer({ min: 1, max: 2 }), op: fc.nat(), same: fc.boolean(), seed: fc.nat() }),
        (c) => {
          const opts: ck.ConvTransposeOptions = c.same
            ? { strides: c.s, dilations: c.d, groups: c.G, padding: 'same' }
            : { strides: c.s, dilations: c.d, groups: c.G, padding: [[0, 1], [1, 0]], outputPadding: [c.op % c.s, (c.op + 1) % c.s] };
          const x = f64([1, c.H, c.H + 1, 2 * c.G], c.seed), w = f64([c.K, c.K, 2, 2 * c.G], c.seed + 1), b = f64([2 * c.G], c.seed + 2);
          fc.pre((c.H - 1) * c.s - 1 + c.d * (c.K - 1) + 1 >= 1);
          gradcheck((x, w, b) => ck.conv2dTranspose(x, w, { ...opts, bias: b }), [x, w, b]);
        },
      ),
      { numRuns: 15, seed: 25 },
    );
  });

  it('convolve2d', () => {
    gradcheck((x, k) => ck.convolve2d(x, k, { padding: 'same', strides: 2 }), [f64([2, 4, 5, 2], 1), f64([3, 2, 2, 2], 2)]);
  });

  it('a bigger conv2d layer, directional check', () => {
    directionalCheck((x, w, b) => ck.conv2d(x, w, { padding: 'same', strides: 2, bias: b }), [f64([4, 9, 9, 8], 1), f64([3, 3, 8, 16], 2), f64([16], 3)]);
  });
});

// ---------------------------------------------------------------- errors

describe('conv errors name the op, the argument and the shapes', () => {
  it('channel mismatch', () => {
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 3]), ck.zeros([3, 3, 4, 2]))).toThrow(
      /conv2d: channel mismatch: w of shape \[3, 3, 4, 2\] \(KH,KW,C\/groups,F\) has 4 input channels per group, expected x's C \/ groups = 3 \/ 1 = 3 \(x shape \[1, 5, 5, 3\]\)/,
    );
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 4]), ck.zeros([3, 3, 4, 2]), { groups: 2 })).toThrow(/expected x's C \/ groups = 4 \/ 2 = 2/);
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 4]), ck.zeros([3, 3, 1, 2]), { groups: 3 })).toThrow(/conv2d: groups \(3\) must divide x's channels C = 4 \(x shape \[1, 5, 5, 4\]\)/);
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 4]), ck.zeros([3, 3, 2, 3]), { groups: 2 })).toThrow(/groups \(2\) must divide the number of filters F = 3 \(w shape \[3, 3, 2, 3\]\)/);
    expect(() => ck.conv1d(ck.zeros([1, 8, 2]), ck.zeros([3, 3, 1]))).toThrow(/conv1d: channel mismatch: w of shape \[3, 3, 1\] \(KL,C\/groups,F\).*x shape \[1, 8, 2\]/);
    expect(() => ck.depthwiseConv2d(ck.zeros([1, 5, 5, 3]), ck.zeros([3, 3, 2, 1]))).toThrow(/depthwiseConv2d: channel mismatch: w of shape \[3, 3, 2, 1\] \(KH,KW,C,M\) has C = 2, x of shape \[1, 5, 5, 3\] has C = 3/);
    expect(() => ck.conv2dTranspose(ck.zeros([1, 5, 5, 3]), ck.zeros([3, 3, 2, 4]))).toThrow(/conv2dTranspose: channel mismatch: w of shape \[3, 3, 2, 4\].*expects C = 4.*x of shape \[1, 5, 5, 3\] has 3/);
  });
  it('kernel larger than the padded input', () => {
    expect(() => ck.conv2d(ck.zeros([1, 3, 3, 1]), ck.zeros([5, 5, 1, 1]))).toThrow(
      /conv2d: kernel of size \[5, 5\] \(dilated 5 on axis 0\) is larger than the padded input \(3 = 3 \+ 0 \+ 0 on axis 0\) \(x shape \[1, 3, 3, 1\], axes H,W; w shape \[5, 5, 1, 1\]\)/,
    );
    expect(() => ck.conv2d(ck.zeros([1, 3, 3, 1]), ck.zeros([5, 5, 1, 1]), { padding: 1 })).not.toThrow();
    expect(() => ck.conv2d(ck.zeros([1, 3, 3, 1]), ck.zeros([3, 3, 1, 1]), { dilations: 2 })).toThrow(/dilated 5 on axis 0.*larger than the padded input \(3 = 3/);
    expect(() => ck.conv3d(ck.zeros([1, 2, 5, 5, 1]), ck.zeros([3, 1, 1, 1, 1]))).toThrow(/conv3d: kernel of size \[3, 1, 1\].*axis 0.*x shape \[1, 2, 5, 5, 1\], axes D,H,W/);
  });
  it('zero, negative and non-integer strides and dilations', () => {
    const x = ck.zeros([1, 5, 5, 1]), w = ck.zeros([2, 2, 1, 1]);
    expect(() => ck.conv2d(x, w, { strides: 0 })).toThrow(/conv2d: strides must be positive integers, received \[0,0\]/);
    expect(() => ck.conv2d(x, w, { strides: [1, -2] })).toThrow(/conv2d: strides must be positive integers, received \[1,-2\]/);
    expect(() => ck.conv2d(x, w, { strides: 1.5 })).toThrow(/conv2d: strides must be positive integers, received \[1.5,1.5\]/);
    expect(() => ck.conv2d(x, w, { strides: [1, 1, 1] })).toThrow(/conv2d: strides must have 2 entries, received \[1,1,1\]/);
    expect(() => ck.conv2d(x, w, { dilations: 0 })).toThrow(/conv2d: dilations must be positive integers/);
    expect(() => ck.conv2d(x, w, { padding: -1 })).toThrow(/conv2d: padding must be non-negative integers, received \[-1\]/);
    expect(() => ck.conv2d(x, w, { padding: [[1, 1]] })).toThrow(/conv2d: padding must be 'valid', 'same', a non-negative integer or 2 \[before, after\] pairs/);
    expect(() => ck.conv2d(x, w, { groups: 0 })).toThrow(/conv2d: groups must be a positive integer, received 0/);
    expect(() => ck.conv2dTranspose(x, w, { strides: 2, outputPadding: 2 })).toThrow(/conv2dTranspose: outputPadding \[2,2\] must be smaller than strides \[2,2\]/);
    expect(() => ck.conv2dTranspose(x, w, { padding: 'same', outputPadding: 1 })).toThrow(/outputPadding cannot be combined with padding 'same'/);
    expect(() => ck.conv2dTranspose(ck.zeros([1, 1, 1, 1]), ck.zeros([1, 1, 1, 1]), { padding: 1 })).toThrow(/conv2dTranspose: padding \[\[1,1\],\[1,1\]\] removes the whole output on axis 0/);
  });
  it('non-integer and empty shapes given to the geometry', () => {
    expect(() => computeConv2DInfo('conv2d', [1, 2.5, 3, 1], [1, 1, 1, 1])).toThrow(/conv2d: x must have positive integer dimensions \(N,H,W,C\), received shape \[1, 2.5, 3, 1\]/);
    expect(() => computeConv2DInfo('conv2d', [1, 3, 3, 1], [0, 1, 1, 1])).toThrow(/conv2d: w must have positive integer dimensions \(KH,KW,C\/groups,F\), received shape \[0, 1, 1, 1\]/);
    expect(() => ck.conv2d(ck.zeros([1, 0, 3, 1]), ck.zeros([1, 1, 1, 1]))).toThrow(/x must have positive integer dimensions.*\[1, 0, 3, 1\]/);
  });
  it('wrong rank', () => {
    expect(() => ck.conv2d(ck.zeros([5, 5, 1]), ck.zeros([3, 3, 1, 1]))).toThrow(/conv2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 5, 1\]/);
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 1]), ck.zeros([3, 3, 1]))).toThrow(/conv2d: w must have rank 4 \(KH,KW,C\/groups,F\), received shape \[3, 3, 1\]/);
    expect(() => ck.conv1d(ck.zeros([1, 5, 5, 1]), ck.zeros([3, 1, 1]))).toThrow(/conv1d: x must have rank 3 \(N,L,C\), received shape \[1, 5, 5, 1\]/);
    expect(() => ck.conv3d(ck.zeros([1, 5, 5, 1]), ck.zeros([1, 3, 3, 1, 1]))).toThrow(/conv3d: x must have rank 5 \(N,D,H,W,C\), received shape \[1, 5, 5, 1\]/);
    expect(() => ck.depthwiseConv2d(ck.zeros([1, 5, 5, 1]), ck.zeros([3, 3, 1]))).toThrow(/depthwiseConv2d: w must have rank 4 \(KH,KW,C,M\), received shape \[3, 3, 1\]/);
    expect(() => ck.convolve2d(ck.zeros([1, 5, 5, 1]), ck.zeros([3, 3]))).toThrow(/convolve2d: k must have rank 4 \(KH,KW,C\/groups,F\), received shape \[3, 3\]/);
  });
  it('bias and dtype', () => {
    const x = ck.zeros([1, 5, 5, 2]), w = ck.zeros([3, 3, 2, 4]);
    expect(() => ck.conv2d(x, w, { bias: ck.zeros([3]) })).toThrow(/conv2d: bias must have shape \[4\] \(one value per filter\), received shape \[3\]/);
    expect(() => ck.conv2d(x, ck.zeros([3, 3, 2, 4], 'float64'))).toThrow(/conv2d: dtypes differ \(x is float32, w is float64\)/);
    expect(() => ck.conv2d(ck.zeros([1, 5, 5, 2], 'int32'), ck.zeros([3, 3, 2, 4], 'int32'))).toThrow(/conv2d: x must be float32 or float64, received int32/);
  });
});

// ---------------------------------------------------------------- fused bias + activation

describeOnBackends('conv2d with an activation (FusedConv2D)', (backend) => {
  const composite = (z: Tensor, act: string, alpha: number): Tensor =>
    act === 'relu' ? ck.relu(z) : act === 'relu6' ? ck.relu6(z) : act === 'leakyRelu' ? ck.leakyRelu(z, alpha)
      : act === 'hardSigmoid' ? ck.hardSigmoid(z) : act === 'hardSwish' ? ck.hardSwish(z) : act === 'swish' ? ck.swish(z) : z;
  const cases: [string, number[], number[], Omit<ck.Conv2DOptions, 'bias' | 'activation'>][] = [
    ['3x3 same', [2, 7, 6, 5], [3, 3, 5, 7], { padding: 'same' }],
    ['1x1 (pointwise path)', [1, 6, 6, 16], [1, 1, 16, 24], {}],
    ['stride 2, few channels (direct path)', [1, 9, 9, 3], [3, 3, 3, 16], { strides: 2, padding: 1 }],
    ['grouped', [1, 6, 5, 6], [3, 3, 2, 9], { groups: 3, padding: 1 }],
  ];
  for (const [label, xs, ws, opts] of cases) {
    for (const act of ['linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'] as const) {
      it(`${label}, ${act}: equals the activation op applied to conv + bias`, async () => {
        const x = ck.mul(ck.randomNormal(xs, { seed: 1 }), 2), w = ck.randomNormal(ws, { seed: 2 }), b = ck.mul(ck.randomNormal([ws[3]], { seed: 3 }), 4);
        const [got, want] = on(backend, () => [
          ck.conv2d(x, w, { ...opts, bias: b, activation: act, leakyReluAlpha: 0.2 }),
          composite(ck.add(ck.conv2d(x, w, opts), b), act, 0.2),
        ]);
        expectClose(await read(got), await read(want), tolForK(ws[0] * ws[1] * ws[2]));
      });
    }
  }
  it('depthwise with multiplier 2, relu6, no bias', async () => {
    const x = ck.mul(ck.randomNormal([1, 8, 7, 6], { seed: 4 }), 3), w = ck.randomNormal([3, 3, 6, 2], { seed: 5 });
    const [got, want] = on(backend, () => [
      ck.depthwiseConv2d(x, w, { padding: 1, activation: 'relu6' }),
      ck.relu6(ck.depthwiseConv2d(x, w, { padding: 1 })),
    ]);
    expectClose(await read(got), await read(want), tolForK(9));
  });
  it('NaN stays NaN through every activation', async () => {
    const x = ck.tensor([NaN, 1, -1, 2], [1, 2, 2, 1]), w = ck.ones([1, 1, 1, 1]);
    for (const act of ['linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'] as const) {
      const y = await read(on(backend, () => ck.conv2d(x, w, { bias: ck.tensor([0]), activation: act })));
      expect(Number.isNaN(y[0]), act).toBe(true);
    }
  });
});

describe('conv2d with an activation: gradients', () => {
  for (const act of ['linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'] as const) {
    it(`${act}: finite differences of x, w and bias`, () => {
      // scaled so that some sums pass 6 and some fall below 0 (kinks kept away from by the draw)
      const x = ck.mul(f64([1, 5, 4, 3], 11), 2), w = f64([3, 3, 3, 4], 12), b = ck.mul(f64([4], 13), 3);
      gradcheck((x, w, b) => ck.conv2d(x, w, { padding: 1, bias: b, activation: act, leakyReluAlpha: 0.3 }), [x, w, b]);
    });
  }
  it('equal the composite gradients, relu6 and hard sigmoid at and beyond their kinks included', () => {
    const x = ck.tensor([3, 6, 7, -1, 0, 5.5, -3, -4, 2.5], [1, 1, 9, 1], 'float64'), w = ck.ones([1, 1, 1, 1], 'float64'), b = ck.zeros([1], 'float64');
    for (const act of ['relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'] as const) {
      const composite = (x: Tensor, w: Tensor, b: Tensor) => {
        const z = ck.add(ck.conv2d(x, w), b);
        return act === 'relu' ? ck.relu(z) : act === 'relu6' ? ck.relu6(z) : act === 'hardSigmoid' ? ck.hardSigmoid(z) : act === 'hardSwish' ? ck.hardSwish(z) : act === 'swish' ? ck.swish(z) : ck.leakyRelu(z, 0.1);
      };
      const fused = (x: Tensor, w: Tensor, b: Tensor) => ck.conv2d(x, w, { bias: b, activation: act, leakyReluAlpha: 0.1 });
      // the hard functions' composites pass the gradient at their kinks (z = +-3, where a
      // tie of minimum picks the first argument); the fused kernel does as PyTorch (0 there)
      const xs = act.startsWith('hard') ? ck.tensor([2.9, 6, 7, -1, 0, 5.5, -2.9, -4, 2.5], [1, 1, 9, 1], 'float64') : x;
      const g1 = ck.grad((x, w, b) => ck.sum(fused(x, w, b)))(xs, w, b);
      const g2 = ck.grad((x, w, b) => ck.sum(composite(x, w, b)))(xs, w, b);
      for (let i = 0; i < 3; i++) expectClose(g1[i].toArray(), g2[i].toArray(), { atol: 1e-12, rtol: 1e-12 });
    }
  });
  it("hard sigmoid's gradient is 0 at its kinks (z = -3 and 3), as PyTorch's", () => {
    const x = ck.tensor([-3, 3, 0], [1, 1, 3, 1], 'float64'), w = ck.ones([1, 1, 1, 1], 'float64'), b = ck.zeros([1], 'float64');
    const g = ck.grad((x: Tensor) => ck.sum(ck.conv2d(x, w, { bias: b, activation: 'hardSigmoid' })))(x)[0].toArray();
    expect(g).toEqual([0, 0, 1 / 6]);
  });
  it('bad activation, slope and bias are errors naming the argument', () => {
    const x = ck.zeros([1, 5, 5, 2]), w = ck.zeros([3, 3, 2, 4]);
    expect(() => ck.conv2d(x, w, { activation: 'gelu' as never })).toThrow(/conv2d: activation must be one of linear, relu, relu6, leakyRelu, hardSigmoid, hardSwish, swish, received "gelu"/);
    expect(() => ck.conv2d(x, w, { activation: 'leakyRelu', leakyReluAlpha: -0.1 })).toThrow(/conv2d: leakyReluAlpha must be a finite number >= 0, received -0.1/);
    expect(() => ck.depthwiseConv2d(x, ck.zeros([3, 3, 2, 1]), { activation: 'relu', bias: ck.zeros([3]) })).toThrow(/depthwiseConv2d: bias must have shape \[2\]/);
  });
});
