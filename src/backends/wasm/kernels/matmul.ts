/**
 * MatMul on `wasm`: rank 2, or rank 3 batched with a batch of 1 broadcasting, every
 * transpose combination handled inside the GEMM's packing (no transposed copies).
 */
import { MatMul, matmulGeometry } from '../../../kernels/matmul.js';
import { wasmKernel } from '../backend.js';

wasmKernel(MatMul, ([a, b], attrs, be) => {
  const { batch, M, N, K, aBatchStride, bBatchStride, outShape } = matmulGeometry(a.shape, b.shape, attrs);
  const ta = attrs.transposeA, tb = attrs.transposeB;
  const y = be.alloc(outShape);
  const pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
  for (let p = 0; p < batch; p++) {
    be.gemm(M, N, K, pa + p * aBatchStride * 4, ta ? M : K, ta, pb + p * bBatchStride * 4, tb ? K : N, tb, py + p * M * N * 4, N, false);
  }
  return y;
});
