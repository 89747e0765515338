/**
 * The IoU box kernel on `webgpu` (contract and reference in src/kernels/boxes.ts): one
 * thread per (a box, b box) pair, corners normalised with min/max, a NaN coordinate
 * gives NaN and an empty union 0. float32 boxes only (registerFloat refuses others).
 */
import { IoU } from '../../../kernels/boxes.js';
import { gpu } from '../backend.js';
import { MAIN_1D, grid1d, type ProgramDef } from '../program.js';
import { registerFloat } from './util.js';

const IOU: ProgramDef = {
  key: 'iou',
  buffers: [
    { name: 'A', type: 'f32', access: 'read' },
    { name: 'B', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'N', type: 'u32' }, { name: 'M', type: 'u32' }],
  body: `${MAIN_1D}
  if (i >= u.N * u.M) { return; }
  let a = (i / u.M) * 4u;
  let b = (i % u.M) * 4u;
  let ax1 = min(A[a], A[a + 2u]); let ax2 = max(A[a], A[a + 2u]);
  let ay1 = min(A[a + 1u], A[a + 3u]); let ay2 = max(A[a + 1u], A[a + 3u]);
  let bx1 = min(B[b], B[b + 2u]); let bx2 = max(B[b], B[b + 2u]);
  let by1 = min(B[b + 1u], B[b + 3u]); let by2 = max(B[b + 1u], B[b + 3u]);
  let iw = max(0.0, min(ax2, bx2) - max(ax1, bx1));
  let ih = max(0.0, min(ay2, by2) - max(ay1, by1));
  let inter = iw * ih;
  let uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  var anyNan = false;
  for (var j = 0u; j < 4u; j++) { anyNan = anyNan || is_nan(A[a + j]) || is_nan(B[b + j]); }
  if (anyNan) { Y[i] = nan_f32(); return; }
  Y[i] = select(0.0, inter / uni, uni > 0.0);
}`,
};

registerFloat(IoU, ([a, b], _attrs, be) => {
  const N = a.shape[0], M = b.shape[0];
  const y = be.output([N, M], 'float32');
  be.run(IOU, [gpu(a), gpu(b), y.dataId], { N, M }, grid1d(N * M));
  return y;
});
