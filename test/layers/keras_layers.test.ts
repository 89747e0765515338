/**
 * Issue 16 part 1, the Keras layers convkit lacked: SeparableConv2D, UpSampling1D/2D/3D,
 * Cropping1D/2D/3D, ZeroPadding1D/3D (and ZeroPadding2D's Keras forms), Rescaling, MaxPooling1D, AveragePooling1D,
 * GlobalAveragePooling1D/3D, GlobalMaxPooling1D/3D, SpatialDropout1D/2D/3D and the merges
 * Subtract, Average, Maximum, Minimum.
 *
 * Checked: values against hand-computed results and oracle compositions (SeparableConv2D is
 * DepthwiseConv2D then a 1x1 Conv2D), against @tensorflow/tfjs-layers 4.22 built with the
 * same weights (within 1e-5, float32: the layers tfjs has, UpSampling2D bilinear, SeparableConv2D
 * and 1D pooling with padding 'same' included), output shapes, finite-difference gradients in
 * float64 (test/util/gradcheck.ts; weights through a fresh layer per evaluation), the option
 * errors, save/load round trips and ONNX export run in onnxruntime-web in both input layouts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { gradcheck } from '../util/gradcheck.js';
import { rand, relDiff, runOrt, toChannelsFirst } from '../util/onnx_ort.js';

type Arr = { data: Float32Array; shape: number[] };

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const arr = (shape: number[], seed: number, lo = -1, hi = 1): Arr => ({ data: rand(size(shape), seed, lo, hi), shape });
const f64 = (a: Arr) => ck.tensor(Float64Array.from(a.data), a.shape, 'float64');
const vals = (t: ck.Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Run a convkit layer on float32 inputs with the given weights (set after building). */
function ckRun(layer: Layer, xs: Arr[], weights: Arr[] = []): Arr {
  return ck.tidy(() => {
    const ins = xs.map((x) => ck.tensor(x.data, x.shape));
    const arg = ins.length === 1 ? ins[0] : ins;
    layer.apply(arg);
    weights.forEach((w, i) => {
      layer.weights[i].value = ck.tensor(w.data, w.shape);
    });
    const y = layer.apply(arg);
    return { data: Float32Array.from(y.dataSync() as ArrayLike<number>), shape: [...y.shape] };
  });
}

/** The same with a tfjs-layers layer (inference call). */
function tfRun(layer: tfl.layers.Layer, xs: Arr[], weights: Arr[] = []): Arr {
  return tf.tidy(() => {
    const ins = xs.map((x) => tf.tensor(x.data, x.shape));
    const arg = ins.length === 1 ? ins[0] : ins;
    layer.apply(arg);
    if (weights.length) layer.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
    const y = layer.apply(arg) as tf.Tensor;
    return { data: Float32Array.from(y.dataSync()), shape: [...y.shape] };
  });
}

/** Same shape and |got - want| <= 1e-5 * max(1, max |want|) (float32 on both sides, short reductions). */
function expectClose(got: Arr, want: Arr, what: string, tol = 1e-5): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  let scale = 1, worst = 0;
  for (let i = 0; i < want.data.length; i++) scale = Math.max(scale, Math.abs(want.data[i]));
  for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
  expect(worst, `${what}: max |convkit - reference|`).toBeLessThanOrEqual(tol * scale);
}

/** A float64 layer built for `inShape` (no batch axis) whose weights are `ws` (gradcheck's inputs). */
function withWeights<T extends Layer>(make: () => T, inShape: number[], ws: ck.Tensor[]): T {
  const l = make();
  l.build(inShape, 'float64');
  ws.forEach((w, i) => {
    l.weights[i].value = w;
  });
  return l;
}

// ---------------------------------------------------------------- SeparableConv2D

describe('SeparableConv2D', () => {
  const cases = [
    { filters: 3, kernelSize: 3, padding: 'same' as const, depthMultiplier: 1 },
    { filters: 4, kernelSize: [3, 2], padding: 'valid' as const, strides: 2, depthMultiplier: 2, activation: 'relu' as const },
    { filters: 2, kernelSize: 3, padding: 'same' as const, dilationRate: 2, depthMultiplier: 3 },
    { filters: 5, kernelSize: 2, padding: 'same' as const, strides: [2, 1], useBias: false },
  ];

  it('weights [KH, KW, C, M], [1, 1, C*M, F], [F]; shapes, params and MACs', () => {
    const l = L.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', strides: 2 });
    const y = l.apply(ck.input([7, 7, 3]));
    expect(y.shape).toEqual([4, 4, 4]);
    expect(l.weights.map((w) => [w.name.split('/')[1], w.shape])).toEqual([['depthwiseKernel', [3, 3, 3, 2]], ['pointwiseKernel', [1, 1, 6, 4]], ['bias', [4]]]);
    expect(l.countParams()).toBe(3 * 3 * 3 * 2 + 6 * 4 + 4);
    expect(l.macs([7, 7, 3])).toBe(4 * 4 * 6 * (9 + 4));
    expect(L.separableConv2d({ filters: 2, kernelSize: 3 }).apply(ck.input([5, 6, 1])).shape).toEqual([3, 4, 2]);
  });

  it('equals DepthwiseConv2D (no bias) followed by a 1x1 Conv2D with the same weights (float64)', () => {
    cases.forEach((c, k) => {
      const x = f64(arr([2, 7, 6, 3], 10 + k));
      const sep = L.separableConv2d({ ...c, dtype: 'float64' });
      const y = sep.apply(x);
      const [dk, pk, b] = sep.weights.map((w) => w.value);
      const dw = L.depthwiseConv2d({ kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, dilationRate: c.dilationRate, depthMultiplier: c.depthMultiplier, useBias: false, dtype: 'float64' });
      dw.apply(x);
      dw.weights[0].value = ck.add(dk, 0);
      const pw = L.conv2d({ filters: c.filters, kernelSize: 1, useBias: c.useBias, activation: c.activation, dtype: 'float64', biasInitializer: 'ones' });
      const mid = dw.apply(x);
      pw.apply(mid);
      pw.weights[0].value = ck.add(pk, 0);
      if (c.useBias !== false) {
        sep.weights[2].value = ck.tensor(rand(c.filters, 3), [c.filters], 'float64');
        pw.weights[1].value = ck.add(sep.weights[2].value, 0);
      }
      const want = vals(pw.apply(mid));
      const got = vals(c.useBias !== false ? sep.apply(x) : y);
      expect(got.length).toBe(want.length);
      got.forEach((v, i) => expect(Math.abs(v - want[i]), `case ${k} element ${i}`).toBeLessThan(1e-12));
      void b;
    });
  });

  it('matches tfjs-layers separableConv2d with the same weights (within 1e-5)', () => {
    cases.forEach((c, k) => {
      const x = arr([2, 7, 6, 3], 20 + k);
      const m = c.depthMultiplier ?? 1;
      const ks = typeof c.kernelSize === 'number' ? [c.kernelSize, c.kernelSize] : c.kernelSize;
      const ws = [arr([...ks, 3, m], 30 + k), arr([1, 1, 3 * m, c.filters], 40 + k), ...(c.useBias === false ? [] : [arr([c.filters], 50 + k)])];
      const got = ckRun(L.separableConv2d(c), [x], ws);
      const want = tfRun(tfl.layers.separableConv2d({ ...c, kernelSize: ks, strides: c.strides as number | [number, number] | undefined }), [x], ws);
      expectClose(got, want, `case ${k} ${JSON.stringify(c)}`);
    });
  });

  it('gradients: input, depthwise and pointwise kernels and bias (finite differences, float64)', () => {
    const c = { filters: 2, kernelSize: 2, strides: 2, padding: 'same' as const, depthMultiplier: 2, activation: 'tanh' as const };
    const make = () => L.separableConv2d({ ...c, dtype: 'float64' });
    const x = f64(arr([1, 3, 4, 2], 61));
    const ws = [f64(arr([2, 2, 2, 2], 62)), f64(arr([1, 1, 4, 2], 63)), f64(arr([2], 64))];
    gradcheck((xx, dk, pk, b) => withWeights(make, [3, 4, 2], [dk, pk, b]).apply(xx), [x, ...ws]);
  });

  it('option errors name the argument, the value and what is expected', () => {
    expect(() => L.separableConv2d({ filters: 0, kernelSize: 3 })).toThrow(/filters must be a positive integer, received 0/);
    expect(() => L.separableConv2d({ filters: 2, kernelSize: 3, depthMultiplier: 0 })).toThrow(/depthMultiplier must be a positive integer, received 0/);
    expect(() => L.separableConv2d({ filters: 2 } as never)).toThrow(/kernelSize is required/);
    expect(() => L.separableConv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported.*expected 'channelsLast'/);
    expect(() => L.separableConv2d({ filters: 2, kernelSize: 5 }).apply(ck.input([3, 3, 1]))).toThrow(/separable_conv2d_\d+ \(SeparableConv2D\)/);
  });
});

// ---------------------------------------------------------------- UpSampling2D

describe('UpSampling2D', () => {
  const img = () => ck.tensor([1, 2, 3, 4], [1, 2, 2, 1]);

  it("'nearest' repeats each pixel sh x sw times", () => {
    const y = L.upSampling2d({ size: [2, 3] }).apply(img());
    expect(y.shape).toEqual([1, 4, 6, 1]);
    expect(vals(y)).toEqual([
      1, 1, 1, 2, 2, 2,
      1, 1, 1, 2, 2, 2,
      3, 3, 3, 4, 4, 4,
      3, 3, 3, 4, 4, 4,
    ]);
    expect(L.upSampling2d().apply(ck.input([3, 5, 2])).shape).toEqual([6, 10, 2]);
  });

  it("'bilinear' reads input coordinate o / s (TF.js: alignCorners false, halfPixelCenters false), edge repeated", () => {
    // x(r, c) = 1 + 2r + c; rows and columns read at 0, 0.5, 1, 1 (clamped).
    const y = L.upSampling2d({ size: 2, interpolation: 'bilinear' }).apply(img());
    expect(vals(y)).toEqual([
      1, 1.5, 2, 2,
      2, 2.5, 3, 3,
      3, 3.5, 4, 4,
      3, 3.5, 4, 4,
    ]);
    // Python Keras 2/3 (half-pixel centres) differ from the second row on: Resizing gives those.
    const half = L.resizing({ height: 4, width: 4, interpolation: 'bilinear', coordinates: 'half_pixel' }).apply(img());
    expect(vals(half).slice(0, 4)).toEqual([1, 1.25, 1.75, 2]);
  });

  it('matches tfjs-layers upSampling2d, nearest and bilinear, several factors (within 1e-5)', () => {
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      for (const s of [[2, 2], [3, 2], [1, 4], [5, 3]] as [number, number][]) {
        const x = arr([2, 3, 4, 3], 70 + s[0] * 7 + s[1]);
        expectClose(ckRun(L.upSampling2d({ size: s, interpolation }), [x]), tfRun(tfl.layers.upSampling2d({ size: s, interpolation }), [x]), `${interpolation} ${s}`);
      }
    }
  });

  it("'nearest' and an integer-factor nearest Resizing run on wasm as broadcast copies (no gather falling back to ts), with the same values", () => {
    const x = arr([2, 5, 4, 3], 91);
    const want = ck.withBackend('ts', () => vals(L.upSampling2d({ size: [2, 3] }).apply(ck.tensor(x.data, x.shape))));
    ck.withBackend('wasm', () => {
      ck.clearFallbacks();
      const t = ck.tensor(x.data, x.shape);
      expect(vals(L.upSampling2d({ size: [2, 3] }).apply(t))).toEqual(want);
      const r = L.resizing({ height: 10, width: 12, interpolation: 'nearest', coordinates: 'half_pixel' }).apply(t);
      expect(vals(r)).toEqual(want);
      expect(ck.getFallbacks().filter((f) => f.from === 'wasm')).toEqual([]);
    });
  });

  it('gradients with respect to the input (finite differences, float64)', () => {
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      const l = L.upSampling2d({ size: [2, 3], interpolation });
      gradcheck((x) => l.apply(x), [f64(arr([1, 3, 2, 2], 81))]);
    }
  });

  it('option errors', () => {
    expect(() => L.upSampling2d({ size: 0 })).toThrow(/size must be a positive integer or \[sh, sw\] of positive integers, received 0/);
    expect(() => L.upSampling2d({ size: [2, 0] })).toThrow(/received \[2,0\]/);
    expect(() => L.upSampling2d({ size: [2] as never })).toThrow(/size must be/);
    expect(() => L.upSampling2d({ interpolation: 'bicubic' as never })).toThrow(/interpolation must be 'nearest' or 'bilinear', received "bicubic"/);
    expect(() => L.upSampling2d({ dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
    expect(() => L.upSampling2d({ dataFormat: 'nchw' as never })).toThrow(/dataFormat must be 'channelsLast', received "nchw"/);
    expect(() => L.upSampling2d().apply(ck.input([4, 3]))).toThrow(/expected input of rank 4/);
  });
});

// ---------------------------------------------------------------- cropping and padding

describe('Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D', () => {
  const x4 = () => ck.tensor(Array.from({ length: 2 * 5 * 6 * 2 }, (_, i) => i), [2, 5, 6, 2]);
  const x3 = () => ck.tensor(Array.from({ length: 2 * 6 * 3 }, (_, i) => i), [2, 6, 3]);

  it("Cropping2D accepts Keras's three forms and equals a slice", () => {
    const forms: [unknown, number[][]][] = [
      [1, [[1, 1], [1, 1]]],
      [[1, 2], [[1, 1], [2, 2]]],
      [[[0, 2], [3, 1]], [[0, 2], [3, 1]]],
    ];
    for (const [cropping, [[t, b], [l, r]]] of forms) {
      const c = L.cropping2d({ cropping: cropping as never });
      expect(c.cropping).toEqual([[t, b], [l, r]]);
      const y = c.apply(x4());
      expect(y.shape).toEqual([2, 5 - t - b, 6 - l - r, 2]);
      expect(vals(y)).toEqual(vals(ck.slice(x4(), [0, t, l, 0], [-1, 5 - t - b, 6 - l - r, -1])));
      expect(c.computeOutputShape([5, 6, 2])).toEqual([5 - t - b, 6 - l - r, 2]);
    }
    expect(vals(L.cropping2d().apply(x4()))).toEqual(vals(x4()));
  });

  it('Cropping1D and ZeroPadding1D: c / [start, end], values and shapes', () => {
    expect(vals(L.cropping1d().apply(x3()))).toEqual(vals(ck.slice(x3(), [0, 1, 0], [-1, 4, -1])));
    expect(vals(L.cropping1d({ cropping: [2, 1] }).apply(x3()))).toEqual(vals(ck.slice(x3(), [0, 2, 0], [-1, 3, -1])));
    expect(L.cropping1d({ cropping: 2 }).apply(ck.input([7, 4])).shape).toEqual([3, 4]);
    const p = L.zeroPadding1d({ padding: [1, 2] }).apply(x3());
    expect(p.shape).toEqual([2, 9, 3]);
    expect(vals(p)).toEqual(vals(ck.pad(x3(), [[0, 0], [1, 2], [0, 0]])));
    expect(L.zeroPadding1d().apply(ck.input([4, 2])).shape).toEqual([6, 2]);
  });

  it("ZeroPadding2D takes Keras's p, [ph, pw] and [[top, bottom], [left, right]]", () => {
    expect(L.zeroPadding2d({ padding: 2 }).padding).toEqual([[2, 2], [2, 2]]);
    expect(L.zeroPadding2d({ padding: [1, 3] }).padding).toEqual([[1, 1], [3, 3]]);
    expect(L.zeroPadding2d({ padding: [[0, 1], [2, 3]] }).padding).toEqual([[0, 1], [2, 3]]);
  });

  it('match tfjs-layers cropping2D and zeroPadding2d in each form', () => {
    const x = arr([2, 5, 6, 3], 90);
    for (const cropping of [1, [1, 2], [[0, 2], [3, 1]]] as const) {
      expectClose(ckRun(L.cropping2d({ cropping: cropping as never }), [x]), tfRun(tfl.layers.cropping2D({ cropping: cropping as never }), [x]), `cropping ${JSON.stringify(cropping)}`);
    }
    for (const padding of [1, [1, 2], [[0, 2], [3, 1]]] as const) {
      expectClose(ckRun(L.zeroPadding2d({ padding: padding as never }), [x]), tfRun(tfl.layers.zeroPadding2d({ padding: padding as never }), [x]), `padding ${JSON.stringify(padding)}`);
    }
  });

  it('gradients (finite differences, float64)', () => {
    const c2 = L.cropping2d({ cropping: [[1, 0], [0, 2]] });
    gradcheck((x) => c2.apply(x), [f64(arr([1, 3, 4, 2], 91))]);
    const c1 = L.cropping1d({ cropping: [0, 2] });
    gradcheck((x) => c1.apply(x), [f64(arr([2, 4, 2], 92))]);
    const p1 = L.zeroPadding1d({ padding: [2, 1] });
    gradcheck((x) => p1.apply(x), [f64(arr([2, 3, 2], 93))]);
  });

  it('errors: cropping that leaves nothing, negative or malformed values', () => {
    expect(() => L.cropping2d({ cropping: [[2, 2], [0, 0]] }).apply(ck.input([4, 4, 1]))).toThrow(/cropping2d_\d+ \(Cropping2D\): cropping \[\[2,2\],\[0,0\]\] removes 4 of the input's 4 rows \(input shape \[N, 4, 4, 1\]\); it must leave at least one/);
    expect(() => L.cropping2d({ cropping: [0, 3] }).apply(ck.ones([1, 8, 5, 1]))).toThrow(/removes 6 of the input's 5 columns/);
    expect(() => L.cropping1d({ cropping: [3, 3] }).apply(ck.input([5, 2]))).toThrow(/cropping \[3, 3\] removes 6 of the input's 5 cells/);
    expect(() => L.cropping2d({ cropping: -1 as never })).toThrow(/cropping must be p, \[ph, pw\] or \[\[top, bottom\], \[left, right\]\] \(non-negative integers\), received -1/);
    expect(() => L.cropping2d({ cropping: [[1, 1], [1]] as never })).toThrow(/received \[\[1,1\],\[1\]\]/);
    expect(() => L.cropping1d({ cropping: 1.5 as never })).toThrow(/cropping must be c or \[start, end\] \(non-negative integers\), received 1.5/);
    expect(() => L.zeroPadding1d({ padding: [1, -1] as never })).toThrow(/padding must be p or \[start, end\] \(non-negative integers\), received \[1,-1\]/);
    expect(() => L.cropping2d({ dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
    expect(() => L.cropping1d().apply(ck.input([4, 4, 1]))).toThrow(/expected input of rank 3/);
  });
});

describe('UpSampling1D / UpSampling3D, Cropping3D, ZeroPadding3D', () => {
  const sig = () => ck.tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]);
  const vol = () => ck.tensor(Array.from({ length: 2 * 3 * 4 * 5 * 2 }, (_, i) => i), [2, 3, 4, 5, 2]);

  it('UpSampling1D repeats each cell; UpSampling3D is nearest UpSampling2D over (H, W) then a repeat over D', () => {
    expect(vals(L.upSampling1d({ size: 2 }).apply(sig()))).toEqual([1, 2, 1, 2, 3, 4, 3, 4, 5, 6, 5, 6]);
    expect(L.upSampling1d().apply(ck.input([5, 3])).shape).toEqual([10, 3]);
    const u = L.upSampling3d({ size: [2, 1, 3] });
    const y = u.apply(vol());
    expect(y.shape).toEqual([2, 6, 4, 15, 2]);
    // oracle: each (n, d) image upsampled by UpSampling2D [1, 3], then each depth slice repeated twice
    const hw = ck.reshape(L.upSampling2d({ size: [1, 3] }).apply(ck.reshape(vol(), [6, 4, 5, 2])), [2, 3, 1, 4 * 15 * 2]);
    expect(vals(y)).toEqual(vals(ck.reshape(ck.concat([hw, hw], 2), [2, 6, 4, 15, 2])));
    expect(L.upSampling3d().apply(ck.input([1, 2, 3, 4])).shape).toEqual([2, 4, 6, 4]);
  });

  it("Cropping3D and ZeroPadding3D take Keras's three forms; values equal slice and pad", () => {
    for (const [v, want] of [
      [1, [[1, 1], [1, 1], [1, 1]]],
      [[0, 1, 2], [[0, 0], [1, 1], [2, 2]]],
      [[[1, 0], [0, 2], [1, 1]], [[1, 0], [0, 2], [1, 1]]],
    ] as [never, number[][]][]) {
      expect(L.cropping3d({ cropping: v }).cropping).toEqual(want);
      expect(L.zeroPadding3d({ padding: v }).padding).toEqual(want);
    }
    const c = L.cropping3d({ cropping: [[1, 0], [0, 2], [1, 1]] });
    expect(vals(c.apply(vol()))).toEqual(vals(ck.slice(vol(), [0, 1, 0, 1, 0], [-1, 2, 2, 3, -1])));
    expect(c.computeOutputShape([3, 4, 5, 2])).toEqual([2, 2, 3, 2]);
    const p = L.zeroPadding3d({ padding: [[0, 1], [2, 0], [1, 1]] });
    expect(vals(p.apply(vol()))).toEqual(vals(ck.pad(vol(), [[0, 0], [0, 1], [2, 0], [1, 1], [0, 0]])));
    expect(L.zeroPadding3d().apply(ck.input([1, 2, 3, 4])).shape).toEqual([3, 4, 5, 4]);
  });

  it('gradients (finite differences, float64)', () => {
    const x3 = f64(arr([2, 3, 2], 95)), x5 = f64(arr([1, 2, 3, 2, 2], 96));
    for (const l of [L.upSampling1d({ size: 3 })]) gradcheck((t) => l.apply(t), [x3]);
    for (const l of [L.upSampling3d({ size: [2, 1, 2] }), L.cropping3d({ cropping: [[1, 0], [0, 1], [0, 0]] }), L.zeroPadding3d({ padding: [1, 0, 2] })]) gradcheck((t) => l.apply(t), [x5]);
  });

  it('errors', () => {
    expect(() => L.upSampling1d({ size: 0 })).toThrow(/size must be a positive integer, received 0/);
    expect(() => L.upSampling3d({ size: [2, 2] as never })).toThrow(/size must be a positive integer or \[sd, sh, sw\] of positive integers, received \[2,2\]/);
    expect(() => L.cropping3d({ cropping: [1, 1] as never })).toThrow(/cropping must be p, \[pd, ph, pw\] or \[\[front, back\], \[top, bottom\], \[left, right\]\] \(non-negative integers\), received \[1,1\]/);
    expect(() => L.cropping3d({ cropping: [0, 2, 0] }).apply(ck.input([3, 4, 5, 1]))).toThrow(/removes 4 of the input's 4 rows \(input shape \[N, 3, 4, 5, 1\]\)/);
    expect(() => L.zeroPadding3d({ padding: -1 as never })).toThrow(/padding must be p, \[pd, ph, pw\]/);
    expect(() => L.upSampling3d({ dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
    expect(() => L.upSampling1d().apply(ck.input([4, 4, 1]))).toThrow(/expected input of rank 3/);
  });
});

// ---------------------------------------------------------------- Rescaling

describe('Rescaling', () => {
  it('x * scale + offset, as tfjs-layers rescaling; gradient; errors', () => {
    const x = arr([2, 3, 4, 2], 100, 0, 255);
    const got = ckRun(L.rescaling({ scale: 1 / 127.5, offset: -1 }), [x]);
    got.data.forEach((v, i) => expect(v).toBeCloseTo(x.data[i] / 127.5 - 1, 5));
    expectClose(got, tfRun(tfl.layers.rescaling({ scale: 1 / 127.5, offset: -1 }), [x]), 'rescaling');
    expect(vals(L.rescaling({ scale: 2 }).apply(ck.tensor([1, -3])))).toEqual([2, -6]);
    const r = L.rescaling({ scale: 0.5, offset: 0.25 });
    gradcheck((t) => r.apply(t), [f64(arr([2, 3], 101))]);
    expect(() => L.rescaling({ scale: '1/255' as never })).toThrow(/scale must be a finite number, received "1\/255"/);
    expect(() => L.rescaling({} as never)).toThrow(/scale must be a finite number, received undefined/);
    expect(() => L.rescaling({ scale: 1, offset: NaN })).toThrow(/offset must be a finite number/);
  });
});

// ---------------------------------------------------------------- pooling

describe('MaxPooling1D, AveragePooling1D, global 1D and 3D pooling', () => {
  const pools = [
    { poolSize: 2 },
    { poolSize: 3, strides: 2, padding: 'same' as const },
    { poolSize: 3, strides: 1, padding: 'same' as const },
    { poolSize: 4, strides: 3, padding: 'same' as const },
    { poolSize: 2, strides: 3, padding: 'valid' as const },
    { poolSize: [5] as [number], strides: [2] as [number], padding: 'same' as const },
  ];

  it('shapes: valid floor((L - k) / s) + 1, same ceil(L / s)', () => {
    expect(L.maxPooling1d().apply(ck.input([9, 4])).shape).toEqual([4, 4]);
    expect(L.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }).apply(ck.input([9, 4])).shape).toEqual([5, 4]);
    expect(L.maxPooling1d({ poolSize: 2, padding: [1, 0] }).apply(ck.input([5, 1])).shape).toEqual([3, 1]);
    expect(L.globalAveragePooling1d().apply(ck.input([9, 4])).shape).toEqual([4]);
    expect(L.globalMaxPooling1d({ keepDims: true }).apply(ck.input([9, 4])).shape).toEqual([1, 4]);
    expect(L.globalAveragePooling3d().apply(ck.input([2, 3, 4, 5])).shape).toEqual([5]);
    expect(L.globalMaxPooling3d({ keepDims: true }).apply(ck.input([2, 3, 4, 5])).shape).toEqual([1, 1, 1, 5]);
  });

  it('values: the max / mean of each window, padding neither winning nor counted', () => {
    const x = ck.tensor([1, -2, 3, 4, -5], [1, 5, 1]);
    expect(vals(L.maxPooling1d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x))).toEqual([1, 4, -5]);
    expect(vals(L.averagePooling1d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x))).toEqual([-0.5, 3.5, -5]);
    const ap = vals(L.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x));
    [-0.5, 2 / 3, 5 / 3, 2 / 3, -0.5].forEach((w, i) => expect(ap[i]).toBeCloseTo(w, 6));
    const v = ck.tensor(Array.from({ length: 2 * 2 * 2 * 3 * 2 }, (_, i) => Math.sin(i)), [2, 2, 2, 3, 2]);
    expect(vals(L.globalAveragePooling3d().apply(v))).toEqual(vals(ck.mean(v, { axes: [1, 2, 3] })));
    expect(vals(L.globalMaxPooling3d().apply(v))).toEqual(vals(ck.max(v, { axes: [1, 2, 3] })));
    expect(vals(L.globalMaxPooling3d({ keepDims: true }).apply(v))).toEqual(vals(ck.max(v, { axes: [1, 2, 3] })));
  });

  it("match tfjs-layers maxPooling1d / averagePooling1d, padding 'same' and 'valid' (within 1e-5)", () => {
    for (const [k, p] of pools.entries()) {
      for (const L0 of [7, 8, 11]) {
        const x = arr([2, L0, 3], 110 + 10 * k + L0);
        expectClose(ckRun(L.maxPooling1d(p), [x]), tfRun(tfl.layers.maxPooling1d(p as never), [x]), `max ${JSON.stringify(p)} L=${L0}`);
        expectClose(ckRun(L.averagePooling1d(p), [x]), tfRun(tfl.layers.averagePooling1d(p as never), [x]), `avg ${JSON.stringify(p)} L=${L0}`);
      }
    }
  });

  it('global 1D pooling matches tfjs-layers globalAveragePooling1d / globalMaxPooling1d', () => {
    const x = arr([3, 7, 4], 130);
    expectClose(ckRun(L.globalAveragePooling1d(), [x]), tfRun(tfl.layers.globalAveragePooling1d({}), [x]), 'gap1d');
    expectClose(ckRun(L.globalMaxPooling1d(), [x]), tfRun(tfl.layers.globalMaxPooling1d({}), [x]), 'gmp1d');
  });

  it('gradients (finite differences, float64; distinct values, so no ties)', () => {
    const x = f64(arr([2, 7, 2], 140));
    for (const p of pools.slice(0, 4)) {
      const mp = L.maxPooling1d(p), ap = L.averagePooling1d(p);
      gradcheck((t) => mp.apply(t), [x]);
      gradcheck((t) => ap.apply(t), [x]);
    }
    const v = f64(arr([1, 2, 3, 2, 2], 141));
    for (const l of [L.globalAveragePooling1d(), L.globalMaxPooling1d({ keepDims: true })]) gradcheck((t) => l.apply(t), [x]);
    for (const l of [L.globalAveragePooling3d({ keepDims: true }), L.globalMaxPooling3d()]) gradcheck((t) => l.apply(t), [v]);
  });

  it('errors', () => {
    expect(() => L.maxPooling1d({ poolSize: 0 })).toThrow(/poolSize/);
    expect(() => L.averagePooling1d({ padding: 'full' as never })).toThrow(/padding must be 'valid', 'same', a non-negative integer or \[before, after\], received "full"/);
    expect(() => L.maxPooling1d().apply(ck.input([4, 4, 1]))).toThrow(/max_pooling1d_\d+ \(MaxPooling1D\): expected input of rank 3 \(N, L, C\)/);
    expect(() => L.maxPooling1d({ poolSize: 5 }).apply(ck.input([3, 1]))).toThrow(/MaxPooling1D/);
    expect(() => L.globalAveragePooling3d().apply(ck.input([4, 4, 1]))).toThrow(/expected input of rank 5 \(N, D, H, W, C\)/);
    expect(() => L.globalMaxPooling1d({ dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
    expect(() => L.maxPooling1d({ dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
  });
});

// ---------------------------------------------------------------- SpatialDropout

describe('SpatialDropout1D / 2D / 3D', () => {
  it('training drops whole channels (scaling the rest by 1/(1-rate)); inference is the identity', () => {
    const cases: [Layer, number[]][] = [
      [L.spatialDropout1d({ rate: 0.5, seed: 3 }), [4, 6, 8]],
      [L.spatialDropout2d({ rate: 0.5, seed: 4 }), [4, 3, 5, 8]],
      [L.spatialDropout3d({ rate: 0.5, seed: 5 }), [4, 2, 3, 2, 8]],
    ];
    for (const [layer, shape] of cases) {
      const x = ck.add(ck.randomUniform(shape, { seed: 1 }), 1); // in [1, 2): no zero of its own
      expect(vals(layer.apply(x))).toEqual(vals(x));
      const y = vals(layer.apply(x, { training: true }));
      const xv = vals(x);
      const n = shape[0], c = shape[shape.length - 1], inner = size(shape.slice(1, -1));
      let dropped = 0;
      for (let b = 0; b < n; b++) {
        for (let ch = 0; ch < c; ch++) {
          const ratios = Array.from({ length: inner }, (_, s) => y[(b * inner + s) * c + ch] / xv[(b * inner + s) * c + ch]);
          const first = ratios[0];
          expect(first === 0 || Math.abs(first - 2) < 1e-6, `${layer.className} ratio ${first}`).toBe(true);
          for (const r of ratios) expect(Math.abs(r - first)).toBeLessThan(1e-6);
          if (first === 0) dropped++;
        }
      }
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThan(n * c);
    }
  });

  it('the same seed gives the same masks; tfjs-layers spatialDropout1d agrees at inference; rate 0 is the identity', () => {
    const x = ck.randomNormal([2, 4, 6], { seed: 2 });
    const a = vals(L.spatialDropout1d({ rate: 0.3, seed: 9 }).apply(x, { training: true }));
    const b = vals(L.spatialDropout1d({ rate: 0.3, seed: 9 }).apply(x, { training: true }));
    expect(a).toEqual(b);
    expect(vals(L.spatialDropout2d(0).apply(ck.ones([1, 2, 2, 3]), { training: true }))).toEqual(new Array(12).fill(1));
    const xa = arr([2, 4, 6], 150);
    expectClose(ckRun(L.spatialDropout1d({ rate: 0.3 }), [xa]), tfRun(tfl.layers.spatialDropout1d({ rate: 0.3 }), [xa]), 'inference');
  });

  it('gradient in training: the (fixed-seed) mask (finite differences, float64)', () => {
    gradcheck((t) => L.spatialDropout2d({ rate: 0.4, seed: 11 }).apply(t, { training: true }), [f64(arr([2, 2, 3, 4], 151))]);
  });

  it('errors name the argument and the value', () => {
    expect(() => L.spatialDropout2d({ rate: -0.1 })).toThrow(/spatial_dropout2d_\d+ \(SpatialDropout2D\): rate must be a number in \[0, 1\), received -0.1/);
    expect(() => L.spatialDropout1d(1)).toThrow(/rate must be a number in \[0, 1\), received 1/);
    expect(() => L.spatialDropout3d({} as never)).toThrow(/received undefined/);
    expect(() => L.spatialDropout2d({ rate: 0.1, dataFormat: 'channelsFirst' })).toThrow(/dataFormat 'channelsFirst' is not supported/);
    expect(() => L.spatialDropout2d(0.1).apply(ck.input([4, 4]))).toThrow(/expected input of rank 4 \(N, H, W, C\)/);
  });
});

// ---------------------------------------------------------------- merges

describe('Subtract, Average, Maximum, Minimum', () => {
  const a = arr([2, 3, 4], 160), b = arr([2, 3, 4], 161), c = arr([2, 3, 4], 162);
  const t = (x: Arr) => ck.tensor(x.data, x.shape);

  it('values against the elementwise ops, with broadcasting', () => {
    expect(vals(L.subtract().apply([t(a), t(b)]))).toEqual(vals(ck.sub(t(a), t(b))));
    expect(vals(L.average().apply([t(a), t(b), t(c)]))).toEqual(vals(ck.div(ck.add(ck.add(t(a), t(b)), t(c)), 3)));
    expect(vals(L.maximum().apply([t(a), t(b), t(c)]))).toEqual(vals(ck.maximum(ck.maximum(t(a), t(b)), t(c))));
    expect(vals(L.minimum().apply([t(a), t(b)]))).toEqual(vals(ck.minimum(t(a), t(b))));
    expect(L.subtract().apply([ck.input([3, 4]), ck.input([1, 4])]).shape).toEqual([3, 4]);
    expect(L.average().apply([ck.input([3, 1]), ck.input([1, 4])]).shape).toEqual([3, 4]);
  });

  it('match tfjs-layers average / maximum / minimum (tfjs-layers 4.22 has no Subtract layer)', () => {
    expect((tfl.layers as Record<string, unknown>).subtract).toBeUndefined();
    expectClose(ckRun(L.average(), [a, b, c]), tfRun(tfl.layers.average({}), [a, b, c]), 'average');
    expectClose(ckRun(L.maximum(), [a, b, c]), tfRun(tfl.layers.maximum({}), [a, b, c]), 'maximum');
    expectClose(ckRun(L.minimum(), [a, b, c]), tfRun(tfl.layers.minimum({}), [a, b, c]), 'minimum');
  });

  it('gradients (finite differences, float64; distinct values, so no ties)', () => {
    const xs = [f64(a), f64(b), f64(c)];
    gradcheck((p, q) => L.subtract().apply([p, q]), xs.slice(0, 2));
    for (const make of [L.average, L.maximum, L.minimum]) gradcheck((p, q, r) => make().apply([p, q, r]), xs);
  });

  it('errors: Subtract takes exactly two inputs; shapes must broadcast; a list is needed', () => {
    expect(() => L.subtract().apply([ck.input([3]), ck.input([3]), ck.input([3])])).toThrow(/subtract_\d+ \(Subtract\): expects exactly 2 inputs \[a, b\] \(it computes a - b\), received 3/);
    expect(() => L.average().apply([ck.input([3, 4]), ck.input([3, 5])])).toThrow(/Average/);
    expect(() => L.maximum().apply(ck.input([3]))).toThrow(/expects a list of inputs/);
    expect(() => L.minimum().apply([ck.input([3])])).toThrow(/at least 2 inputs/);
  });
});

// ---------------------------------------------------------------- property tests against tfjs-layers

describe('drawn geometries against tfjs-layers (fast-check)', () => {
  it('SeparableConv2D: kernel, strides or dilation, padding, channels, depth multiplier, filters', () => {
    fc.assert(
      fc.property(
        fc.record({
          kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }),
          same: fc.boolean(), h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }), c: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 3 }), f: fc.integer({ min: 1, max: 4 }), seed: fc.nat(1000),
        }),
        (g) => {
          const d = g.s > 1 ? 1 : g.d; // TF.js: strides and dilation cannot both exceed 1
          if (!g.same) fc.pre(g.h >= d * (g.kh - 1) + 1 && g.w >= d * (g.kw - 1) + 1);
          const opts = { filters: g.f, kernelSize: [g.kh, g.kw] as [number, number], strides: g.s, dilationRate: d, padding: g.same ? 'same' as const : 'valid' as const, depthMultiplier: g.m };
          const x = arr([2, g.h, g.w, g.c], g.seed);
          const ws = [arr([g.kh, g.kw, g.c, g.m], g.seed + 1), arr([1, 1, g.c * g.m, g.f], g.seed + 2), arr([g.f], g.seed + 3)];
          expectClose(ckRun(L.separableConv2d(opts), [x], ws), tfRun(tfl.layers.separableConv2d(opts), [x], ws), JSON.stringify(g));
        },
      ),
      { numRuns: 40, seed: 1601 },
    );
  });

  it("MaxPooling1D / AveragePooling1D: length 1 to 17, window, stride, 'same' or 'valid'", () => {
    fc.assert(
      fc.property(
        fc.record({ l: fc.integer({ min: 1, max: 17 }), k: fc.integer({ min: 1, max: 5 }), s: fc.integer({ min: 1, max: 4 }), same: fc.boolean(), c: fc.integer({ min: 1, max: 3 }), seed: fc.nat(1000) }),
        (g) => {
          if (!g.same) fc.pre(g.l >= g.k);
          const p = { poolSize: g.k, strides: g.s, padding: g.same ? 'same' as const : 'valid' as const };
          const x = arr([2, g.l, g.c], g.seed);
          expectClose(ckRun(L.maxPooling1d(p), [x]), tfRun(tfl.layers.maxPooling1d(p), [x]), `max ${JSON.stringify(g)}`);
          expectClose(ckRun(L.averagePooling1d(p), [x]), tfRun(tfl.layers.averagePooling1d(p), [x]), `avg ${JSON.stringify(g)}`);
        },
      ),
      { numRuns: 60, seed: 1602 },
    );
  });

  it('UpSampling2D: image 1 to 5 on a side, factors 1 to 4, nearest and bilinear', () => {
    fc.assert(
      fc.property(
        fc.record({ h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }), sh: fc.integer({ min: 1, max: 4 }), sw: fc.integer({ min: 1, max: 4 }), bilinear: fc.boolean(), c: fc.integer({ min: 1, max: 3 }), seed: fc.nat(1000) }),
        (g) => {
          const opts = { size: [g.sh, g.sw] as [number, number], interpolation: g.bilinear ? 'bilinear' as const : 'nearest' as const };
          const x = arr([2, g.h, g.w, g.c], g.seed);
          expectClose(ckRun(L.upSampling2d(opts), [x]), tfRun(tfl.layers.upSampling2d(opts), [x]), JSON.stringify(g));
        },
      ),
      { numRuns: 40, seed: 1603 },
    );
  });
});

// ---------------------------------------------------------------- models: save / load, ONNX

function imageModel(): ck.Model {
  const x = ck.input([6, 5, 3]);
  const a = L.rescaling({ scale: 0.5, offset: -0.1, name: 'resc' }).apply(x);
  const b = L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu', name: 'sep' }).apply(a);
  const c = L.spatialDropout2d({ rate: 0.3, name: 'sdrop2' }).apply(b);
  const d = L.upSampling2d({ size: [2, 1], interpolation: 'bilinear', name: 'up_bil' }).apply(c); // [12, 5, 4]
  const e = L.cropping2d({ cropping: [[1, 2], [0, 1]], name: 'crop2' }).apply(d); // [9, 4, 4]
  const f = L.zeroPadding2d({ padding: [[0, 1], [1, 0]], name: 'zp2' }).apply(e); // [10, 5, 4]
  const g = L.upSampling2d({ size: [1, 2], name: 'up_near' }).apply(f); // [10, 10, 4]
  const g1 = L.separableConv2d({ filters: 4, kernelSize: 2, strides: 1, padding: 'same', name: 'sep2', useBias: false }).apply(g);
  const s = L.subtract({ name: 'sub' }).apply([g, g1]);
  const av = L.average({ name: 'avg' }).apply([g, g1, s]);
  const mx = L.maximum({ name: 'max' }).apply([s, av]);
  const mn = L.minimum({ name: 'min' }).apply([g1, mx]);
  return ck.model({ inputs: x, outputs: mn, name: 'keras_image' });
}

function signalModel(): ck.Model {
  const x = ck.input([10, 3]);
  const a = L.zeroPadding1d({ padding: [1, 2], name: 'zp1' }).apply(x); // [13, 3]
  const b = L.cropping1d({ cropping: [2, 1], name: 'crop1' }).apply(a); // [10, 3]
  const c = L.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp1' }).apply(b); // [5, 3]
  const d = L.spatialDropout1d({ rate: 0.2, name: 'sdrop1' }).apply(c);
  const e = L.averagePooling1d({ poolSize: 2, strides: 1, padding: 'same', name: 'ap1' }).apply(d); // [5, 3]
  const f = L.averagePooling1d({ poolSize: 2, name: 'ap1v' }).apply(L.upSampling1d({ size: 3, name: 'up1' }).apply(e)); // [15, 3] -> [7, 3]
  const g1 = L.globalMaxPooling1d({ name: 'gmp1' }).apply(e);
  const g2 = L.globalAveragePooling1d({ name: 'gap1' }).apply(f);
  const g3 = L.flatten({ name: 'flat' }).apply(L.globalAveragePooling1d({ keepDims: true, name: 'gap1k' }).apply(e));
  return ck.model({ inputs: x, outputs: L.concatenate({ name: 'cat' }).apply([g1, g2, L.subtract({ name: 'sub1' }).apply([g3, g2])]), name: 'keras_signal' });
}

function volumeModel(): ck.Model {
  const x = ck.input([3, 4, 5, 2]);
  const p = L.zeroPadding3d({ padding: [[0, 1], [2, 0], [1, 1]], name: 'zp3' }).apply(x); // [4, 6, 7, 2]
  const u = L.upSampling3d({ size: [2, 1, 3], name: 'up3' }).apply(p); // [8, 6, 21, 2]
  const cr = L.cropping3d({ cropping: [[1, 2], [0, 1], [3, 4]], name: 'crop3' }).apply(u); // [5, 5, 14, 2]
  const a = L.spatialDropout3d({ rate: 0.5, name: 'sdrop3' }).apply(cr);
  const g1 = L.globalAveragePooling3d({ name: 'gap3' }).apply(a);
  const g2 = L.globalMaxPooling3d({ name: 'gmp3' }).apply(a);
  const k = L.globalMaxPooling3d({ keepDims: true, name: 'gmp3k' }).apply(a); // [1, 1, 1, 2]
  const m = L.maximum({ name: 'max3' }).apply([g1, L.rescaling({ scale: -1, name: 'neg' }).apply(g2)]);
  return ck.model({ inputs: x, outputs: L.add({ name: 'sum3' }).apply([m, L.flatten({ name: 'flat3' }).apply(k)]), name: 'keras_volume' });
}

function separableModel(): ck.Model {
  const x = ck.input([9, 8, 3]);
  const a = L.separableConv2d({ filters: 3, kernelSize: [3, 2], strides: 2, padding: 'valid', depthMultiplier: 2, name: 'sep_s2' }).apply(x); // [4, 4, 3]
  const b = L.separableConv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', name: 'sep_d2' }).apply(a);
  const c = L.upSampling2d({ size: [3, 2], interpolation: 'bilinear', name: 'up32' }).apply(b); // [12, 8, 2]
  return ck.model({ inputs: x, outputs: L.cropping2d({ cropping: 1, name: 'crop_1' }).apply(c), name: 'keras_separable' });
}

/** Random, non-degenerate weights (biases included) in every layer. */
function randomise(m: ck.Model): void {
  m.weights.forEach((w, i) => {
    w.value = ck.tensor(rand(size(w.shape), 500 + i, -0.8, 0.8), w.shape);
  });
}

describe('models of the new layers: save/load and ONNX export', () => {
  const makers = [imageModel, signalModel, volumeModel, separableModel];

  it('save to memory and load back: same configs and predictions', async () => {
    for (const make of makers) {
      const m = make();
      randomise(m);
      const shape = [2, ...m.inputs[0].shape];
      const x = ck.tensor(rand(size(shape), 7), shape);
      const h = ck.memoryHandler();
      await m.save(h);
      const back = await ck.loadModel(h);
      expect(back.getConfig()).toEqual(m.getConfig());
      expect(vals(back.predict(x))).toEqual(vals(m.predict(x)));
      // Training calls (dropout active) still run and keep the shape.
      expect(back.apply(x, { training: true }).shape).toEqual([2, ...m.outputs[0].shape]);
    }
  });

  it('a sequential model of them trains with fit (every weight gets a gradient; the loss falls)', async () => {
    const n = 32;
    const x = ck.randomUniform([n, 6, 6, 2], { min: 0, max: 255, seed: 4 });
    const xs = x.dataSync();
    // class: is the first channel brighter on average than the second?
    const y = ck.tensor(Array.from({ length: n }, (_, i) => {
      let d = 0;
      for (let p = 0; p < 36; p++) d += xs[(i * 36 + p) * 2] - xs[(i * 36 + p) * 2 + 1];
      return d > 0 ? 1 : 0;
    }), [n], 'int32');
    const m = ck.sequential([
      L.rescaling({ scale: 1 / 127.5, offset: -1 }),
      L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', depthMultiplier: 2 }),
      L.spatialDropout2d({ rate: 0.1 }),
      L.upSampling2d({ size: 2, interpolation: 'bilinear' }),
      L.cropping2d({ cropping: 1 }),
      L.globalAveragePooling2d(),
      L.dense({ units: 2 }),
    ], { inputShape: [6, 6, 2], seed: 5 });
    m.compile({ optimizer: { name: 'adam', lr: 0.03 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    const before = m.weights.map((w) => vals(w.value));
    const h = await m.fit(x, y, { epochs: 12, batchSize: 8, verbose: 0, seed: 1 });
    const losses = h.history.loss;
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    m.weights.forEach((w, i) => expect(vals(w.value), `${w.name} moved`).not.toEqual(before[i]));
  });

  it('export to ONNX (both input layouts): onnxruntime-web equals predict', async () => {
    for (const make of makers) {
      const m = make();
      randomise(m);
      const shape = [2, ...m.inputs[0].shape];
      const x = { data: rand(size(shape), 8), shape };
      const want = ck.tidy(() => {
        const y = m.predict(ck.tensor(x.data, x.shape));
        return { data: Float32Array.from(y.dataSync() as ArrayLike<number>), shape: [...y.shape] };
      });
      for (const layout of ['NHWC', 'NCHW'] as const) {
        const bytes = ck.encodeOnnx(m, { inputLayout: layout });
        const [got] = await runOrt(bytes, layout === 'NCHW' ? toChannelsFirst(x.data, x.shape) : x);
        const w = layout === 'NCHW' ? toChannelsFirst(want.data, want.shape) : want;
        expect(got.shape, `${m.name} ${layout}`).toEqual(w.shape);
        const { rel, scale } = relDiff(got.data, w.data);
        expect(scale).toBeGreaterThan(0);
        expect(rel, `${m.name} ${layout}: onnxruntime vs convkit`).toBeLessThan(1e-4);
      }
      // and back through convkit's own importer
      const again = ck.loadOnnx(ck.encodeOnnx(m));
      const got = ck.tidy(() => Float32Array.from(again.predict(ck.tensor(x.data, x.shape)).dataSync() as ArrayLike<number>));
      expect(relDiff(got, want.data).rel, `${m.name} re-imported with loadOnnx`).toBeLessThan(1e-4);
    }
  });
});
