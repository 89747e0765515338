/**
 * Fused loss kernels on `webgpu` (softmax cross-entropy forward and gradient), with the
 * contracts of src/kernels/loss.ts. One thread per row of logits: a classifier's K is small, and each row
 * needs its own max and log-sum-exp before any output can be written.
 */
import { gpu } from '../backend.js';
import { MAIN_1D, grid1d, type ProgramDef } from '../program.js';
import { registerFloat } from './util.js';
import { SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad } from '../../../kernels/loss.js';

const ROW_STATS = `
struct RowStats { m: f32, s: f32 }
// Row maximum and sum of exp(z - max); a NaN logit makes the row NaN.
fn row_stats(row: u32) -> RowStats {
  var m = -inf_f32();
  for (var k = 0u; k < u.K; k++) {
    let v = Z[row + k];
    if (is_nan(v)) { return RowStats(v, v); }
    m = max(m, v);
  }
  var s = 0.0;
  for (var k = 0u; k < u.K; k++) { s += exp(Z[row + k] - m); }
  return RowStats(m, s);
}`;

const SCE: ProgramDef = {
  key: 'softmax-cross-entropy',
  buffers: [
    { name: 'Z', type: 'f32', access: 'read' },
    { name: 'T', type: 'f32', access: 'read' },
    { name: 'L', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'N', type: 'u32' }, { name: 'K', type: 'u32' }],
  body: `${ROW_STATS}
${MAIN_1D}
  if (i >= u.N) { return; }
  let row = i * u.K;
  let st = row_stats(row);
  // log s minus the shifted logit: m + log(s) would round to m for logits of 1e7
  let ls = log(st.s);
  var l = 0.0;
  // Terms with label 0 are skipped: a -Infinity logit in another class stays harmless.
  for (var k = 0u; k < u.K; k++) {
    let t = T[row + k];
    if (t != 0.0) { l += t * (ls - (Z[row + k] - st.m)); }
  }
  L[i] = l;
}`,
};

const SCE_GRAD: ProgramDef = {
  key: 'softmax-cross-entropy-grad',
  buffers: [
    { name: 'DL', type: 'f32', access: 'read' },
    { name: 'Z', type: 'f32', access: 'read' },
    { name: 'T', type: 'f32', access: 'read' },
    { name: 'DZ', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'N', type: 'u32' }, { name: 'K', type: 'u32' }],
  body: `${ROW_STATS}
${MAIN_1D}
  if (i >= u.N) { return; }
  let row = i * u.K;
  let st = row_stats(row);
  var tsum = 0.0;
  for (var k = 0u; k < u.K; k++) { tsum += T[row + k]; }
  let g = DL[i];
  for (var k = 0u; k < u.K; k++) {
    DZ[row + k] = g * (exp(Z[row + k] - st.m) / st.s * tsum - T[row + k]);
  }
}`,
};

registerFloat(SoftmaxCrossEntropy, ([logits, labels], _attrs, be) => {
  const [N, K] = logits.shape;
  const loss = be.output([N], 'float32');
  be.run(SCE, [gpu(logits), gpu(labels), loss.dataId], { N, K }, grid1d(N));
  return loss;
});

registerFloat(SoftmaxCrossEntropyGrad, ([dloss, logits, labels], _attrs, be) => {
  const [N, K] = logits.shape;
  const dz = be.output([N, K], 'float32');
  be.run(SCE_GRAD, [gpu(dloss), gpu(logits), gpu(labels), dz.dataId], { N, K }, grid1d(N));
  return dz;
});
