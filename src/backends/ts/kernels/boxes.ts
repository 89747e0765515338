/** Bounding-box kernels on `ts`. */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { boxIoU } from '../../../kernels/boxes.js';
import { out, vals } from '../backend.js';

/** 'IoU': inputs [a [N, 4], b [M, 4]] (corners, same float dtype), no attrs -> [N, M]. */
registerKernel({
  kernelName: 'IoU',
  backendName: 'ts',
  kernelFunc: ([a, b], _attrs, be) => {
    const N = a.shape[0], M = b.shape[0];
    const av = vals(a), bv = vals(b);
    const y = allocArray(a.dtype, N * M);
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) y[n * M + m] = boxIoU(av, n * 4, bv, m * 4);
    return out(be, y, [N, M], a.dtype);
  },
});
