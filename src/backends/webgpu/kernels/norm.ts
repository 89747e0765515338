/**
 * Normalisation kernels on `webgpu`: BatchNorm (training and inference), BatchNormGrad,
 * LRN and LRNGrad, with the contracts of src/kernels/norm.ts.
 * Channels are the last axis; x is viewed as [M, C].
 *
 * Per-channel sums (statistics, dgamma, dbeta) are column sums of the [M, C] view
 * (colsum.ts: coalesced reads, rows split over many workgroups). The variance takes a
 * second pass over (x - mean)^2, as the oracle does, so no cancellation creeps in. The
 * elementwise parts then read the per-channel vectors; BatchNormGrad's dx program binds
 * 8 storage buffers, the most WebGPU guarantees.
 */
import { sizeOf } from '../../../tensor/shape.js';
import { gpu, type WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, type ProgramDef } from '../program.js';
import { columnSums, PLAIN_SUM, type ColumnTerm } from './colsum.js';
import { registerFloat } from './util.js';
import { BatchNorm, BatchNormGrad, LRN, LRNGrad, channelRows, type LrnAttrs } from '../../../kernels/norm.js';

/**
 * The variance's second pass: squared deviations from the f32 channel mean, and the
 * deviations themselves, whose mean (LO) is that mean's rounding error. Training
 * normalises with x - mean - LO: when a channel's spread is small next to its mean (two
 * examples a hair apart), centring on the rounded mean alone loses most of the digits.
 */
const SQUARED_DEVIATION: ColumnTerm = {
  key: 'batchnorm-sqdev',
  inputs: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'MEAN', type: 'f32', access: 'read' },
  ],
  setup: 'let mu = MEAN[c];',
  terms: ['(X[i] - mu) * (X[i] - mu)', 'X[i] - mu'],
};

/**
 * y = (x - mean [- lo]) * gamma / sqrt(var + eps) + beta; `lo` (training): the mean's
 * rounding error; `relu`: then Relu's select (NaN stays NaN, as activation.ts's Relu).
 */
const normalizeProgram = (lo: boolean, relu: boolean): ProgramDef => ({
  key: `batchnorm-normalize${lo ? '-lo' : ''}${relu ? '-relu' : ''}`,
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'GAMMA', type: 'f32', access: 'read' },
    { name: 'BETA', type: 'f32', access: 'read' },
    { name: 'MEAN', type: 'f32', access: 'read' },
    { name: 'VAR', type: 'f32', access: 'read' },
    ...(lo ? [{ name: 'LO', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'eps', type: 'f32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  let c = i % u.C;
  let scale = GAMMA[c] / sqrt(VAR[c] + u.eps);
  let y = (X[i] - MEAN[c]${lo ? ' - LO[c]' : ''}) * scale + BETA[c];
  Y[i] = ${relu ? 'select(0.0, y, y > 0.0 || y != y)' : 'y'};
}`,
});
/** The programs by [training][relu]. */
const NORMALIZE = [false, true].map((lo) => [false, true].map((relu) => normalizeProgram(lo, relu)));

/** ReluGrad's dy for a batch norm fused with a ReLU: dy where the fused output y > 0, else 0. */
const RELU_MASK: ProgramDef = {
  key: 'batchnorm-relu-mask',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read' },
    { name: 'OUT', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  OUT[i] = select(0.0, DY[i], Y[i] > 0.0);
}`,
};

/** dbeta = sum dy and dgamma = sum dy * xhat, in one pass. */
const GRAD_SUMS: ColumnTerm = {
  key: 'batchnorm-grad-sums',
  inputs: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'MEAN', type: 'f32', access: 'read' },
    { name: 'VAR', type: 'f32', access: 'read' },
  ],
  setup: 'let mu = MEAN[c]; let invstd = 1.0 / sqrt(VAR[c] + u.eps);',
  terms: ['DY[i]', 'DY[i] * (X[i] - mu) * invstd'],
  params: ['eps'],
};

const GRAD_DX: ProgramDef = {
  key: 'batchnorm-grad-dx',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'GAMMA', type: 'f32', access: 'read' },
    { name: 'MEAN', type: 'f32', access: 'read' },
    { name: 'VAR', type: 'f32', access: 'read' },
    { name: 'DGAMMA', type: 'f32', access: 'read' },
    { name: 'DBETA', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'M', type: 'u32' }, { name: 'eps', type: 'f32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  let c = i % u.C;
  let invstd = 1.0 / sqrt(VAR[c] + u.eps);
  let xhat = (X[i] - MEAN[c]) * invstd;
  let m = f32(u.M);
  DX[i] = GAMMA[c] * invstd / m * (m * DY[i] - DBETA[c] - xhat * DGAMMA[c]);
}`,
};

registerFloat(BatchNorm, (inputs, { epsilon: eps, training, relu }, be) => {
  const [x, gamma, beta] = inputs;
  const { M, C } = channelRows(x.shape);
  const total = sizeOf(x.shape);
  const y = be.output(x.shape, 'float32');
  const params = { total, C: Math.max(C, 1), eps };
  if (!training) {
    be.run(NORMALIZE[0][relu ? 1 : 0], [gpu(x), gpu(gamma), gpu(beta), gpu(inputs[3]), gpu(inputs[4]), y.dataId], params, grid1d(total));
    return [y];
  }
  const m = be.output([C], 'float32'), v = be.output([C], 'float32'), lo = be.alloc(Math.max(C, 1), 'float32');
  columnSums(be, PLAIN_SUM, [gpu(x)], [m.dataId], M, C, {}, 1 / M);
  columnSums(be, SQUARED_DEVIATION, [gpu(x), m.dataId], [v.dataId, lo], M, C, {}, 1 / M);
  be.run(NORMALIZE[1][relu ? 1 : 0], [gpu(x), gpu(gamma), gpu(beta), m.dataId, v.dataId, lo, y.dataId], params, grid1d(total));
  be.disposeData(lo);
  return [y, m, v];
});

registerFloat(BatchNormGrad, ([dyIn, x, gamma, mean, variance, y], { epsilon: eps, relu }, be: WebGPUBackend) => {
  const { M, C } = channelRows(x.shape);
  const total = sizeOf(x.shape);
  // relu: mask dy first (the dx program already binds the 8 storage buffers WebGPU guarantees)
  const masked = relu ? be.alloc(Math.max(total, 1), 'float32') : null;
  if (masked) be.run(RELU_MASK, [gpu(dyIn), gpu(y), masked], { total }, grid1d(total));
  const dy = masked ?? gpu(dyIn);
  const dg = be.output([C], 'float32'), db = be.output([C], 'float32');
  columnSums(be, GRAD_SUMS, [dy, gpu(x), gpu(mean), gpu(variance)], [db.dataId, dg.dataId], M, C, { eps });
  const dx = be.output(x.shape, 'float32');
  be.run(GRAD_DX, [dy, gpu(x), gpu(gamma), gpu(mean), gpu(variance), dg.dataId, db.dataId, dx.dataId], { total, C: Math.max(C, 1), M, eps }, grid1d(total));
  if (masked) be.disposeData(masked);
  return [dx, dg, db];
});

// ------------------------------------------------------------------ LRN

const LRN_FNS = `
// Channel c's window is [c - before, c + after] clipped to [0, C).
fn denom(row: u32, c: u32) -> f32 {
  let lo = u32(max(i32(c) - i32(u.before), 0));
  let hi = min(c + u.after, u.C - 1u);
  var s = 0.0;
  for (var j = lo; j <= hi; j++) { let v = X[row + j]; s += v * v; }
  return u.k + u.alpha / f32(u.size) * s;
}`;
const LRN_PARAMS = [
  { name: 'total', type: 'u32' as const },
  { name: 'C', type: 'u32' as const },
  { name: 'size', type: 'u32' as const },
  { name: 'before', type: 'u32' as const },
  { name: 'after', type: 'u32' as const },
  { name: 'alpha', type: 'f32' as const },
  { name: 'beta', type: 'f32' as const },
  { name: 'k', type: 'f32' as const },
];

const LRN_PROGRAM: ProgramDef = {
  key: 'lrn',
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: LRN_PARAMS,
  body: `${LRN_FNS}
${MAIN_1D}
  if (i >= u.total) { return; }
  let c = i % u.C;
  Y[i] = X[i] * pow(denom(i - c, c), -u.beta);
}`,
};

const LRN_GRAD_PROGRAM: ProgramDef = {
  key: 'lrn-grad',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  params: LRN_PARAMS,
  body: `${LRN_FNS}
${MAIN_1D}
  if (i >= u.total) { return; }
  let j = i % u.C;
  let row = i - j;
  // Channels c whose window holds j: [j - after, j + before].
  let lo = u32(max(i32(j) - i32(u.after), 0));
  let hi = min(j + u.before, u.C - 1u);
  var s = 0.0;
  for (var c = lo; c <= hi; c++) { s += DY[row + c] * X[row + c] * pow(denom(row, c), -u.beta - 1.0); }
  DX[i] = DY[i] * pow(denom(row, j), -u.beta) - 2.0 * u.beta * u.alpha / f32(u.size) * X[i] * s;
}`,
};

function lrnValues({ size, alpha, beta, k }: LrnAttrs, total: number, C: number) {
  return { total, C: Math.max(C, 1), size, before: Math.floor(size / 2), after: Math.floor((size - 1) / 2), alpha, beta, k };
}

registerFloat(LRN, ([x], attrs, be) => {
  const total = sizeOf(x.shape);
  const y = be.output(x.shape, 'float32');
  be.run(LRN_PROGRAM, [gpu(x), y.dataId], lrnValues(attrs, total, x.shape[x.shape.length - 1]), grid1d(total));
  return y;
});

registerFloat(LRNGrad, ([dy, x], attrs, be) => {
  const total = sizeOf(x.shape);
  const dx = be.output(x.shape, 'float32');
  be.run(LRN_GRAD_PROGRAM, [gpu(dy), gpu(x), dx.dataId], lrnValues(attrs, total, x.shape[x.shape.length - 1]), grid1d(total));
  return dx;
});
