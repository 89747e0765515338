/**
 * Registers the `webgpu` backend. Nothing here touches a GPU API or loads the WGSL kernels
 * when the module loads: `await setBackend('webgpu')` imports start.ts, which requests the
 * adapter and registers the kernels. A missing adapter rejects `setBackend` with the reason
 * and leaves the current backend as it was.
 */
import { registerBackend } from '../../registry/backends.js';
import type { WebGPUBackend } from './backend.js';

// One initialisation at a time; a failed one may be retried by a later setBackend.
let pending: Promise<WebGPUBackend> | null = null;
registerBackend(
  'webgpu',
  () => {
    if (!pending) {
      pending = import('./start.js').then((m) => m.createWebGPUBackend());
      pending.catch(() => {
        pending = null;
      });
    }
    return pending;
  },
  0,
);
