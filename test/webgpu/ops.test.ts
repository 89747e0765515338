/**
 * The public ops on webgpu against the same ops on ts, forward and gradients
 * (valueAndGrad of a random projection of the output), with fast-check drawing
 * convolution and pooling options. This is the op-level counterpart of the shared
 * suite, whose synchronous reads (dataSync) a GPU backend cannot serve: every read
 * here is `await t.data()`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { mismatch, type Tol } from '../util/close.js';
import { openWebGPU, webgpuFallbacks } from './gpu.js';
import { rand } from '../util/rand.mjs';

const gpu = await openWebGPU();
const run = describe.skipIf(!gpu.ok);

interface In {
  shape: number[];
  values: number[];
}
const inp = (shape: number[], seed: number, lo = -1, hi = 1): In => ({ shape, values: Array.from(rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi)) });

/**
 * Evaluate f and its gradients on `backend`: L = sum(f(xs) * c) with a fixed random c,
 * so every output element reaches the gradient.
 */
async function valueAndGrads(backend: string, f: (...xs: Tensor[]) => Tensor, inputs: In[]): Promise<{ y: Float32Array; shape: number[]; grads: Float32Array[] }> {
  await ck.setBackend(backend);
  try {
    const xs = inputs.map((x) => ck.tensor(x.values, x.shape));
    const y = f(...xs);
    const c = ck.tensor(Array.from(rand(y.size, 77)), y.shape);
    const { grads } = ck.valueAndGrad((...a: Tensor[]) => ck.sum(ck.mul(f(...a), c)))(...xs);
    const out = { y: Float32Array.from(await y.data()), shape: [...y.shape], grads: await Promise.all(grads.map(async (g) => Float32Array.from(await g.data()))) };
    expect(y.backend.name).toBe(backend);
    for (const t of [...xs, y, c, ...grads]) t.dispose();
    return out;
  } finally {
    await ck.setBackend('ts');
  }
}

async function compareOp(label: string, f: (...xs: Tensor[]) => Tensor, inputs: In[], tol: Tol = { atol: 1e-4, rtol: 1e-4 }): Promise<void> {
  ck.clearFallbacks();
  const g = await valueAndGrads('webgpu', f, inputs);
  expect(webgpuFallbacks(), `${label} fell back`).toEqual([]);
  const t = await valueAndGrads('ts', f, inputs);
  expect(g.shape, label).toEqual(t.shape);
  const m = mismatch(g.y, t.y, tol);
  if (m) expect.fail(`${label} value: ${m}`);
  g.grads.forEach((gg, i) => {
    const mg = mismatch(gg, t.grads[i], tol);
    if (mg) expect.fail(`${label} gradient ${i}: ${mg}`);
  });
}

run('convolution ops', () => {
  it('conv2d with strides, dilations, padding, groups and bias (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          N: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 3, max: 8 }), W: fc.integer({ min: 3, max: 8 }),
          Cg: fc.integer({ min: 1, max: 3 }), Fg: fc.integer({ min: 1, max: 4 }), groups: fc.constantFrom(1, 2),
          k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }),
          padding: fc.constantFrom<'valid' | 'same' | number>('valid', 'same', 1),
        }),
        fc.integer(),
        async (p, seed) => {
          const C = p.Cg * p.groups, F = p.Fg * p.groups;
          fc.pre((p.k - 1) * p.d + 1 <= Math.min(p.H, p.W));
          await compareOp(
            `conv2d ${JSON.stringify(p)}`,
            (x, w, b) => ck.conv2d(x, w, { strides: p.s, dilations: p.d, padding: p.padding, groups: p.groups, bias: b }),
            [inp([p.N, p.H, p.W, C], seed), inp([p.k, p.k, p.Cg, F], seed + 1), inp([F], seed + 2)],
          );
        },
      ),
      { numRuns: 15 },
    );
  });
  it('conv1d, conv3d, depthwiseConv2d, conv2dTranspose, convolve2d', async () => {
    await compareOp('conv1d', (x, w) => ck.conv1d(x, w, { strides: 2, padding: 'same' }), [inp([2, 11, 3], 1), inp([3, 3, 4], 2)]);
    await compareOp('conv3d', (x, w) => ck.conv3d(x, w, { padding: 1 }), [inp([1, 4, 4, 3, 2], 3), inp([2, 2, 2, 2, 3], 4)]);
    await compareOp('depthwiseConv2d', (x, w) => ck.depthwiseConv2d(x, w, { padding: 'same' }), [inp([2, 6, 6, 3], 5), inp([3, 3, 3, 2], 6)]);
    await compareOp('conv2dTranspose', (x, w) => ck.conv2dTranspose(x, w, { strides: 2, padding: 'same' }), [inp([1, 4, 4, 3], 7), inp([3, 3, 2, 3], 8)]);
    await compareOp('convolve2d', (x, k) => ck.convolve2d(x, k), [inp([1, 6, 6, 1], 9), inp([3, 3, 1, 1], 10)]);
  });
});

run('pooling, activation, normalisation and loss ops', () => {
  it('max, avg, min and global pools (1D, 2D, 3D)', async () => {
    // Values spaced apart: no ties, so the max-pool gradient is unambiguous on both sides.
    const spaced = (shape: number[], seed: number): In => {
      const n = shape.reduce((a, b) => a * b, 1);
      const order = Array.from(rand(n, seed)).map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
      const values = new Array<number>(n);
      order.forEach(([, i], r) => (values[i] = r / n - 0.5));
      return { shape, values };
    };
    const x = spaced([2, 7, 6, 3], 11);
    await compareOp('maxPool2d', (t) => ck.maxPool2d(t, { size: 3, strides: 2, padding: 'same' }), [x]);
    await compareOp('avgPool2d', (t) => ck.avgPool2d(t, { size: 2, padding: 'same', countIncludePad: false }), [x]);
    await compareOp('minPool2d', (t) => ck.minPool2d(t, { size: 2 }), [x]);
    await compareOp('globalAvgPool2d', (t) => ck.globalAvgPool2d(t), [x]);
    await compareOp('globalMaxPool2d', (t) => ck.globalMaxPool2d(t), [x]);
    await compareOp('maxPool1d', (t) => ck.maxPool1d(t, { size: 2 }), [spaced([2, 9, 3], 12)]);
    await compareOp('avgPool3d', (t) => ck.avgPool3d(t, { size: 2 }), [spaced([1, 4, 4, 4, 2], 13)]);
  });
  it('activations, softmax family, layer norm, batch norm, lrn', async () => {
    const x = inp([3, 4, 5], 14, -3, 3);
    for (const [name, f] of [
      ['relu', ck.relu], ['sigmoid', ck.sigmoid], ['tanh', ck.tanh], ['elu', (t: Tensor) => ck.elu(t, 0.7)], ['selu', ck.selu],
      ['gelu', (t: Tensor) => ck.gelu(t)], ['softplus', ck.softplus], ['leakyRelu', (t: Tensor) => ck.leakyRelu(t, 0.1)],
      ['softmax', (t: Tensor) => ck.softmax(t, 1)], ['logSoftmax', (t: Tensor) => ck.logSoftmax(t)],
      ['layerNorm', (t: Tensor) => ck.layerNorm(t)], ['lrn', (t: Tensor) => ck.lrn(t, { size: 3 })],
      ['batchNorm', (t: Tensor) => ck.batchNorm(t, null, null, { training: true })],
    ] as [string, (t: Tensor) => Tensor][]) {
      await compareOp(name, f, [x], { atol: 2e-4, rtol: 2e-4 });
    }
    await compareOp('prelu', (t, a) => ck.prelu(t, a), [x, inp([5], 15, 0, 0.5)]);
  });
  it('losses: MSE, binary cross-entropy (probabilities and logits), softmax cross-entropy with int32 labels', async () => {
    const p = inp([4, 6], 16, 0.05, 0.95), t = inp([4, 6], 17, 0, 1);
    await compareOp('meanSquaredError', (a, b) => ck.meanSquaredError(a, b), [p, t]);
    await compareOp('binaryCrossEntropy', (a, b) => ck.binaryCrossEntropy(a, b), [p, t]);
    await compareOp('binaryCrossEntropyWithLogits', (a, b) => ck.binaryCrossEntropyWithLogits(a, b), [inp([4, 6], 18, -4, 4), t]);
    const labels = () => ck.tensor([2, 0, 5, 1], [4], 'int32');
    await compareOp('softmaxCrossEntropy', (z) => ck.softmaxCrossEntropy(z, labels()), [inp([4, 6], 19, -3, 3)]);
  });
});
