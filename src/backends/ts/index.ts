/** Registers the `ts` backend and all its kernels. */
import { registerBackend } from '../../registry/backends.js';
import { registerKernel, wrapKernels } from '../../registry/kernels.js';
import { allKernels } from '../../kernels/index.js';
import { OutOfMemoryError, isEngineAllocationError } from '../../tensor/dtype.js';
import { TsBackend, vals } from './backend.js';

// The ts backend runs each contract's reference loops (src/kernels): its kernels are the
// definitions themselves, the oracle every other backend is tested against.
for (const k of allKernels()) {
  registerKernel(k, 'ts', (inputs, attrs, be) => {
    const ts = be as TsBackend;
    const outs = k.reference(inputs.map((t) => ({ values: vals(t), shape: t.shape, dtype: t.dtype })), attrs);
    return Array.isArray(outs) ? outs.map((o) => ts.adopt(o)) : ts.adopt(outs);
  });
}

// Every ts kernel names itself when it runs out of memory: an OutOfMemoryError from
// allocArray (what was asked for: dtype, shape, bytes), or the JS engine's own "Invalid typed
// array length" from a scratch array, becomes a RangeError naming the kernel and its inputs.
wrapKernels('ts', (k, f) => (inputs, attrs, backend) => {
  try {
    return f(inputs, attrs, backend);
  } catch (e) {
    if (!(e instanceof OutOfMemoryError) && !isEngineAllocationError(e)) throw e;
    const ins = inputs.map((t) => `[${t.shape.join(', ')}] ${t.dtype}`).join(', ');
    const what = e instanceof OutOfMemoryError ? e.message : `out of memory allocating a scratch buffer (${e.message})`;
    throw new RangeError(`${k} (kernel on 'ts'${ins ? `, inputs ${ins}` : ''}): ${what}`, { cause: e });
  }
});

registerBackend('ts', () => new TsBackend(), 1);
export { TsBackend };
