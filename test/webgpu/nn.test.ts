/**
 * webgpu GEMM, convolution, pooling, activation, normalisation, loss and optimiser
 * kernels against the float64 reference (test/kernels/harness.ts): the 64/128 tile
 * edges and split-K of the GEMM, each convolution algorithm, tied max-pool windows,
 * special values, and fixed cases of every kernel family (random draws of every kernel
 * are in the conformance suite, test/kernels). float32 tolerance scales with the
 * reduction length K (tolForK): rounding error of a K-term dot product grows like sqrt(K).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeConv2DInfo, computeConv3DInfo, computePool2DInfo } from '../../src/kernels/conv_info.js';
import { gemmVariants } from '../../src/backends/webgpu/kernels/gemm.js';
import * as ck from '../../src/index.js';
import { tolForK } from '../util/close.js';
import { expectKernel, type CaseInput } from '../kernels/harness.js';
import { f32, ints as i32 } from '../kernels/cases/common.js';
import { openWebGPU } from '../util/webgpu.js';
import { rand } from '../util/rand.mjs';
import { mismatch, type Tol } from '../util/close.js';

/** Kernel on webgpu vs the float64 reference (test/kernels/harness.ts); tol defaults to atol 1e-5, rtol 1e-4 (close.ts). */
const checkGpu = (name: string, inputs: CaseInput[], attrs: Record<string, unknown> = {}, tol: Tol = {}) => expectKernel('webgpu', name, inputs, attrs, tol);

const gpu = await openWebGPU();
const run = describe.skipIf(!gpu.ok);

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

run('MatMul (tiled GEMM)', () => {
  it('sizes at the tile edges (63, 64, 65, 127, 128, 129)', async () => {
    for (const [M, N, K] of [[63, 65, 17], [64, 64, 16], [65, 127, 15], [129, 128, 33]]) {
      await checkGpu('MatMul', [f32([M, K], M), f32([K, N], N)], {}, tolForK(K));
    }
  });
  it('the 128 x 128 tile (8 x 8 per thread), chosen when there are at least 128 such tiles', async () => {
    // 13 x 12 tiles of 128, ragged edges on both sides.
    await checkGpu('MatMul', [f32([1540, 9], 1), f32([9, 1490], 2)], {}, tolForK(9));
    expect(gemmVariants()).toEqual(expect.arrayContaining(['matmul:NN:t128:false']));
  });
  it('split K: a small output with a long reduction', async () => {
    await checkGpu('MatMul', [f32([9, 2100], 5), f32([2100, 7], 6)], {}, tolForK(2100));
    await checkGpu('MatMul', [f32([2100, 9], 7), f32([2100, 7], 8)], { transposeA: true }, tolForK(2100));
    expect(gemmVariants()).toEqual(expect.arrayContaining(['matmul:NN:t64:true', 'matmul:TN:t64:true']));
  });
});

interface ConvCase {
  N: number; H: number; W: number; Cg: number; Fg: number; groups: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pads: [number, number][];
}
const convArb: fc.Arbitrary<ConvCase> = fc.record({
  N: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }),
  Cg: fc.integer({ min: 1, max: 5 }), Fg: fc.integer({ min: 1, max: 6 }), groups: fc.constantFrom(1, 1, 2, 3),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
  dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
  pads: fc.tuple(fc.tuple(fc.nat(2), fc.nat(2)), fc.tuple(fc.nat(2), fc.nat(2))),
});

/** Run webgpu variant `variant` of kernel `name` and ts on the same inputs; compare the outputs. */
async function compareVariant(name: string, variant: string, inputs: CaseInput[], attrs: Record<string, unknown>, tol: Tol): Promise<void> {
  const tsIn = inputs.map((x) => ck.withBackend('ts', () => ck.tensor(Array.from(x.values), x.shape)));
  const gpuIn = inputs.map((x) => ck.withBackend('webgpu', () => ck.tensor(Array.from(x.values), x.shape)));
  const outs: ck.Tensor[] = [];
  try {
    const want = ck.withBackend('ts', () => ck.runKernel(name, tsIn, attrs)[0]);
    outs.push(want);
    const got = ck.runKernelVariant('webgpu', name, variant, gpuIn, attrs)[0];
    outs.push(got);
    expect(got.backend.name).toBe('webgpu');
    expect(got.shape, `${name} (${variant}) shape`).toEqual(want.shape);
    const m = mismatch(await got.data(), want.dataSync(), tol);
    if (m) expect.fail(`${name} (${variant}) ${JSON.stringify(attrs)} inputs ${inputs.map((x) => `[${x.shape}]`).join(' ')}: ${m}`);
  } finally {
    for (const t of [...tsIn, ...gpuIn, ...outs]) t.dispose();
  }
}

function convInfo(c: ConvCase) {
  const C = c.Cg * c.groups, F = c.Fg * c.groups;
  try {
    const info = computeConv2DInfo('conv2d', [c.N, c.H, c.W, C], [c.kh, c.kw, c.Cg, F], {
      strides: [c.sh, c.sw], dilations: [c.dh, c.dw], padding: c.pads, groups: c.groups,
    });
    return { info, C, F };
  } catch {
    return null; // the kernel does not fit the padded input: the op rejects it
  }
}

run('convolution (implicit GEMM and direct)', () => {
  for (const algo of ['gemm', 'direct'] as const) {
    it(`Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter with the ${algo} kernels (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(convArb, fc.integer(), async (c, seed) => {
          const g = convInfo(c);
          fc.pre(g !== null);
          const { info, C, F } = g!;
          const x = f32([c.N, c.H, c.W, C], seed);
          const w = f32([c.kh, c.kw, c.Cg, F], seed + 1);
          const dy = f32([c.N, info.outH, info.outW, F], seed + 2);
          await compareVariant('Conv2D', algo, [x, w], { conv: info }, tolForK(c.kh * c.kw * c.Cg));
          await compareVariant('Conv2DBackpropInput', algo, [dy, w], { conv: info }, tolForK(c.kh * c.kw * c.Fg));
          await compareVariant('Conv2DBackpropFilter', algo, [x, dy], { conv: info }, tolForK(c.N * info.outH * info.outW));
        }),
        { numRuns: 25 },
      );
    });
  }
  it('a LeNet-sized layer, a depthwise layer and a long filter-gradient reduction (split K)', async () => {
    const cases: [number[], number[], object][] = [
      [[4, 14, 14, 6], [5, 5, 6, 16], {}],
      [[2, 12, 12, 8], [3, 3, 1, 8], { groups: 8, padding: 'same' }],
      [[8, 24, 24, 3], [3, 3, 3, 4], { padding: 1 }],
    ];
    for (const [xs, ws, opts] of cases) {
      const info = computeConv2DInfo('conv2d', xs, ws, opts);
      const dys = [info.batch, info.outH, info.outW, info.outC];
      await checkGpu('Conv2D', [f32(xs, 1), f32(ws, 2)], { conv: info }, tolForK(ws[0] * ws[1] * ws[2]));
      await checkGpu('Conv2DBackpropInput', [f32(dys, 3), f32(ws, 2)], { conv: info }, tolForK(ws[0] * ws[1] * ws[3]));
      await checkGpu('Conv2DBackpropFilter', [f32(xs, 1), f32(dys, 3)], { conv: info }, tolForK(prod(dys) / info.outC));
    }
  });
  it('Conv3D and its gradients', async () => {
    for (const algo of ['gemm', 'direct'] as const) {
      const xs = [2, 4, 5, 3, 2], ws = [2, 3, 2, 2, 3];
      const info = computeConv3DInfo('conv3d', xs, ws, { strides: [1, 2, 1], padding: [[1, 0], [1, 1], [0, 1]], dilations: [1, 1, 2] });
      const dys = [2, info.outD, info.outH, info.outW, 3];
      await compareVariant('Conv3D', algo, [f32(xs, 1), f32(ws, 2)], { conv: info }, tolForK(24));
      await compareVariant('Conv3DBackpropInput', algo, [f32(dys, 3), f32(ws, 2)], { conv: info }, tolForK(36));
      await compareVariant('Conv3DBackpropFilter', algo, [f32(xs, 1), f32(dys, 3)], { conv: info }, tolForK(prod(dys)));
    }
    // the choice: the GEMM where the per-group output width fills its tile
    const wide = computeConv2DInfo('conv2d', [1, 6, 6, 32], [3, 3, 32, 32], { padding: 'same' });
    const narrow = computeConv2DInfo('conv2d', [1, 6, 6, 3], [3, 3, 3, 6], { padding: 'same' });
    expect(ck.kernelVariants('webgpu', 'Conv2D')).toEqual(['gemm', 'direct']);
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) {
      expect(ck.chooseKernelVariant('webgpu', k, [], { conv: wide }), k).toBe('gemm');
      expect(ck.chooseKernelVariant('webgpu', k, [], { conv: narrow }), k).toBe('direct');
    }
  });
});

run('pooling', () => {
  it('MaxPool2D, AvgPool2D and their gradients (property, ties included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          N: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 8 }), W: fc.integer({ min: 1, max: 8 }), C: fc.integer({ min: 1, max: 3 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), padding: fc.constantFrom<'valid' | 'same'>('valid', 'same'),
          countIncludePad: fc.boolean(),
        }),
        fc.integer(),
        async (p, seed) => {
          let info;
          try {
            info = computePool2DInfo('pool', [p.N, p.H, p.W, p.C], { size: p.k, strides: p.s, dilations: p.d, padding: p.padding });
          } catch {
            fc.pre(false);
            return;
          }
          const xs = [p.N, p.H, p.W, p.C];
          // Coarse values: windows often hold tied maxima (the first one must win).
          const x = { values: Array.from(rand(prod(xs), seed), (v) => Math.round(v * 3)), shape: xs };
          const dy = f32([p.N, info.outH, info.outW, p.C], seed + 1);
          await checkGpu('MaxPool2D', [x], { pool: info });
          await checkGpu('MaxPool2DGrad', [dy, x], { pool: info }, { atol: 1e-5 });
          await checkGpu('AvgPool2D', [x], { pool: info, countIncludePad: p.countIncludePad }, { atol: 1e-5 });
          await checkGpu('AvgPool2DGrad', [dy], { pool: info, countIncludePad: p.countIncludePad }, { atol: 1e-5 });
        },
      ),
      { numRuns: 10 }, // random geometries without ties: the conformance suite
    );
  });
  it('NaN wins a max-pool window and takes its gradient', async () => {
    const info = computePool2DInfo('pool', [1, 2, 2, 1], { size: 2 });
    const x = { values: [1, NaN, 5, NaN], shape: [1, 2, 2, 1] };
    await checkGpu('MaxPool2D', [x], { pool: info });
    await checkGpu('MaxPool2DGrad', [{ values: [3], shape: [1, 1, 1, 1] }, x], { pool: info });
  });
});

run('activations, softmax, losses, normalisation, boxes', () => {
  const x = { values: [...Array.from(rand(60, 3, -6, 6)), 0, -0, 1e-6, -1e-6, 30, -30, -100, NaN], shape: [4, 17] };
  const dy = f32([4, 17], 9);
  it('elementwise activations and their gradients', async () => {
    const tol = { atol: 3e-6, rtol: 3e-6 };
    for (const [fwd, grad, attrs, saved] of [
      ['Relu', 'ReluGrad', {}, 'x'], ['LeakyRelu', 'LeakyReluGrad', { alpha: 0.1 }, 'x'], ['Elu', 'EluGrad', { alpha: 1.3 }, 'x'],
      ['Sigmoid', 'SigmoidGrad', {}, 'y'], ['Tanh', 'TanhGrad', {}, 'y'], ['Gelu', 'GeluGrad', { approximate: 'none' }, 'x'],
      ['Gelu', 'GeluGrad', { approximate: 'tanh' }, 'x'], ['Step', null, {}, 'x'],
    ] as [string, string | null, Record<string, unknown>, string][]) {
      await checkGpu(fwd, [x], attrs, tol);
      if (!grad) continue;
      const s = saved === 'x' ? x : { values: Array.from(rand(68, 4, 0.01, 0.99)), shape: [4, 17] };
      await checkGpu(grad, [dy, s], attrs, tol);
    }
  });
  it('softmax and log-softmax along any axis, with their gradients', async () => {
    const v = f32([3, 4, 5], 2, -4, 4);
    for (const axis of [0, 1, 2]) {
      await checkGpu('Softmax', [v], { axis }, { atol: 1e-6, rtol: 1e-5 });
      await checkGpu('LogSoftmax', [v], { axis }, { atol: 1e-5, rtol: 1e-5 });
      await checkGpu('SoftmaxGrad', [f32([3, 4, 5], 3), { values: rand(60, 4, 0, 1), shape: [3, 4, 5] }], { axis }, { atol: 1e-6, rtol: 1e-5 });
      await checkGpu('LogSoftmaxGrad', [f32([3, 4, 5], 5), f32([3, 4, 5], 6, -3, -0.1)], { axis }, { atol: 1e-5, rtol: 1e-5 });
    }
    await checkGpu('Softmax', [{ values: [1, NaN, 2, 0, 1, 2], shape: [2, 3] }], { axis: 1 });
  });
  it('softmax cross-entropy (one-hot and soft labels) and its gradient', async () => {
    const logits = f32([6, 10], 7, -5, 5);
    const oneHot = { values: Array.from({ length: 60 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0)), shape: [6, 10] };
    const soft = { values: Array.from(rand(60, 8, 0, 0.2)), shape: [6, 10] };
    for (const t of [oneHot, soft]) {
      await checkGpu('SoftmaxCrossEntropy', [logits, t], {}, { atol: 1e-5, rtol: 1e-5 });
      await checkGpu('SoftmaxCrossEntropyGrad', [f32([6], 9), logits, t], {}, { atol: 1e-6, rtol: 1e-5 });
    }
  });
  it('batch norm (training and inference), its gradient, and LRN', async () => {
    const xs = [3, 5, 4, 6];
    const xb = f32(xs, 11, -2, 3);
    const gamma = f32([6], 12, 0.5, 1.5), beta = f32([6], 13);
    await checkGpu('BatchNorm', [xb, gamma, beta], { epsilon: 1e-5, training: true }, { atol: 1e-5, rtol: 1e-4 });
    const mean = f32([6], 14), variance = f32([6], 15, 0.5, 2);
    await checkGpu('BatchNorm', [xb, gamma, beta, mean, variance], { epsilon: 1e-3, training: false }, { atol: 1e-5, rtol: 1e-5 });
    await checkGpu('BatchNormGrad', [f32(xs, 16), xb, gamma, mean, variance], { epsilon: 1e-5 }, { atol: 1e-4, rtol: 1e-4 });
    // Per-channel statistics over many rows take the workgroup reduction.
    await checkGpu('BatchNorm', [f32([700, 3], 17), f32([3], 18), f32([3], 19)], { epsilon: 1e-5, training: true }, { atol: 1e-4, rtol: 1e-4 });
    const lrn = { size: 5, alpha: 1e-2, beta: 0.75, k: 2 };
    await checkGpu('LRN', [f32([2, 3, 3, 7], 20, -3, 3)], lrn, { atol: 1e-6, rtol: 1e-5 });
    await checkGpu('LRNGrad', [f32([2, 3, 3, 7], 21), f32([2, 3, 3, 7], 20, -3, 3)], { ...lrn, size: 4 }, { atol: 1e-6, rtol: 1e-5 });
  });
  it('IoU of corner boxes in either corner order', async () => {
    const a = { values: [0, 0, 2, 2, 3, 3, 1, 1, 0, 0, 0, 0], shape: [3, 4] };
    const b = { values: [1, 1, 3, 3, 0, 0, 2, 2], shape: [2, 4] };
    await checkGpu('IoU', [a, b], {}, { atol: 1e-7 });
  });
  it('OneHot of int32 labels feeds the loss', async () => {
    await checkGpu('OneHot', [i32([3, 0, 9, 4])], { depth: 10, dtype: 'float32' });
  });
});

run('fused optimiser updates', () => {
  const n = [5, 7];
  const p = f32(n, 1), g = f32(n, 2), s1 = f32(n, 3, 0, 1), s2 = f32(n, 4, 0, 1), s3 = f32(n, 5, 0, 1);
  const tol = { atol: 1e-6, rtol: 1e-5 };
  it('SGD (plain, momentum, Nesterov, first step)', async () => {
    await checkGpu('SGDUpdate', [p, g], { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: false, step: 3 }, tol);
    for (const [nesterov, step] of [[false, 1], [false, 4], [true, 4]] as [boolean, number][]) {
      await checkGpu('SGDUpdate', [p, g, s1], { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov, step }, tol);
    }
  });
  it('Adam, AdamW and AMSGrad', async () => {
    const base = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
    await checkGpu('AdamUpdate', [p, g, s1, s2], { ...base, decoupled: false, amsgrad: false }, tol);
    await checkGpu('AdamUpdate', [p, g, s1, s2], { ...base, decoupled: true, amsgrad: false }, tol);
    await checkGpu('AdamUpdate', [p, g, s1, s2, s3], { ...base, decoupled: true, amsgrad: true }, tol);
  });
  it('RMSprop (centered with momentum: 9 tensors, still within 8 bindings), AdaGrad, AdaDelta', async () => {
    for (const [centered, momentum] of [[false, 0], [true, 0], [false, 0.9], [true, 0.9]] as [boolean, number][]) {
      const states = [s1, ...(centered ? [{ values: Array.from(rand(35, 6, 0, 0.3)), shape: n }] : []), ...(momentum ? [s3] : [])];
      await checkGpu('RMSpropUpdate', [p, g, ...states], { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0.01, momentum, centered }, tol);
    }
    await checkGpu('AdaGradUpdate', [p, g, s1], { lr: 0.1, lrDecay: 0.01, eps: 1e-10, weightDecay: 0.01, step: 5 }, tol);
    await checkGpu('AdaDeltaUpdate', [p, g, s1, s2], { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0.01 }, tol);
  });
  it('inputs are never written: parameter and state keep their values', async () => {
    const make = (x: { values: ArrayLike<number>; shape: number[] }) => ck.withBackend('webgpu', () => ck.tensor(Array.from(x.values), x.shape));
    const ins = [p, g, s1, s2].map(make);
    const before = await Promise.all(ins.map((t) => t.data()));
    const outs = ck.withBackend('webgpu', () => ck.runKernel('AdamUpdate', ins, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, decoupled: false, amsgrad: false }));
    const after = await Promise.all(ins.map((t) => t.data()));
    expect(after).toEqual(before);
    expect(Array.from(await outs[0].data())).not.toEqual(Array.from(before[0]));
    for (const t of [...ins, ...outs]) t.dispose();
  });
});
