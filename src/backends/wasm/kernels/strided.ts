/**
 * Index plumbing of the wasm elementwise and data-movement kernels: the split of a
 * collapsed strided walk (kernels/broadcast.ts, shared with webgpu) into calls on 4-dim
 * boxes (the AssemblyScript kernels take 4 dims; the host loops over any dims before
 * them, which only unusual broadcasts need).
 */
import { broadcastStrides, collapse, type StridedWalk } from '../../../kernels/broadcast.js';
import { RANGE_ALIGN, type RangeSplit } from '../threads.js';
import { FLOPS_PER_FLOAT_MOVED, type ThreadedExport, type WasmBackend } from '../backend.js';

export { broadcastStrides, collapse };
export type Walk = StridedWalk;

/**
 * Call `f(offsets, dims4, strides4)` for 4-dim boxes covering the walk: offsets are
 * element offsets per operand, dims4 the box's 4 sizes, strides4 each operand's 4
 * strides. Walks of rank <= 4 are one call (rank 0, every axis of size 1, included).
 */
export function forEachBox(w: Walk, f: (offsets: number[], dims: number[], strides: number[][]) => void): void {
  const r = w.shape.length;
  const lead = Math.max(0, r - 4);
  const pad = 4 - (r - lead);
  const dims = [...new Array(pad).fill(1), ...w.shape.slice(lead)];
  const strides = w.strides.map((s) => [...new Array(pad).fill(0), ...s.slice(lead)]);
  const outer = w.shape.slice(0, lead);
  const idx = new Array(lead).fill(0);
  const total = outer.reduce((a, b) => a * b, 1);
  for (let i = 0; i < total; i++) {
    const offsets = w.strides.map((s) => idx.reduce((acc, v, d) => acc + v * s[d], 0));
    f(offsets, dims, strides);
    for (let d = lead - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
}

/**
 * How to share one 4-dim box call among threads (WasmBackend.parallelSplit): on its
 * outermost axis longer than 1 (every axis before it has size 1, so each thread's part is
 * again a box: the same call with fewer of that axis and its pointers advanced).
 * `dims4Arg` is the argument index of dims4[0]; `ptrArgs[i]` that of operand i's pointer,
 * whose strides4 are `strides4[i]`. Parts of the innermost axis start at multiples of 16
 * elements (the SIMD tail stays where it is on one thread). Null when the box is one element.
 */
export function boxSplit(dims4: readonly number[], strides4: readonly (readonly number[])[], dims4Arg: number, ptrArgs: readonly number[]): RangeSplit | null {
  const k = dims4.findIndex((d) => d > 1);
  if (k < 0) return null;
  return { nArg: dims4Arg + k, strides: ptrArgs.map((arg, i) => [arg, 4 * strides4[i][k]] as const), align: k === 3 ? RANGE_ALIGN : 1 };
}

/**
 * Call box export `name` (`args[dims4Arg..dims4Arg + 3]` its dims, `ptrArgs` its operand
 * pointers with `strides4`) shared among the threads along boxSplit's axis when it is big
 * enough (WasmBackend.parallelSplit's cut-over, `floatsPerElement` floats moved per
 * element), else on this thread.
 */
export function runBox(
  be: WasmBackend, name: ThreadedExport, args: number[], dims4Arg: number, ptrArgs: readonly number[],
  strides4: readonly (readonly number[])[], floatsPerElement: number,
): void {
  const dims4 = args.slice(dims4Arg, dims4Arg + 4);
  const split = boxSplit(dims4, strides4, dims4Arg, ptrArgs);
  if (split) be.parallelSplit(name, args, split, floatsPerElement * FLOPS_PER_FLOAT_MOVED * dims4[0] * dims4[1] * dims4[2] * dims4[3]);
  else be.wasm[name](...args);
}
