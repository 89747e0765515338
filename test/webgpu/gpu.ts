/**
 * WebGPU test helpers: opening the backend (test/util/webgpu.ts: SwiftShader where no
 * GPU is present; CONVKIT_REQUIRE_WEBGPU=1 makes a missing adapter fail) and reading
 * what ran where. Kernels are compared with the reference through the conformance
 * harness (test/kernels/harness.ts), which reads GPU results with `await data()`.
 */
import * as ck from '../../src/index.js';

export { openWebGPU, type GpuStatus } from '../util/webgpu.js';

/** Fallbacks recorded from webgpu (a kernel the training path needs must never be one). */
export function webgpuFallbacks(): string[] {
  return ck.getFallbacks().filter((f) => f.from === 'webgpu').map((f) => `${f.kernel} (${f.reason})`);
}

