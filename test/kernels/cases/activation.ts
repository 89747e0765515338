/**
 * Activations and their gradients, softmax and log-softmax along any axis. Inputs of
 * piecewise kernels stay away from their kink at 0 (relu, leaky relu, elu, step), so a
 * rounding cannot change the branch. Gradient kernels take dy first, then the saved x
 * or y (y drawn in the forward's range). Transcendental maps: a few ulp, more on webgpu
 * (WGSL's exp/tanh builtins). Softmax rows: K = the row length.
 */
import fc from 'fast-check';
import type { CaseTable, KernelCase, KernelSpec, SizeContext } from '../harness.js';
import { awayFrom, f32, f32Number, sameShape, seed, shape } from './common.js';

const ULP4 = 5e-7;
const alpha = fc.record({ alpha: f32Number(0.05, 2) });

/** Forward kernel on x away from `kinks`. */
const fwd = (tol: number, webgpuTol?: number, attrs?: fc.Arbitrary<Record<string, unknown>>, kinks: number[] = [0], lo = -4, hi = 4): KernelSpec => ({
  cases: (ctx) => sameShape(ctx, (sh, s) => [awayFrom(sh, s, kinks, 1e-3, lo, hi)], attrs),
  tol,
  webgpuTol,
});
/** Gradient kernel: [dy, saved], saved drawn by `saved`. */
const grad = (saved: (sh: number[], s: number) => ReturnType<typeof f32>, tol: number, webgpuTol?: number, attrs?: fc.Arbitrary<Record<string, unknown>>): KernelSpec => ({
  cases: (ctx) => sameShape(ctx, (sh, s) => [f32(sh, s), saved(sh, s + 1)], attrs),
  tol,
  webgpuTol,
});

/** x with the softmax axis: rank 1..4, axis in range, K = the axis length. */
function softmaxCases(make: (sh: number[], s: number) => ReturnType<typeof f32>[]) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> =>
    shape(ctx, 4)
      .chain((sh) => fc.tuple(fc.constant(sh), fc.integer({ min: 0, max: sh.length - 1 }), seed))
      .map(([sh, axis, s]) => ({ inputs: make(sh, s), attrs: { axis }, K: sh[axis] }));
}

export const activationCases: CaseTable = {
  Relu: fwd(0),
  ReluGrad: grad((sh, s) => awayFrom(sh, s, [0]), 0),
  LeakyRelu: fwd(2 ** -24, undefined, alpha),
  LeakyReluGrad: grad((sh, s) => awayFrom(sh, s, [0]), 2 ** -24, undefined, alpha),
  Elu: fwd(ULP4, 2e-6, alpha, [0], -20, 20),
  EluGrad: grad((sh, s) => awayFrom(sh, s, [0], 1e-3, -8, 8), ULP4, 2e-6, alpha),
  Sigmoid: fwd(ULP4, 2e-6, undefined, [], -30, 30),
  SigmoidGrad: grad((sh, s) => f32(sh, s, 0.01, 0.99), ULP4),
  Tanh: fwd(ULP4, 2e-6, undefined, [], -12, 12),
  TanhGrad: grad((sh, s) => f32(sh, s, -0.99, 0.99), ULP4),
  Step: fwd(0),
  Gelu: fwd(1e-6, 1e-5, fc.record({ approximate: fc.constantFrom('none', 'tanh') }), [], -12, 12),
  GeluGrad: grad((sh, s) => f32(sh, s, -8, 8), 1e-6, 1e-5, fc.record({ approximate: fc.constantFrom('none', 'tanh') })),
  Softmax: { cases: softmaxCases((sh, s) => [f32(sh, s, -20, 20)]), tol: 5e-7, webgpuTol: 2e-6 },
  LogSoftmax: { cases: softmaxCases((sh, s) => [f32(sh, s, -20, 20)]), tol: 5e-7, webgpuTol: 2e-6 },
  // y a softmax output (in (0, 1)) and a log-softmax output (negative)
  SoftmaxGrad: { cases: softmaxCases((sh, s) => [f32(sh, s), f32(sh, s + 1, 0, 1)]), tol: 5e-7 },
  LogSoftmaxGrad: { cases: softmaxCases((sh, s) => [f32(sh, s), f32(sh, s + 1, -5, 0)]), tol: 5e-7, webgpuTol: 2e-6 },
};
