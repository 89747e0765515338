/**
 * MatMul on `webgpu`: rank 2, or rank 3 batched (a batch of 1 broadcasts), with either
 * operand transposed, through the tiled GEMM (see gemm.ts). A transposed operand is
 * read in place by its loader; nothing is copied.
 */
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

registerFloat('MatMul', ([a, b], attrs, be) => {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new TypeError(`MatMul on webgpu: float32 operands expected, received ${a.dtype} and ${b.dtype}`);
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  const batched = a.shape.length === 3 || b.shape.length === 3;
  const as = a.shape.length === 3 ? a.shape : [1, ...a.shape];
  const bs = b.shape.length === 3 ? b.shape : [1, ...b.shape];
  const batch = Math.max(as[0], bs[0]);
  const M = ta ? as[2] : as[1], K = ta ? as[1] : as[2];
  const N = tb ? bs[1] : bs[2];
  const y = be.output(batched ? [batch, M, N] : [M, N], 'float32');
  gemm(be, matmulLoaders(ta, tb), [gpu(a), gpu(b)], y.dataId, { batch, M, N, K, sb: M * N, sm: N, sn: 1 }, {
    astride: as[0] === 1 ? 0 : M * K,
    bstride: bs[0] === 1 ? 0 : K * N,
  });
  return y;
});
