/**
 * Matrix product on `ts`: y[b] = op(a[b]) @ op(b[b]) with op = transpose when asked.
 * Rank 2 or batched rank 3 (a batch of 1 broadcasts). The triple loop accumulates
 * in float64 so the oracle does not drift for long reductions.
 */
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { out, vals } from '../backend.js';

registerKernel({
  kernelName: 'MatMul',
  backendName: 'ts',
  kernelFunc: ([a, b], attrs, be) => {
    const ta = attrs.transposeA as boolean, tb = attrs.transposeB as boolean;
    const batched = a.shape.length === 3 || b.shape.length === 3;
    const as = a.shape.length === 3 ? a.shape : [1, ...a.shape];
    const bs = b.shape.length === 3 ? b.shape : [1, ...b.shape];
    const batch = Math.max(as[0], bs[0]);
    const M = ta ? as[2] : as[1], K = ta ? as[1] : as[2];
    const N = tb ? bs[1] : bs[2];
    const av = vals(a), bv = vals(b);
    const y = allocArray(a.dtype, batch * M * N, batched ? [batch, M, N] : [M, N]);
    for (let p = 0; p < batch; p++) {
      const ao = (as[0] === 1 ? 0 : p) * M * K, bo = (bs[0] === 1 ? 0 : p) * K * N;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const x = av[ao + (ta ? k * M + i : i * K + k)];
            const w = bv[bo + (tb ? j * K + k : k * N + j)];
            s += x * w;
          }
          y[p * M * N + i * N + j] = s;
        }
      }
    }
    return out(be, y, batched ? [batch, M, N] : [M, N], a.dtype);
  },
});
