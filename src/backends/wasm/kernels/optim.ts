/**
 * Fused optimiser updates on `wasm` (assembly/optim_f32.ts): one SIMD pass per parameter
 * tensor, the contracts of src/backends/ts/kernels/optim.ts (inputs [param, grad,
 * state...], outputs [param', state'...] in fresh storage). Step-dependent scalars (bias
 * corrections, the decayed AdaGrad rate) are computed here in float64.
 */
import { registerKernel, type KernelFunc } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import type { WasmBackend } from '../backend.js';

type Attrs = Record<string, unknown>;

function reg(name: string, kernelFunc: KernelFunc): void {
  registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

function num(attrs: Attrs, key: string, kernel: string): number {
  const v = attrs[key];
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${kernel}: attr '${key}' must be a number, received ${JSON.stringify(v)}`);
  return v;
}

/** Checks the input count and sizes; returns the element count and fresh outputs. */
function setup(be: WasmBackend, kernel: string, inputs: TensorInfo[], expected: number, outputs: number): { n: number; outs: TensorInfo[] } {
  if (inputs.length !== expected) throw new RangeError(`${kernel}: expected ${expected} inputs, received ${inputs.length}`);
  const n = be.size(inputs[0]);
  for (const t of inputs) {
    if (be.size(t) !== n) throw new RangeError(`${kernel}: every input must have the parameter's ${n} elements, one has ${be.size(t)}`);
  }
  return { n, outs: Array.from({ length: outputs }, () => be.alloc(inputs[0].shape)) };
}

reg('SGDUpdate', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const K = 'SGDUpdate';
  const lr = num(attrs, 'lr', K), momentum = num(attrs, 'momentum', K), dampening = num(attrs, 'dampening', K);
  const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
  const withBuf = momentum !== 0;
  const { n, outs } = setup(be, K, inputs, withBuf ? 3 : 2, withBuf ? 2 : 1);
  const p = be.ptr.bind(be);
  be.wasm.sgd_f32(
    p(inputs[0]), p(inputs[1]), withBuf ? p(inputs[2]) : 0, p(outs[0]), withBuf ? p(outs[1]) : 0, n,
    lr, momentum, dampening, wd, attrs.nesterov ? 1 : 0, step === 1 ? 1 : 0,
  );
  return outs;
});

reg('AdamUpdate', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const K = 'AdamUpdate';
  const lr = num(attrs, 'lr', K), beta1 = num(attrs, 'beta1', K), beta2 = num(attrs, 'beta2', K);
  const eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
  const amsgrad = !!attrs.amsgrad;
  const { n, outs } = setup(be, K, inputs, amsgrad ? 5 : 4, amsgrad ? 4 : 3);
  const p = be.ptr.bind(be);
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  be.wasm.adam_f32(
    p(inputs[0]), p(inputs[1]), p(inputs[2]), p(inputs[3]), amsgrad ? p(inputs[4]) : 0,
    p(outs[0]), p(outs[1]), p(outs[2]), amsgrad ? p(outs[3]) : 0, n,
    lr, beta1, beta2, eps, wd, attrs.decoupled ? 1 : 0, amsgrad ? 1 : 0, stepSize, bc2sqrt,
  );
  return outs;
});

reg('RMSpropUpdate', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const K = 'RMSpropUpdate';
  const lr = num(attrs, 'lr', K), alpha = num(attrs, 'alpha', K), eps = num(attrs, 'eps', K);
  const wd = num(attrs, 'weightDecay', K), momentum = num(attrs, 'momentum', K), centered = !!attrs.centered;
  const extra = (centered ? 1 : 0) + (momentum > 0 ? 1 : 0);
  const { n, outs } = setup(be, K, inputs, 3 + extra, 2 + extra);
  const p = be.ptr.bind(be);
  // inputs [p, g, sq, (gavg), (buf)], outputs [p', sq', (gavg'), (buf')]
  const gi = centered ? 3 : -1, bi = momentum > 0 ? 3 + (centered ? 1 : 0) : -1;
  be.wasm.rmsprop_f32(
    p(inputs[0]), p(inputs[1]), p(inputs[2]), gi > 0 ? p(inputs[gi]) : 0, bi > 0 ? p(inputs[bi]) : 0,
    p(outs[0]), p(outs[1]), gi > 0 ? p(outs[gi - 1]) : 0, bi > 0 ? p(outs[bi - 1]) : 0, n,
    lr, alpha, eps, wd, momentum, centered ? 1 : 0,
  );
  return outs;
});

reg('AdaGradUpdate', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const K = 'AdaGradUpdate';
  const lr = num(attrs, 'lr', K), lrDecay = num(attrs, 'lrDecay', K), eps = num(attrs, 'eps', K);
  const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
  const { n, outs } = setup(be, K, inputs, 3, 2);
  const p = be.ptr.bind(be);
  const clr = lr / (1 + (step - 1) * lrDecay);
  be.wasm.adagrad_f32(p(inputs[0]), p(inputs[1]), p(inputs[2]), p(outs[0]), p(outs[1]), n, clr, eps, wd);
  return outs;
});

reg('AdaDeltaUpdate', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const K = 'AdaDeltaUpdate';
  const lr = num(attrs, 'lr', K), rho = num(attrs, 'rho', K), eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K);
  const { n, outs } = setup(be, K, inputs, 4, 3);
  const p = be.ptr.bind(be);
  be.wasm.adadelta_f32(p(inputs[0]), p(inputs[1]), p(inputs[2]), p(inputs[3]), p(outs[0]), p(outs[1]), p(outs[2]), n, lr, rho, eps, wd);
  return outs;
});
