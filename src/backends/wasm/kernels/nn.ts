/**
 * Neural-network kernels on `wasm` (assembly/nn_f32.ts), the contracts of the `ts`
 * oracle files activation.ts, loss.ts and norm.ts: activations and their gradients
 * (vector exp/log/tanh/erfc with about 1e-7 relative error), softmax and log-softmax
 * along any axis with their gradients, fused softmax cross-entropy, batch norm
 * (training statistics in f64 sums, inference, training gradient) and local response
 * normalisation with its gradient.
 */
import { registerKernel, type KernelFunc } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { fmtShape, sizeOf } from '../../../tensor/shape.js';
import type { WasmBackend } from '../backend.js';

function reg(name: string, kernelFunc: KernelFunc): void {
  registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

/** Activation codes of assembly/nn_f32.ts. */
const ACT = { Relu: 0, LeakyRelu: 1, Elu: 2, Sigmoid: 3, Tanh: 4, Softplus: 5, Step: 6, Gelu: 7, GeluTanh: 8 } as const;

function geluCode(attrs: Record<string, unknown>): number {
  return attrs.approximate === 'tanh' ? ACT.GeluTanh : ACT.Gelu;
}

function activation(be: WasmBackend, code: number, x: TensorInfo, alpha: number): TensorInfo {
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.wasm.activation_f32(code, be.ptr(x), be.ptr(y), n, alpha);
  return y;
}

function activationGrad(be: WasmBackend, code: number, dy: TensorInfo, s: TensorInfo, alpha: number, name: string): TensorInfo {
  if (sizeOf(dy.shape) !== sizeOf(s.shape)) throw new RangeError(`${name}: dy has shape ${fmtShape(dy.shape)}, expected ${fmtShape(s.shape)}`);
  const dx = be.alloc(s.shape);
  const n = sizeOf(s.shape);
  if (n) be.wasm.activation_grad_f32(code, be.ptr(dy), be.ptr(s), be.ptr(dx), n, alpha);
  return dx;
}

const alphaOf = (attrs: Record<string, unknown>) => (typeof attrs.alpha === 'number' ? attrs.alpha : 0);

for (const name of ['Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softplus', 'Step'] as const) {
  reg(name, ([x], attrs, backend) => activation(backend as WasmBackend, ACT[name], x, alphaOf(attrs)));
}
reg('Gelu', ([x], attrs, backend) => activation(backend as WasmBackend, geluCode(attrs), x, 0));

// Gradient kernels: [dy, saved] where saved is x (Relu, LeakyRelu, Elu, Gelu) or y (Sigmoid, Tanh).
for (const name of ['Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh'] as const) {
  reg(`${name}Grad`, ([dy, s], attrs, backend) => activationGrad(backend as WasmBackend, ACT[name], dy, s, alphaOf(attrs), `${name}Grad`));
}
reg('GeluGrad', ([dy, x], attrs, backend) => activationGrad(backend as WasmBackend, geluCode(attrs), dy, x, 0, 'GeluGrad'));

/** [outer, K, inner] around `axis`. */
function axisLayout(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return [outer, shape[axis], inner];
}

for (const [name, isLog] of [['Softmax', 0], ['LogSoftmax', 1]] as const) {
  reg(name, ([x], attrs, backend) => {
    const be = backend as WasmBackend;
    const y = be.alloc(x.shape);
    const [outer, K, inner] = axisLayout(x.shape, attrs.axis as number);
    if (sizeOf(x.shape)) be.wasm.softmax_f32(isLog, be.ptr(x), be.ptr(y), outer, K, inner);
    return y;
  });
  reg(`${name}Grad`, ([dy, y], attrs, backend) => {
    const be = backend as WasmBackend;
    const dx = be.alloc(y.shape);
    const [outer, K, inner] = axisLayout(y.shape, attrs.axis as number);
    if (sizeOf(y.shape)) be.wasm.softmax_grad_f32(isLog, be.ptr(dy), be.ptr(y), be.ptr(dx), outer, K, inner);
    return dx;
  });
}

reg('SoftmaxCrossEntropy', ([logits, labels], _attrs, backend) => {
  const be = backend as WasmBackend;
  const [N, K] = logits.shape;
  const loss = be.alloc([N]);
  if (N) be.wasm.softmax_xent_f32(be.ptr(logits), be.ptr(labels), be.ptr(loss), N, K);
  return loss;
});

reg('SoftmaxCrossEntropyGrad', ([dloss, logits, labels], _attrs, backend) => {
  const be = backend as WasmBackend;
  const [N, K] = logits.shape;
  const dz = be.alloc([N, K]);
  if (N * K) be.wasm.softmax_xent_grad_f32(be.ptr(dloss), be.ptr(logits), be.ptr(labels), be.ptr(dz), N, K);
  return dz;
});

/** Host scratch the batch-norm kernels need for C channels (see assembly/nn_f32.ts). */
const bnScratchBytes = (C: number) => 32 * (C + 4);

reg('BatchNorm', (inputs, attrs, backend) => {
  const be = backend as WasmBackend;
  const [x, gamma, beta] = inputs;
  const eps = attrs.epsilon as number;
  const training = attrs.training as boolean;
  const C = x.shape[x.shape.length - 1];
  const M = C === 0 ? 0 : sizeOf(x.shape) / C;
  const y = be.alloc(x.shape);
  const scratch = be.scratch(bnScratchBytes(C));
  // scratch: f64 sums at 0, the f32 mean's rounding error at 8(C+4), scales at 16(C+4)
  const meanLo = scratch + 8 * (C + 4), scale = scratch + 16 * (C + 4);
  try {
    if (training) {
      const mean = be.alloc([C]), variance = be.alloc([C]);
      if (C) be.wasm.batch_norm_stats_f32(be.ptr(x), M, C, be.ptr(mean), be.ptr(variance), scratch, meanLo);
      if (M && C) be.wasm.batch_norm_apply_f32(be.ptr(x), be.ptr(y), M, C, be.ptr(gamma), be.ptr(beta), be.ptr(mean), be.ptr(variance), eps, scale, meanLo);
      return [y, mean, variance];
    }
    const [mean, variance] = [inputs[3], inputs[4]];
    if (M && C) be.wasm.batch_norm_apply_f32(be.ptr(x), be.ptr(y), M, C, be.ptr(gamma), be.ptr(beta), be.ptr(mean), be.ptr(variance), eps, scale, 0);
    return [y];
  } finally {
    be.freeScratch(scratch);
  }
});

reg('BatchNormGrad', ([dy, x, gamma, mean, variance], attrs, backend) => {
  const be = backend as WasmBackend;
  const C = x.shape[x.shape.length - 1];
  const M = C === 0 ? 0 : sizeOf(x.shape) / C;
  const dx = be.alloc(x.shape), dgamma = be.alloc([C]), dbeta = be.alloc([C]);
  const scratch = be.scratch(bnScratchBytes(C));
  try {
    if (C) {
      be.wasm.batch_norm_grad_f32(
        be.ptr(dy), be.ptr(x), be.ptr(gamma), be.ptr(mean), be.ptr(variance),
        be.ptr(dx), be.ptr(dgamma), be.ptr(dbeta), M, C, attrs.epsilon as number, scratch,
      );
    }
  } finally {
    be.freeScratch(scratch);
  }
  return [dx, dgamma, dbeta];
});

/** Local response normalisation across channels (AlexNet), forward and gradient. */
function lrnArgs(x: TensorInfo, attrs: Record<string, unknown>): { rows: number; C: number; size: number; alpha: number; beta: number; k: number } {
  const { size, alpha, beta, k } = attrs as { size: number; alpha: number; beta: number; k: number };
  const C = x.shape[x.shape.length - 1];
  return { rows: C === 0 ? 0 : sizeOf(x.shape) / C, C, size, alpha, beta, k };
}

reg('LRN', ([x], attrs, backend) => {
  const be = backend as WasmBackend;
  const a = lrnArgs(x, attrs);
  const y = be.alloc(x.shape);
  if (!a.rows) return y;
  const scratch = be.scratch(4 * (3 * a.C + 2 * a.size + 16));
  try {
    be.wasm.lrn_f32(be.ptr(x), be.ptr(y), a.rows, a.C, a.size, a.alpha, a.beta, a.k, scratch);
  } finally {
    be.freeScratch(scratch);
  }
  return y;
});

reg('LRNGrad', ([dy, x], attrs, backend) => {
  const be = backend as WasmBackend;
  const a = lrnArgs(x, attrs);
  const dx = be.alloc(x.shape);
  if (!a.rows) return dx;
  const scratch = be.scratch(4 * (3 * a.C + 2 * a.size + 16));
  try {
    be.wasm.lrn_grad_f32(be.ptr(dy), be.ptr(x), be.ptr(dx), a.rows, a.C, a.size, a.alpha, a.beta, a.k, scratch);
  } finally {
    be.freeScratch(scratch);
  }
  return dx;
});
