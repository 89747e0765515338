/**
 * Opening the `webgpu` backend in tests. On machines without a GPU, Dawn runs on
 * SwiftShader (Debian's chromium ships its Vulkan ICD; libvulkan1 is the loader):
 * VK_ICD_FILENAMES is pointed at it when the caller has not chosen an ICD. When no
 * adapter can be opened the callers skip with the reason printed, unless
 * CONVKIT_REQUIRE_WEBGPU=1 (CI), where that fails.
 */
import { existsSync } from 'node:fs';
import * as ck from '../../src/index.js';
import { afterAll, beforeAll } from 'vitest';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface GpuStatus {
  ok: boolean;
  reason: string;
  required: boolean;
}

/** Try to open the webgpu backend (the current backend stays `ts`). */
export async function openWebGPU(): Promise<GpuStatus> {
  const required = process.env.CONVKIT_REQUIRE_WEBGPU === '1';
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  try {
    await ck.setBackend('webgpu');
    await ck.setBackend('ts');
    return { ok: true, reason: '', required };
  } catch (e) {
    await ck.setBackend('ts');
    const reason = (e as Error).message;
    if (required) throw new Error(`CONVKIT_REQUIRE_WEBGPU=1 but the webgpu backend cannot start: ${reason}`);
    console.warn(`webgpu tests skipped: ${reason}`);
    return { ok: false, reason, required };
  }
}

/**
 * Inside a describe block: make `backend` current for its tests (opening webgpu first, on
 * SwiftShader where no GPU is present) and restore the previous backend after. Returns the
 * status, read by the tests (`if (!gpu.ok) ctx.skip(...)`); for ts and wasm it is always ok.
 */
export function useBackend(backend: string): GpuStatus {
  const gpu: GpuStatus = { ok: true, reason: '', required: false };
  let prev = 'ts';
  beforeAll(async () => {
    prev = ck.getBackend();
    if (backend === 'webgpu') Object.assign(gpu, await openWebGPU());
    if (gpu.ok) await ck.setBackend(backend);
  });
  afterAll(async () => {
    await ck.setBackend(prev);
  });
  return gpu;
}
