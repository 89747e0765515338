/**
 * The peer implementations the benchmark compares against: TensorFlow.js with its
 * WASM backend (XNNPACK, single thread) and its CPU backend. They are loaded through
 * require(): their Node builds are CommonJS, and every package must share one
 * tfjs-core instance (its kernel registry).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

const require = createRequire(import.meta.url);
let tf: Tf | null = null;
const ready = new Map<string, Promise<string | null>>();

export function tfjs(): Tf {
  if (!tf) {
    tf = require('@tensorflow/tfjs-core');
    require('@tensorflow/tfjs-backend-cpu');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const dist = fileURLToPath(new URL('.', 'file://' + require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')));
    wasm.setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
    // single thread on both sides: the targets compare single-thread kernels
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  return tf;
}

/** Switch tfjs to `backend` ('wasm' or 'cpu'); resolves to null, or the reason it cannot run. */
export async function useTfBackend(backend: 'wasm' | 'cpu'): Promise<string | null> {
  const t = tfjs();
  if (!ready.has(backend)) {
    ready.set(backend, (async () => {
      try {
        const ok = await t.setBackend(backend);
        await t.ready();
        return ok ? null : `tfjs backend ${backend} failed to start`;
      } catch (e) {
        return `tfjs backend ${backend}: ${(e as Error).message}`;
      }
    })());
  }
  const err = await ready.get(backend)!;
  if (!err) {
    await t.setBackend(backend);
    await t.ready();
  }
  return err;
}

export function tfHasKernel(name: string, backend: string): boolean {
  return !!tfjs().getKernel(name, backend);
}
