/**
 * Batch norm (training: statistics of x itself, three outputs; inference: given
 * statistics), its training gradient, and local response normalisation with its
 * gradient. Channels are the last axis; K = M, the rows each channel's statistics sum
 * over (LRN: the window size).
 */
import fc from 'fast-check';
import type { CaseInput, CaseTable, KernelCase, SizeContext } from '../harness.js';
import { dim, f32, f32Number, seed, smallDim } from './common.js';

/** x [..., C] with 1-3 leading dims. */
function xShape(ctx: SizeContext) {
  return fc.tuple(fc.array(smallDim(ctx), { minLength: 1, maxLength: 3 }), dim(ctx)).map(([lead, C]) => [...lead, C]);
}

/** Per-channel mean and biased variance of x viewed as [M, C], rounded to float32. */
function stats(x: CaseInput): [CaseInput, CaseInput] {
  const C = x.shape[x.shape.length - 1], M = x.values.length / C;
  const mean = new Float64Array(C), v = new Float64Array(C);
  for (let i = 0; i < x.values.length; i++) mean[i % C] += x.values[i] / M;
  for (let i = 0; i < x.values.length; i++) v[i % C] += (x.values[i] - mean[i % C]) ** 2 / M;
  return [{ values: Float32Array.from(mean), shape: [C] }, { values: Float32Array.from(v), shape: [C] }];
}

/** Values as a ReLU leaves them: the negative ones 0. */
function reluValues(v: Float32Array): Float32Array {
  return v.map((e) => Math.max(e, 0));
}

const lrnAttrs = fc.record({ size: fc.integer({ min: 1, max: 7 }), alpha: f32Number(1e-3, 1), beta: f32Number(0.25, 1), k: f32Number(0.5, 2) });

export const normCases: CaseTable = {
  BatchNorm: {
    cases: (ctx) =>
      fc.tuple(xShape(ctx), fc.boolean(), f32Number(1e-3, 0.1), fc.boolean(), seed).map(([sh, training, epsilon, relu, s]): KernelCase => {
        const C = sh[sh.length - 1], M = sh.reduce((a, b) => a * b, 1) / C;
        // an offset mean per channel makes the centring matter
        const x = f32(sh, s, 1, 4), gamma = f32([C], s + 1, 0.5, 1.5), beta = f32([C], s + 2);
        const given = [f32([C], s + 3, -0.5, 0.5), f32([C], s + 4, 0.1, 2)];
        // relu: the normalised values have both signs (beta in [-1, 1)), so the fused relu clips some
        return { inputs: training ? [x, gamma, beta] : [x, gamma, beta, ...given], attrs: { epsilon, training, relu }, K: training ? M : 1 };
      }),
    tol: 1e-6,
  },
  BatchNormGrad: {
    cases: (ctx) =>
      fc.tuple(xShape(ctx), f32Number(1e-3, 0.1), fc.boolean(), seed).map(([sh, epsilon, relu, s]): KernelCase => {
        const C = sh[sh.length - 1], M = sh.reduce((a, b) => a * b, 1) / C;
        const x = f32(sh, s, 1, 4);
        const inputs = [f32(sh, s + 1), x, f32([C], s + 2, 0.5, 1.5), ...stats(x)];
        // relu: y, a fused forward's output: about half of it exactly 0 (those dy count for nothing)
        if (relu) inputs.push({ values: reluValues(f32(sh, s + 3).values), shape: sh });
        return { inputs, attrs: { epsilon, relu }, K: M };
      }),
    tol: 2e-6,
  },
  LRN: {
    cases: (ctx) => fc.tuple(xShape(ctx), lrnAttrs, seed).map(([sh, attrs, s]) => ({ inputs: [f32(sh, s, -2, 2)], attrs, K: attrs.size })),
    tol: 1e-6,
    webgpuTol: 4e-6,
  },
  LRNGrad: {
    cases: (ctx) => fc.tuple(xShape(ctx), lrnAttrs, seed).map(([sh, attrs, s]) => ({ inputs: [f32(sh, s), f32(sh, s + 1, -2, 2)], attrs, K: attrs.size })),
    tol: 1e-6,
    webgpuTol: 4e-6,
  },
};
