/**
 * Fused optimiser updates on `wasm` (assembly/optim_f32.ts): one SIMD pass per parameter
 * tensor, the contracts of src/kernels/optim.ts (inputs [param, grad, state...], outputs
 * [param', state'...] in fresh storage; the contracts check the attrs, the input count
 * and the sizes). Step-dependent scalars (bias corrections, the decayed AdaGrad rate) are
 * computed here in float64.
 */
import { AdaDeltaUpdate, AdaGradUpdate, AdamUpdate, RMSpropUpdate, SGDUpdate, adagradRate, rmspropSlots } from '../../../kernels/optim.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { wasmKernel, type WasmBackend } from '../backend.js';

/** The element count and fresh outputs, one per input but the gradient. */
function setup(be: WasmBackend, inputs: TensorInfo[]): { n: number; outs: TensorInfo[] } {
  return { n: be.size(inputs[0]), outs: Array.from({ length: inputs.length - 1 }, () => be.alloc(inputs[0].shape)) };
}

wasmKernel(SGDUpdate, (inputs, { lr, momentum, dampening, weightDecay, nesterov, step }, be) => {
  const withBuf = momentum !== 0;
  const { n, outs } = setup(be, inputs);
  const p = be.ptr.bind(be);
  be.parallelRange('sgd_f32', [
    p(inputs[0]), p(inputs[1]), withBuf ? p(inputs[2]) : 0, p(outs[0]), withBuf ? p(outs[1]) : 0, n,
    lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, step === 1 ? 1 : 0,
  ], 5, [0, 1, 2, 3, 4], 5);
  return outs;
});

wasmKernel(AdamUpdate, (inputs, { lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, step }, be) => {
  const { n, outs } = setup(be, inputs);
  const p = be.ptr.bind(be);
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  be.parallelRange('adam_f32', [
    p(inputs[0]), p(inputs[1]), p(inputs[2]), p(inputs[3]), amsgrad ? p(inputs[4]) : 0,
    p(outs[0]), p(outs[1]), p(outs[2]), amsgrad ? p(outs[3]) : 0, n,
    lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, amsgrad ? 1 : 0, stepSize, bc2sqrt,
  ], 9, [0, 1, 2, 3, 4, 5, 6, 7, 8], 9);
  return outs;
});

wasmKernel(RMSpropUpdate, (inputs, attrs, be) => {
  const { lr, alpha, eps, weightDecay, momentum, centered } = attrs;
  const { n, outs } = setup(be, inputs);
  const p = be.ptr.bind(be);
  // inputs [p, g, sq, (gavg), (buf)], outputs [p', sq', (gavg'), (buf')]
  const { gavg: gi, buf: bi } = rmspropSlots(attrs);
  be.parallelRange('rmsprop_f32', [
    p(inputs[0]), p(inputs[1]), p(inputs[2]), gi > 0 ? p(inputs[gi]) : 0, bi > 0 ? p(inputs[bi]) : 0,
    p(outs[0]), p(outs[1]), gi > 0 ? p(outs[gi - 1]) : 0, bi > 0 ? p(outs[bi - 1]) : 0, n,
    lr, alpha, eps, weightDecay, momentum, centered ? 1 : 0,
  ], 9, [0, 1, 2, 3, 4, 5, 6, 7, 8], 9);
  return outs;
});

wasmKernel(AdaGradUpdate, (inputs, attrs, be) => {
  const { n, outs } = setup(be, inputs);
  const p = be.ptr.bind(be);
  be.parallelRange('adagrad_f32', [p(inputs[0]), p(inputs[1]), p(inputs[2]), p(outs[0]), p(outs[1]), n, adagradRate(attrs), attrs.eps, attrs.weightDecay], 5, [0, 1, 2, 3, 4], 5);
  return outs;
});

wasmKernel(AdaDeltaUpdate, (inputs, { lr, rho, eps, weightDecay }, be) => {
  const { n, outs } = setup(be, inputs);
  const p = be.ptr.bind(be);
  be.parallelRange('adadelta_f32', [p(inputs[0]), p(inputs[1]), p(inputs[2]), p(inputs[3]), p(outs[0]), p(outs[1]), p(outs[2]), n, lr, rho, eps, weightDecay], 7, [0, 1, 2, 3, 4, 5, 6], 7);
  return outs;
});
