/**
 * Reductions on `wasm` (assembly/reduce_f32.ts): Sum, Max, Min and Prod over any set of
 * axes. The shape is collapsed into alternating kept/reduced groups; each reduced group
 * is one [A, K, B] pass of the SIMD kernel (innermost group first), so the cases that
 * matter (all axes, last axis, leading axes, NHWC global pooling over H and W) are a
 * single pass. Sums flush f32 SIMD partials into f64 (see the kernel).
 */
import { Max, Min, Prod, Sum, reduction, type ReduceAttrs } from '../../../kernels/reduce.js';
import type { Kernel } from '../../../kernels/kernel.js';
import { REDUCE_OP } from '../../../kernels/wasm_abi.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { sizeOf } from '../../../tensor/shape.js';
import { FLOPS_PER_FLOAT_MOVED, wasmKernel, type WasmBackend } from '../backend.js';

/** The reductions and their codes in reduce_f32 (src/kernels/wasm_abi.ts). */
const OPS: [Kernel<ReduceAttrs>, number][] = [[Sum, REDUCE_OP.sum], [Max, REDUCE_OP.max], [Min, REDUCE_OP.min], [Prod, REDUCE_OP.prod]];

/** Collapse to groups [size, reduced] (size-1 dims dropped, neighbours of one kind merged). */
export function reductionGroups(shape: readonly number[], axes: readonly number[]): [number, boolean][] {
  const groups: [number, boolean][] = [];
  shape.forEach((n, d) => {
    if (n === 1) return;
    const red = axes.includes(d);
    const last = groups[groups.length - 1];
    if (last && last[1] === red) last[0] *= n;
    else groups.push([n, red]);
  });
  return groups;
}

/** Reduce x over `axes` into a fresh tensor of `outShape`. */
export function reduceOp(be: WasmBackend, code: number, x: TensorInfo, axes: readonly number[], outShape: readonly number[]): TensorInfo {
  let groups = reductionGroups(x.shape, axes);
  const outSize = sizeOf(outShape);
  if (outSize === 0) return be.alloc(outShape);
  // No reduced group (reducing size-1 dims only, or no axes): still one K = 1 pass.
  if (!groups.some((g) => g[1])) groups = [[sizeOf(x.shape), false], [1, true]];
  let src = x;
  const temps: TensorInfo[] = [];
  try {
    while (true) {
      let r = -1;
      for (let i = groups.length - 1; i >= 0; i--) if (groups[i][1]) { r = i; break; }
      const A = groups.slice(0, r).reduce((p, g) => p * g[0], 1);
      const K = groups[r][0];
      const B = groups.slice(r + 1).reduce((p, g) => p * g[0], 1);
      groups = [...groups.slice(0, r), ...groups.slice(r + 1)];
      const done = !groups.some((g) => g[1]);
      const dst = done ? be.alloc(outShape) : be.alloc([A * B]);
      // threads take blocks of A (each output element is one thread's sum, in the same order)
      be.parallelSplit('reduce_f32', [code, be.ptr(src), be.ptr(dst), A, K, B], { nArg: 3, strides: [[1, 4 * K * B], [2, 4 * B]], align: 1 }, FLOPS_PER_FLOAT_MOVED * A * K * B);
      if (done) return dst;
      temps.push(dst);
      src = dst;
      // merge kept neighbours that became adjacent
      const merged: [number, boolean][] = [];
      for (const g of groups) {
        const last = merged[merged.length - 1];
        if (last && last[1] === g[1]) last[0] *= g[0];
        else merged.push([g[0], g[1]]);
      }
      groups = merged;
    }
  } finally {
    for (const t of temps) be.disposeData(t.dataId);
  }
}

for (const [kernel, code] of OPS) {
  wasmKernel(kernel, ([x], attrs, be) => {
    const { axes, outShape } = reduction(x.shape, attrs);
    return reduceOp(be, code, x, axes, outShape);
  });
}
