/**
 * MatMul on `webgpu`: rank 2, or rank 3 batched (a batch of 1 broadcasts), with either
 * operand transposed, through the tiled GEMM (see gemm.ts). A transposed operand is
 * read in place by its loader; nothing is copied.
 */
import { MatMul, matmulGeometry } from '../../../kernels/matmul.js';
import { gpu } from '../backend.js';
import { gemm, type GemmLoaders } from './gemm.js';
import { registerFloat } from './util.js';

const loaders = new Map<string, GemmLoaders>();

function matmulLoaders(ta: boolean, tb: boolean): GemmLoaders {
  const key = `matmul:${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;
  let l = loaders.get(key);
  if (!l) {
    l = {
      key,
      inputs: [
        { name: 'A', type: 'f32', access: 'read' },
        { name: 'B', type: 'f32', access: 'read' },
      ],
      params: [{ name: 'astride', type: 'u32' }, { name: 'bstride', type: 'u32' }],
      loadA: `fn load_a(b: u32, m: u32, k: u32) -> f32 { return A[b * u.astride + ${ta ? 'k * u.M + m' : 'm * u.K + k'}]; }`,
      loadB: `fn load_b(b: u32, k: u32, n: u32) -> f32 { return B[b * u.bstride + ${tb ? 'n * u.K + k' : 'k * u.N + n'}]; }`,
      aFast: ta ? 'm' : 'k',
      bFast: tb ? 'k' : 'n',
    };
    loaders.set(key, l);
  }
  return l;
}

registerFloat(MatMul, ([a, b], attrs, be) => {
  const { batch, M, N, K, aBatchStride, bBatchStride, outShape } = matmulGeometry(a.shape, b.shape, attrs);
  const y = be.output(outShape, 'float32');
  gemm(be, matmulLoaders(attrs.transposeA, attrs.transposeB), [gpu(a), gpu(b)], y.dataId, { batch, M, N, K, sb: M * N, sm: N, sn: 1 }, {
    astride: aBatchStride,
    bstride: bBatchStride,
  });
  return y;
});
