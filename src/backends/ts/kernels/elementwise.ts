/**
 * TRANSITION (delete once the activation and shape families have contracts): the two
 * helpers ts/kernels/activation.ts and ts/kernels/shape.ts still import from here. The
 * elementwise kernels themselves are contracts in src/kernels/elementwise.ts, whose
 * reference loops the ts backend runs.
 */
import { broadcastIndex as indexOf } from '../../../kernels/broadcast.js';
import { registerKernel } from '../../../registry/kernels.js';
import { allocArray } from '../../../tensor/dtype.js';
import { broadcastShapes } from '../../../tensor/shape.js';
import { out, vals } from '../backend.js';

type Attrs = Record<string, unknown>;

/** Register a unary kernel y[i] = f(x[i], attrs) on ts by name; the output keeps x's dtype. */
export function unaryKernel(name: string, f: (x: number, attrs: Attrs) => number): void {
  registerKernel({
    kernelName: name,
    backendName: 'ts',
    kernelFunc: ([x], attrs, be) => {
      const xv = vals(x);
      const y = allocArray(x.dtype, xv.length, x.shape);
      for (let i = 0; i < xv.length; i++) y[i] = f(xv[i], attrs);
      return out(be, y, x.shape, x.dtype);
    },
  });
}

/** For output index i of a broadcast of a and b, the flat index into each (see kernels/broadcast.ts). */
export function broadcastIndex(aShape: readonly number[], bShape: readonly number[]): { shape: number[]; ia: Int32Array; ib: Int32Array } {
  const shape = broadcastShapes(aShape, bShape);
  return { shape, ia: indexOf(aShape, shape), ib: indexOf(bShape, shape) };
}
