/**
 * Index arithmetic of a broadcast, shared by every backend (the one copy):
 *   - `broadcastStrides`: an input's element strides when read as broadcast to the
 *     output shape (0 on the axes it is broadcast along, NumPy's rules);
 *   - `collapse`: a strided walk with size-1 axes dropped and neighbouring axes merged
 *     where every operand steps through them contiguously, so most walks have rank 1 to
 *     3 (the wasm host splits them into 4-dim boxes, the WebGPU kernels index them);
 *   - `broadcastIndex`: the flat input index of every output element, which the
 *     reference loops read (plain loops keep the oracle obviously right).
 */
import { sizeOf, stridesOf } from '../tensor/shape.js';

/** Element strides of `inShape` broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - inShape.length;
  const st = stridesOf(inShape);
  return outShape.map((_, d) => (d < lead || inShape[d - lead] === 1 ? 0 : st[d - lead]));
}

/** A strided walk over `shape`: for each operand its element stride per axis. */
export interface StridedWalk {
  /** Sizes of the collapsed axes (empty when every axis had size 1). */
  shape: number[];
  /** One stride list per operand, aligned with shape. */
  strides: number[][];
}

/**
 * Drop size-1 axes and merge neighbours d, d+1 when every operand steps over d exactly
 * like over d+1 collapsed (stride[d] == stride[d+1] * shape[d+1]); a merged axis keeps
 * the inner stride.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): StridedWalk {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = dims.length - 1;
    if (k >= 0 && strides.every((s, j) => st[j][k] === s[d] * shape[d])) {
      dims[k] *= shape[d];
      strides.forEach((s, j) => (st[j][k] = s[d]));
      continue;
    }
    dims.push(shape[d]);
    strides.forEach((s, j) => st[j].push(s[d]));
  }
  return { shape: dims, strides: st };
}

/** For each flat index of `outShape`, the flat index of the element of `inShape` it reads. */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = sizeOf(outShape);
  const rank = outShape.length;
  const st = broadcastStrides(inShape, outShape);
  const index = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) o += idx[d] * st[d];
    index[i] = o;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return index;
}
