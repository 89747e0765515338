/**
 * Tensors whose values are generated on the host (random draws, ranges, dropout masks),
 * written into their storage a chunk at a time. Internal to the ops (not exported).
 */
import { fromValues } from '../registry/storage.js';
import { Fill } from '../kernels/elementwise.js';
import { outputOf } from '../registry/dispatch.js';
import type { DType } from '../tensor/dtype.js';
import { allocArray } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Run `fn`; an out-of-memory RangeError it throws gets `op: ` in front (the kernel alone is named otherwise). */
export function namingOutOfMemory<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError && /out of memory/.test(e.message) && !e.message.startsWith(`${op}: `)) e.message = `${op}: ${e.message}`;
    throw e;
  }
}

/** Values generated per chunk by `fromChunks`: 512 KB of float64 scratch, whatever the tensor's size. */
export const GENERATE_CHUNK = 1 << 16;

/**
 * A tensor of `shape` whose values `gen` produces in row-major order, GENERATE_CHUNK at a
 * time: `gen(chunk, offset)` fills all of `chunk` (the last one is shorter) with the values
 * of elements offset, offset + 1, ... Each value is converted to `dtype` as typed-array
 * assignment does, so the result equals building the whole float64 array and converting it.
 * The storage is allocated first and written chunk by chunk (Backend.writeRange), so a big
 * tensor costs its storage and one chunk, not a float64 copy and a converted one on the JS
 * heap as well. A backend without writeRange gets one array of the final dtype, copied in.
 */
export function fromChunks(op: string, shape: readonly number[], dtype: DType, gen: (chunk: Float64Array, offset: number) => void): Tensor {
  const n = sizeOf(shape);
  const scratch = new Float64Array(Math.min(n, GENERATE_CHUNK));
  const each = (write: (chunk: Float64Array, offset: number) => void) => {
    for (let off = 0; off < n; off += scratch.length) {
      const chunk = n - off < scratch.length ? scratch.subarray(0, n - off) : scratch;
      gen(chunk, off);
      write(chunk, off);
    }
  };
  // The storage lands where Fill runs: the current backend, or ts when it cannot hold dtype.
  const t = namingOutOfMemory(op, () => outputOf(Fill, [], { shape: [...shape], dtype, value: 0 }));
  const be = t.backend;
  if (be.writeRange) {
    each((chunk, off) => be.writeRange!(t.dataId, dtype, off, chunk));
    return t;
  }
  t.dispose();
  const arr = namingOutOfMemory(op, () => allocArray(dtype, n, shape));
  each((chunk, off) => arr.set(chunk, off));
  return fromValues(arr, shape, dtype);
}

