/**
 * Fused optimiser updates (one call per parameter tensor): every hyper-parameter branch
 * (momentum, nesterov, weight decay, decoupled, amsgrad, centered) and first and later
 * steps. Outputs are [param, state...] of the parameter's shape. Elementwise maths with
 * a division and a square root: a few ulp of terms of size 1 (states are drawn where an
 * optimiser keeps them: averages of squares away from 0).
 */
import fc from 'fast-check';
import type { CaseTable, KernelCase } from '../harness.js';
import { f32, f32Number, sameShape, seed, shape } from './common.js';

const lr = f32Number(1e-3, 0.5);
const wd = fc.constantFrom(0, 0.01, 0.1);
const step = fc.integer({ min: 1, max: 5 });
const TOL = 2e-6;

export const optimCases: CaseTable = {
  SGDUpdate: {
    cases: (ctx) =>
      fc.tuple(shape(ctx, 3), seed, fc.record({ lr, momentum: fc.constantFrom(0, 0.9), dampening: fc.constantFrom(0, 0.1), weightDecay: wd, nesterov: fc.boolean(), step })).map(
        ([sh, s, a]): KernelCase => ({ inputs: [f32(sh, s), f32(sh, s + 1), ...(a.momentum ? [f32(sh, s + 2)] : [])], attrs: { ...a, nesterov: a.momentum ? a.nesterov : false } }),
      ),
    tol: TOL,
  },
  AdamUpdate: {
    cases: (ctx) =>
      fc
        .tuple(shape(ctx, 3), seed, fc.record({ lr, beta1: fc.constantFrom(0.9, 0.5), beta2: fc.constantFrom(0.999, 0.9), eps: fc.constantFrom(1e-8, 1e-3), weightDecay: wd, decoupled: fc.boolean(), amsgrad: fc.boolean(), step }))
        .map(([sh, s, a]): KernelCase => ({
          // second moments are running means of squared gradients: sqrt(v) is of the order of |m|,
          // so the step m / sqrt(v) stays O(1) (a v near 0 under a large m is no state Adam reaches)
          inputs: [f32(sh, s), f32(sh, s + 1), f32(sh, s + 2, -0.1, 0.1), f32(sh, s + 3, 0.01, 0.11), ...(a.amsgrad ? [f32(sh, s + 4, 0.01, 0.11)] : [])],
          attrs: a,
        })),
    tol: TOL,
    webgpuTol: 1e-5,
  },
  RMSpropUpdate: {
    cases: (ctx) =>
      fc.tuple(shape(ctx, 3), seed, fc.record({ lr, alpha: fc.constantFrom(0.99, 0.9), eps: fc.constantFrom(1e-8, 1e-3), weightDecay: wd, momentum: fc.constantFrom(0, 0.9), centered: fc.boolean() })).map(
        ([sh, s, a]): KernelCase => ({
          // sq large enough that sq' - gavg'^2 stays positive when centered
          inputs: [f32(sh, s), f32(sh, s + 1), f32(sh, s + 2, 0.5, 1), ...(a.centered ? [f32(sh, s + 3, -0.1, 0.1)] : []), ...(a.momentum ? [f32(sh, s + 4)] : [])],
          attrs: a,
        }),
      ),
    tol: TOL,
    webgpuTol: 1e-5,
  },
  AdaGradUpdate: {
    cases: (ctx) =>
      sameShape(ctx, (sh, s) => [f32(sh, s), f32(sh, s + 1), f32(sh, s + 2, 0.05, 1)], fc.record({ lr, lrDecay: fc.constantFrom(0, 0.01), eps: fc.constantFrom(1e-10, 1e-3), weightDecay: wd, step }), 3),
    tol: TOL,
    webgpuTol: 1e-5,
  },
  AdaDeltaUpdate: {
    cases: (ctx) =>
      sameShape(ctx, (sh, s) => [f32(sh, s), f32(sh, s + 1), f32(sh, s + 2, 0.05, 1), f32(sh, s + 3, 0.05, 1)], fc.record({ lr, rho: fc.constantFrom(0.9, 0.5), eps: fc.constantFrom(1e-6, 1e-3), weightDecay: wd }), 3),
    tol: TOL,
    webgpuTol: 1e-5,
  },
};
