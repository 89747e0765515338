/**
 * Index plumbing shared by the wasm elementwise and data-movement kernels: strides of
 * a broadcast input, collapsing of dims that every operand walks alike, and the split
 * of a walk into calls on 4-dim boxes (the AssemblyScript kernels take 4 dims; the
 * host loops over any dims before them, which only unusual broadcasts need).
 */
import { stridesOf } from '../../../tensor/shape.js';

/** Element strides of `inShape` broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - inShape.length;
  const st = stridesOf(inShape);
  return outShape.map((_, d) => (d < lead || inShape[d - lead] === 1 ? 0 : st[d - lead]));
}

export interface Walk {
  /** Sizes of the collapsed dims (at least one dim). */
  shape: number[];
  /** One stride list per operand, aligned with shape. */
  strides: number[][];
}

/**
 * Drop size-1 dims and merge neighbours d, d+1 when every operand steps over d exactly
 * like over d+1 collapsed (stride[d] == stride[d+1] * shape[d+1]).
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Walk {
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
  if (!dims.length) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: st };
}

/**
 * Call `f(offsets, dims4, strides4)` for 4-dim boxes covering the walk: offsets are
 * element offsets per operand, dims4 the box's 4 sizes, strides4 each operand's 4
 * strides. Walks of rank <= 4 are one call.
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
