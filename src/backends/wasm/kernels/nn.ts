/**
 * Neural-network kernels on `wasm`, the contracts of src/kernels/activation.ts, loss.ts
 * and norm.ts: activations and their gradients (assembly/activation_f32.ts; vector
 * exp/log/tanh/erfc with about 1e-7 relative error), softmax and log-softmax along any
 * axis with their gradients (softmax_f32.ts), fused softmax cross-entropy
 * (softmax_xent_f32.ts), batch norm (batch_norm_f32.ts: training statistics in f64 sums,
 * inference, training gradient) and local response normalisation with its gradient
 * (lrn_f32.ts). Shapes are checked by the contracts before these run.
 */
import {
  Elu, EluGrad, Gelu, GeluGrad, LeakyRelu, LeakyReluGrad, LogSoftmax, LogSoftmaxGrad, Relu, ReluGrad,
  Sigmoid, SigmoidGrad, Softmax, SoftmaxGrad, Step, Tanh, TanhGrad, axisLayout,
  type AlphaAttrs, type GeluAttrs,
} from '../../../kernels/activation.js';
import type { Kernel } from '../../../kernels/kernel.js';
import { SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad } from '../../../kernels/loss.js';
import { BatchNorm, BatchNormGrad, LRN, LRNGrad, channelRows, type LrnAttrs } from '../../../kernels/norm.js';
import { ACTIVATION_OP } from '../../../kernels/wasm_abi.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { sizeOf } from '../../../tensor/shape.js';
import { FLOPS_PER_FLOAT_MOVED, wasmKernel, type WasmBackend } from '../backend.js';
import type { RangeSplit } from '../threads.js';

const geluCode = ({ approximate }: GeluAttrs) => (approximate === 'tanh' ? ACTIVATION_OP.geluTanh : ACTIVATION_OP.gelu);

function activation(be: WasmBackend, code: number, x: TensorInfo, alpha: number): TensorInfo {
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.parallelRange('activation_f32', [code, be.ptr(x), be.ptr(y), n, alpha], 3, [1, 2], 2);
  return y;
}

function activationGrad(be: WasmBackend, code: number, dy: TensorInfo, s: TensorInfo, alpha: number): TensorInfo {
  const dx = be.alloc(s.shape);
  const n = sizeOf(s.shape);
  if (n) be.parallelRange('activation_grad_f32', [code, be.ptr(dy), be.ptr(s), be.ptr(dx), n, alpha], 4, [1, 2, 3], 3);
  return dx;
}

// Forward kernels without attrs, and their gradients ([dy, saved]: x for Relu, y for Sigmoid and Tanh).
const plain: [Kernel, number][] = [
  [Relu, ACTIVATION_OP.relu], [Sigmoid, ACTIVATION_OP.sigmoid], [Tanh, ACTIVATION_OP.tanh],
  [Step, ACTIVATION_OP.step],
];
for (const [k, code] of plain) wasmKernel(k, ([x], _attrs, be) => activation(be, code, x, 0));
const plainGrads: [Kernel, number][] = [[ReluGrad, ACTIVATION_OP.relu], [SigmoidGrad, ACTIVATION_OP.sigmoid], [TanhGrad, ACTIVATION_OP.tanh]];
for (const [k, code] of plainGrads) wasmKernel(k, ([dy, s], _attrs, be) => activationGrad(be, code, dy, s, 0));

// alpha: the LeakyRelu slope, the Elu scale.
const withAlpha: [Kernel<AlphaAttrs>, Kernel<AlphaAttrs>, number][] = [[LeakyRelu, LeakyReluGrad, ACTIVATION_OP.leakyRelu], [Elu, EluGrad, ACTIVATION_OP.elu]];
for (const [fwd, grad, code] of withAlpha) {
  wasmKernel(fwd, ([x], { alpha }, be) => activation(be, code, x, alpha));
  wasmKernel(grad, ([dy, x], { alpha }, be) => activationGrad(be, code, dy, x, alpha));
}

wasmKernel(Gelu, ([x], attrs, be) => activation(be, geluCode(attrs), x, 0));
wasmKernel(GeluGrad, ([dy, x], attrs, be) => activationGrad(be, geluCode(attrs), dy, x, 0));

/**
 * Work of a softmax-like row (max, exp, sum, scale: an exp costs a few tens of flops), per
 * element, for the MIN_PARALLEL_FLOPS cut-over; an estimate like FLOPS_PER_FLOAT_MOVED.
 */
const SOFTMAX_FLOPS = 2 * FLOPS_PER_FLOAT_MOVED;
/** LRN: a window sum and a pow per element. */
const LRN_FLOPS_PER_ELEMENT = 3 * FLOPS_PER_FLOAT_MOVED;

/** A split over `args[nArg]` rows, the pointers at `ptrArgs` advancing `rowBytes` per row. */
const rows = (nArg: number, ptrArgs: readonly number[], rowBytes: number): RangeSplit => ({ nArg, strides: ptrArgs.map((i) => [i, rowBytes] as const), align: 1 });

for (const [fwd, grad, isLog] of [[Softmax, SoftmaxGrad, 0], [LogSoftmax, LogSoftmaxGrad, 1]] as const) {
  wasmKernel(fwd, ([x], { axis }, be) => {
    const y = be.alloc(x.shape);
    const { outer, n, inner } = axisLayout(x.shape, axis);
    const row = 4 * n * inner;
    if (sizeOf(x.shape)) be.parallelSplit('softmax_f32', [isLog, be.ptr(x), be.ptr(y), outer, n, inner], rows(3, [1, 2], row), SOFTMAX_FLOPS * outer * n * inner);
    return y;
  });
  wasmKernel(grad, ([dy, y], { axis }, be) => {
    const dx = be.alloc(y.shape);
    const { outer, n, inner } = axisLayout(y.shape, axis);
    const row = 4 * n * inner;
    if (sizeOf(y.shape)) be.parallelSplit('softmax_grad_f32', [isLog, be.ptr(dy), be.ptr(y), be.ptr(dx), outer, n, inner], rows(4, [1, 2, 3], row), SOFTMAX_FLOPS * outer * n * inner);
    return dx;
  });
}

wasmKernel(SoftmaxCrossEntropy, ([logits, labels], _attrs, be) => {
  const [N, K] = logits.shape;
  const loss = be.alloc([N]);
  if (N) be.parallelSplit('softmax_xent_f32', [be.ptr(logits), be.ptr(labels), be.ptr(loss), N, K], { nArg: 3, strides: [[0, 4 * K], [1, 4 * K], [2, 4]], align: 1 }, SOFTMAX_FLOPS * N * K);
  return loss;
});

wasmKernel(SoftmaxCrossEntropyGrad, ([dloss, logits, labels], _attrs, be) => {
  const [N, K] = logits.shape;
  const dz = be.alloc([N, K]);
  if (N * K) be.parallelSplit('softmax_xent_grad_f32', [be.ptr(dloss), be.ptr(logits), be.ptr(labels), be.ptr(dz), N, K], { nArg: 4, strides: [[0, 4], [1, 4 * K], [2, 4 * K], [3, 4 * K]], align: 1 }, SOFTMAX_FLOPS * N * K);
  return dz;
});

/** Host scratch the batch-norm kernels need for C channels (see assembly/batch_norm_f32.ts). */
const bnScratchBytes = (C: number) => 32 * (C + 4);

/**
 * Host scratch for the per-block sums of batch norm over x [M, C]: `sums` rows of
 * padded(C) f64 per block (statistics: 1, gradient: 2); with the block count.
 */
function bnBlockSums(be: WasmBackend, M: number, C: number, sums: number): { blocks: number; ptr: number } {
  const blocks = C > 0 ? be.wasm.batch_norm_blocks(M, C) : 0;
  return { blocks, ptr: be.scratch(Math.max(8 * sums * blocks * ((C + 3) & ~3), 16)) };
}

wasmKernel(BatchNorm, (inputs, { epsilon: eps, training, relu }, be) => {
  const [x, gamma, beta] = inputs;
  const { M, C } = channelRows(x.shape);
  const y = be.alloc(x.shape);
  const scratch = be.scratch(bnScratchBytes(C));
  const flops = FLOPS_PER_FLOAT_MOVED * M * C;
  // scratch: f64 totals at 0, the f32 mean's rounding error at 8(C+4); the scales go in each
  // thread's own workspace (argument 9), as every band of rows needs all of them
  const meanLo = scratch + 8 * (C + 4);
  const apply = (mean: TensorInfo, variance: TensorInfo, lo: number) => {
    const args = [be.ptr(x), be.ptr(y), M, C, be.ptr(gamma), be.ptr(beta), be.ptr(mean), be.ptr(variance), eps, be.workspace(), lo, relu ? 1 : 0];
    // (more channels than a workspace holds scales: one thread, the scales in the scratch)
    if (4 * C <= be.wasm.gemm_f32_workspace_bytes()) be.parallel('batch_norm_apply_f32', args, 9, 2 * flops);
    else be.wasm.batch_norm_apply_f32(...args.slice(0, 9), scratch + 16 * (C + 4), lo, relu ? 1 : 0, 0, 1);
  };
  if (!training) {
    try {
      if (M && C) apply(inputs[3], inputs[4], 0);
    } finally {
      be.freeScratch(scratch);
    }
    return [y];
  }
  const mean = be.alloc([C]), variance = be.alloc([C]);
  const sums = bnBlockSums(be, M, C, 1);
  try {
    if (C) {
      // mean, then the variance around it: each the blocks' sums on the threads, added up here
      be.parallel('batch_norm_sums_f32', [be.ptr(x), M, C, 0, sums.ptr], -1, flops, 2, sums.blocks);
      be.wasm.batch_norm_stats_finish_f32(M, C, sums.ptr, scratch, be.ptr(mean), be.ptr(variance), meanLo, 0);
      be.parallel('batch_norm_sums_f32', [be.ptr(x), M, C, be.ptr(mean), sums.ptr], -1, 2 * flops, 2, sums.blocks);
      be.wasm.batch_norm_stats_finish_f32(M, C, sums.ptr, scratch, be.ptr(mean), be.ptr(variance), meanLo, 1);
    }
    if (M && C) apply(mean, variance, meanLo);
  } finally {
    be.freeScratch(sums.ptr);
    be.freeScratch(scratch);
  }
  return [y, mean, variance];
});

wasmKernel(BatchNormGrad, ([dy, x, gamma, mean, variance, y], { epsilon, relu }, be) => {
  const { M, C } = channelRows(x.shape);
  const dx = be.alloc(x.shape), dgamma = be.alloc([C]), dbeta = be.alloc([C]);
  // scratch: the totals and constants (bnScratchBytes), then invstd (f32)
  const scratch = be.scratch(bnScratchBytes(C) + 4 * (C + 4));
  const invstd = scratch + bnScratchBytes(C);
  const sums = bnBlockSums(be, M, C, 2);
  // relu: the fused forward's output, which masks dy in both passes (0: none)
  const mask = relu ? be.ptr(y) : 0;
  const flops = FLOPS_PER_FLOAT_MOVED * M * C * (relu ? 3 : 2);
  try {
    if (C) {
      // invstd, the blocks' sums on the threads, their totals and the constants here, then
      // dx over bands of rows (it needs every channel's sums)
      be.wasm.batch_norm_invstd_f32(be.ptr(variance), C, epsilon, invstd);
      be.parallel('batch_norm_grad_block_sums_f32', [be.ptr(dy), be.ptr(x), be.ptr(mean), invstd, mask, M, C, sums.ptr], -1, flops, 2, sums.blocks);
      be.wasm.batch_norm_grad_finish_f32(be.ptr(gamma), invstd, be.ptr(dgamma), be.ptr(dbeta), M, C, sums.ptr, scratch);
      if (M) be.parallel('batch_norm_grad_dx_f32', [be.ptr(dy), be.ptr(x), be.ptr(mean), be.ptr(dx), M, C, scratch, mask], -1, flops + FLOPS_PER_FLOAT_MOVED * M * C);
    }
  } finally {
    be.freeScratch(sums.ptr);
    be.freeScratch(scratch);
  }
  return [dx, dgamma, dbeta];
});

/** Host scratch of the LRN kernels (see assembly/lrn_f32.ts). */
const lrnScratchBytes = (C: number, { size }: LrnAttrs) => 4 * (3 * C + 2 * size + 16);

/**
 * An LRN kernel over `args[nArg]` rows of C channels (the pointers at `ptrArgs` advance a
 * row per row), on threads when it is big: each worker's scratch (the last argument) is
 * its own workspace, so only where the scratch fits in one.
 */
function lrnRows(be: WasmBackend, name: 'lrn_f32' | 'lrn_grad_f32', args: number[], attrs: LrnAttrs, nArg: number, ptrArgs: number[], C: number): void {
  const fits = lrnScratchBytes(C, attrs) <= be.wasm.gemm_f32_workspace_bytes() >>> 0;
  const flops = LRN_FLOPS_PER_ELEMENT * args[nArg] * C;
  if (fits) be.parallelSplit(name, args, rows(nArg, ptrArgs, 4 * C), flops, args.length - 1);
  else be.wasm[name](...args);
}

wasmKernel(LRN, ([x], attrs, be) => {
  const { size, alpha, beta, k } = attrs;
  const { M: rows, C } = channelRows(x.shape);
  const y = be.alloc(x.shape);
  if (!rows) return y;
  const scratch = be.scratch(lrnScratchBytes(C, attrs));
  try {
    lrnRows(be, 'lrn_f32', [be.ptr(x), be.ptr(y), rows, C, size, alpha, beta, k, scratch], attrs, 2, [0, 1], C);
  } finally {
    be.freeScratch(scratch);
  }
  return y;
});

wasmKernel(LRNGrad, ([dy, x], attrs, be) => {
  const { size, alpha, beta, k } = attrs;
  const { M: rows, C } = channelRows(x.shape);
  const dx = be.alloc(x.shape);
  if (!rows) return dx;
  const scratch = be.scratch(lrnScratchBytes(C, attrs));
  try {
    lrnRows(be, 'lrn_grad_f32', [be.ptr(dy), be.ptr(x), be.ptr(dx), rows, C, size, alpha, beta, k, scratch], attrs, 3, [0, 1, 2], C);
  } finally {
    be.freeScratch(scratch);
  }
  return dx;
});
