/**
 * Every differentiable op runs forward AND backward in float32 as well as float64: the
 * float32 value and gradients (computed on `ts`) agree with the float64 ones within a
 * float32 tolerance scaled by the size of the sums involved, and keep the float32 dtype.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';

const f64 = (shape: number[], seed: number, std = 1) => ck.randomNormal(shape, { seed, std, dtype: 'float64' });
const u64 = (shape: number[], seed: number, min: number, max: number) => ck.randomUniform(shape, { seed, min, max, dtype: 'float64' });
const distinct = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return ck.tensor(new ck.Rng(seed).shuffle(Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1)) as number[], shape, 'float64');
};

type Case = [string, (...xs: Tensor[]) => Tensor, Tensor[]];

const img = () => f64([2, 5, 6, 3], 1);
const labels = ck.tensor([2, 0, 1], [3], 'int32');
const CASES: Case[] = [
  ['conv1d', (x, w, b) => ck.conv1d(x, w, { strides: 2, padding: 'same', bias: b }), [f64([2, 9, 3], 2), f64([3, 3, 4], 3), f64([4], 4)]],
  ['conv2d groups dilation', (x, w) => ck.conv2d(x, w, { padding: [[1, 0], [2, 1]], dilations: [1, 2], groups: 3 }), [img(), f64([2, 3, 1, 6], 5)]],
  ['conv3d', (x, w) => ck.conv3d(x, w, { strides: [1, 2, 1], padding: 'same' }), [f64([1, 3, 4, 4, 2], 6), f64([2, 2, 2, 2, 3], 7)]],
  ['depthwiseConv2d', (x, w) => ck.depthwiseConv2d(x, w, { strides: 2, padding: 'same' }), [img(), f64([3, 3, 3, 2], 8)]],
  ['conv2dTranspose', (x, w) => ck.conv2dTranspose(x, w, { strides: 2, padding: [[1, 0], [0, 1]], outputPadding: 1 }), [img(), f64([3, 3, 2, 3], 9)]],
  ['convolve2d', (x, k) => ck.convolve2d(x, k, { padding: 'same' }), [img(), f64([3, 2, 3, 2], 10)]],
  ['maxPool2d', (x) => ck.maxPool2d(x, { size: 3, strides: 2, padding: 'same' }), [distinct([2, 5, 6, 3], 11)]],
  ['avgPool2d', (x) => ck.avgPool2d(x, { size: 3, strides: 2, padding: 'same', countIncludePad: true }), [img()]],
  ['minPool2d', (x) => ck.minPool2d(x, 2), [distinct([2, 5, 6, 3], 12)]],
  ['maxPool1d / avgPool3d', (x, v) => ck.add(ck.sum(ck.maxPool1d(x, 2)), ck.sum(ck.avgPool3d(v, { size: 2, padding: 'same' }))), [distinct([2, 7, 3], 13), f64([1, 3, 4, 5, 2], 14)]],
  ['global pools', (x) => ck.add(ck.globalAvgPool2d(x), ck.globalMaxPool2d(x)), [distinct([2, 5, 6, 3], 15)]],
  ['matmul', (a, b) => ck.matmul(a, b, { transposeA: true }), [f64([4, 3], 16), f64([4, 5], 17)]],
  ['activations', (x, al) => ck.add(ck.add(ck.add(ck.relu(x), ck.leakyRelu(x, 0.1)), ck.add(ck.elu(x), ck.selu(x))), ck.add(ck.add(ck.gelu(x), ck.gelu(x, { approximate: 'tanh' })), ck.add(ck.add(ck.softplus(x), ck.sigmoid(x)), ck.add(ck.tanh(x), ck.prelu(x, al))))), [f64([3, 4], 18, 2), u64([4], 19, 0.1, 0.3)]],
  ['softmax / logSoftmax', (x) => ck.add(ck.softmax(x, 0), ck.logSoftmax(x)), [f64([3, 5], 20, 3)]],
  ['batchNorm training', (x, g, b) => ck.batchNorm(x, g, b, { training: true }), [img(), f64([3], 21), f64([3], 22)]],
  ['batchNorm inference', (x, g, b, m, v) => ck.batchNorm(x, g, b, { mean: m, variance: v, training: false }), [img(), f64([3], 23), f64([3], 24), f64([3], 25), u64([3], 26, 0.5, 2)]],
  ['layerNorm', (x, g, b) => ck.layerNorm(x, g, b, { axes: [1, 2, 3] }), [img(), f64([5, 6, 3], 27), f64([5, 6, 3], 28)]],
  ['lrn', (x) => ck.lrn(x, { size: 3, alpha: 0.5, beta: 0.75, k: 1 }), [img()]],
  ['dropout', (x) => ck.dropout(x, 0.3, { seed: 5 }), [img()]],
  ['meanSquaredError / BCE / BCE logits', (y, t, p) => ck.add(ck.add(ck.meanSquaredError(y, t), ck.binaryCrossEntropy(p, ck.sigmoid(t))), ck.binaryCrossEntropyWithLogits(y, ck.sigmoid(t))), [f64([3, 4], 29), f64([3, 4], 30), u64([3, 4], 31, 0.05, 0.95)]],
  ['softmaxCrossEntropy sparse and one-hot', (z) => ck.add(ck.softmaxCrossEntropy(z, labels), ck.softmaxCrossEntropy(z, ck.oneHot(labels, 4, z.dtype), { reduction: 'sum' })), [f64([3, 4], 32, 2)]],
  ['tripletLoss', (a, p, n) => ck.tripletLoss(a, p, n, { margin: 2 }), [f64([4, 3], 33), f64([4, 3], 34), f64([4, 3], 35)]],
  ['gram / content / style', (a, b) => ck.add(ck.add(ck.sum(ck.gram(a, { normalize: true })), ck.contentCost(a, b)), ck.styleLayerCost(a, b)), [img(), f64([2, 5, 6, 3], 36)]],
  ['localizationLoss', (p) => ck.localizationLoss(p, ck.tensor([1, 0.2, 0.3, 0.4, 0.5, 0, 1, 0, 0, 0, 0, 0, 0, 1], [2, 7], p.dtype)), [f64([2, 7], 37)]],
  ['penalties', (w) => ck.add(ck.add(ck.l1Penalty(w), ck.l2Penalty(w)), ck.weightEliminationPenalty(w, 0.5)), [ck.add(f64([3, 4], 38), 0.01)]],
  ['elementwise and reductions', (a, b) => ck.add(ck.sum(ck.div(ck.mul(ck.exp(a), ck.sqrt(ck.abs(b))), ck.add(ck.square(b), 1))), ck.add(ck.sum(ck.variance(a, { axes: 1 })), ck.sum(ck.logSumExp(b, { axes: 0 })))), [f64([3, 4], 39), ck.add(f64([3, 4], 40), 3)]],
  ['shape ops', (a) => ck.sum(ck.mul(ck.concat([ck.transpose(a), ck.slice(ck.pad(ck.transpose(a), [[1, 0], [0, 0]]), [0, 0], [2, 3])], 0), ck.arange(0, 18, 1, a.dtype).reshape([6, 3]))), [f64([3, 4], 41)]],
];

describe('float32 forward and backward agree with float64 (ts)', () => {
  for (const [name, f, inputs64] of CASES) {
    it(name, () => {
      // Reduce to a scalar with a fixed cotangent so every output element matters.
      const L = (dtype: 'float32' | 'float64') => (...xs: Tensor[]) => {
        const y = f(...xs);
        expect(y.dtype).toBe(dtype);
        return ck.sum(ck.mul(y, ck.cast(ck.randomNormal(y.shape, { seed: 99, dtype: 'float64' }), dtype)));
      };
      const r64 = ck.valueAndGrad(L('float64'))(...inputs64);
      const r32 = ck.valueAndGrad(L('float32'))(...inputs64.map((t) => ck.cast(t, 'float32')));
      const terms = Math.max(...inputs64.map((t) => t.size));
      const tol = { atol: 2e-5 * Math.sqrt(terms), rtol: 2e-4 * Math.sqrt(terms) };
      expectClose([r32.value.item()], [r64.value.item()], tol);
      r32.grads.forEach((g, i) => {
        expect(g.dtype).toBe('float32');
        expectClose(g, ck.cast(r64.grads[i], 'float32'), tol);
      });
    });
  }
});
