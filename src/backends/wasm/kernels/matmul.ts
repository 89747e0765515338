/**
 * MatMul on `wasm`: rank 2, or rank 3 batched with a batch of 1 broadcasting, every
 * transpose combination handled inside the GEMM's packing (no transposed copies).
 */
import { registerKernel } from '../../../registry/kernels.js';
import type { WasmBackend } from '../backend.js';

registerKernel({
  kernelName: 'MatMul',
  backendName: 'wasm',
  kernelFunc: ([a, b], attrs, backend) => {
    const be = backend as WasmBackend;
    const ta = attrs.transposeA === true, tb = attrs.transposeB === true;
    const batched = a.shape.length === 3 || b.shape.length === 3;
    const as = a.shape.length === 3 ? a.shape : [1, ...a.shape];
    const bs = b.shape.length === 3 ? b.shape : [1, ...b.shape];
    const batch = Math.max(as[0], bs[0]);
    const M = ta ? as[2] : as[1], K = ta ? as[1] : as[2];
    const N = tb ? bs[1] : bs[2];
    const y = be.alloc(batched ? [batch, M, N] : [M, N]);
    const pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
    for (let p = 0; p < batch; p++) {
      const ao = (as[0] === 1 ? 0 : p) * M * K * 4, bo = (bs[0] === 1 ? 0 : p) * K * N * 4;
      be.gemm(M, N, K, pa + ao, ta ? M : K, ta, pb + bo, tb ? K : N, tb, py + p * M * N * 4, N, false);
    }
    return y;
  },
});
