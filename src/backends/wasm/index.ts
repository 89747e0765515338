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
import { instantiateAsync, instantiateSharedAsync, instantiateSharedSync, instantiateSync, pickVariant, type WasmVariant } from './loader.js';
import { checkThreads, defaultThreads, defaultThreadsAsync, threadsAvailable } from './threads.js';
import type { BackendOptions } from '../../tensor/backend.js';
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

/**
 * The wasm backend factory. Where memory can be shared with workers (Node; a browser
 * page that is cross-origin isolated) the module runs on a shared memory, so threads
 * can be turned on at any time (setBackend('wasm', { threads })). Called without options
 * (the default backend, on first use) it returns the backend at once and its workers
 * come up in the background (kernels run on one thread until then, with bitwise the same
 * results); with options (setBackend) the promise settles once they run.
 */
function factory(name: string, requested: WasmVariant | 'auto', fixedThreads?: number): (options?: BackendOptions) => WasmBackend | Promise<WasmBackend> {
  return (options) => {
    checkOptions(options);
    const asked = options?.threads ?? fixedThreads;
    const variant = pickVariant(requested);
    const shared = threadsAvailable().ok;
    let backend: WasmBackend;
    try {
      backend = new WasmBackend(shared ? instantiateSharedSync(variant) : instantiateSync(variant), name);
    } catch {
      return (shared ? instantiateSharedAsync(variant) : instantiateAsync(variant)).then(async (m) => {
        const b = new WasmBackend(m, name);
        await b.setThreads(asked ?? (await defaultThreadsAsync()));
        return b;
      });
    }
    if (options === undefined) {
      void backend.setThreads(asked ?? defaultThreads());
      return backend;
    }
    return (async () => {
      await backend.setThreads(asked ?? (await defaultThreadsAsync()));
      return backend;
    })();
  };
}

/** Reject options the wasm backend does not take, and a bad `threads`. */
export function checkOptions(options: BackendOptions | undefined): void {
  if (!options) return;
  for (const k of Object.keys(options)) if (k !== 'threads') throw new Error(`convkit wasm: unknown backend option '${k}' (options: threads)`);
  if (options.threads !== undefined) checkThreads(options.threads);
}

registerBackend('wasm', factory('wasm', 'auto'), 2);

/**
 * Register another instance of the wasm backend under `name`, running `variant` on
 * `threads` threads (default: the available cores; benchmarks and tests compare the plain
 * and relaxed-SIMD builds, and one thread against all, side by side).
 * Every kernel registered for 'wasm' at the time of the call is registered for it too.
 */
export function registerWasmVariant(name: string, variant: WasmVariant, threads?: number): void {
  if (threads !== undefined) checkThreads(threads);
  registerBackend(name, factory(name, variant, threads), -1);
  copyKernels('wasm', name);
}

export { WasmBackend };
export type { WasmData } from './backend.js';
export { wasmVariantSupported, type WasmVariant } from './loader.js';
