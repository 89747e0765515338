/**
 * Registers the `wasm` backend (float32 in WebAssembly linear memory, SIMD kernels)
 * and its kernels. It is the default backend wherever its SIMD build validates
 * (priority 2, above `ts`): in Node it starts synchronously on first use; in a
 * browser main thread (which refuses synchronous compilation of large modules)
 * after `await ready()` (or `await setBackend('wasm')`).
 */
import { registerBackend } from '../../registry/backends.js';
import { copyKernels, wrapKernels } from '../../registry/kernels.js';
import { WasmBackend } from './backend.js';
import { instantiateAsync, instantiateSync, pickVariant, type WasmVariant } from './loader.js';
import './kernels/matmul.js';
import './kernels/conv.js';
import './kernels/elementwise.js';
import './kernels/reduce.js';
import './kernels/shape.js';
import './kernels/pool.js';
import './kernels/nn.js';
import './kernels/optim.js';

// Every wasm kernel runs guarded: if it throws (out of memory included) after allocating
// outputs or scratch, those are released, so a failed op leaves no live storage behind
// (and an out-of-memory error names the kernel).
wrapKernels('wasm', (k, f) => (inputs, attrs, backend) => (backend as WasmBackend).guardKernel(k, () => f(inputs, attrs, backend)));

function factory(name: string, requested: WasmVariant | 'auto'): () => WasmBackend | Promise<WasmBackend> {
  return () => {
    const variant = pickVariant(requested);
    let backend: WasmBackend;
    try {
      backend = new WasmBackend(instantiateSync(variant), name);
    } catch {
      return instantiateAsync(variant).then((m) => new WasmBackend(m, name));
    }
    return backend;
  };
}

registerBackend('wasm', factory('wasm', 'auto'), 2);

/**
 * Register another instance of the wasm backend under `name`, running `variant`
 * (benchmarks and tests compare the plain and relaxed-SIMD builds side by side).
 * Every kernel registered for 'wasm' at the time of the call is registered for it too.
 */
export function registerWasmVariant(name: string, variant: WasmVariant): void {
  registerBackend(name, factory(name, variant), -1);
  copyKernels('wasm', name);
}

export { WasmBackend };
export type { WasmData } from './backend.js';
export { wasmVariantSupported, type WasmVariant } from './loader.js';
