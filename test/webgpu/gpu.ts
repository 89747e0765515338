/**
 * WebGPU test harness: opens the `webgpu` backend once per test file and compares
 * kernels and ops on it with the ts oracle, reading GPU results with `await data()`.
 *
 * On machines without a GPU, Dawn runs on SwiftShader (Debian's chromium ships its
 * Vulkan ICD; libvulkan1 is the loader). VK_ICD_FILENAMES is pointed at it when the
 * caller has not chosen an ICD. When no adapter can be opened the suites are skipped
 * with the reason printed, unless CONVKIT_REQUIRE_WEBGPU=1 (CI), where that fails.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import * as ck from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import { mismatch, type Tol } from '../util/close.js';

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

export interface Input {
  values: ArrayLike<number>;
  shape: number[];
  dtype?: DType;
}

/** Deterministic pseudo-random values (xorshift), uniform in [lo, hi). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}

export const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Input => ({ values: rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape });
export const i32 = (values: number[], shape = [values.length]): Input => ({ values, shape, dtype: 'int32' });

function make(backend: string, x: Input): Tensor {
  return ck.withBackend(backend, () => ck.tensor(Array.from(x.values), x.shape, x.dtype ?? 'float32'));
}

/** Fallbacks recorded from webgpu (a kernel the training path needs must never be one). */
export function webgpuFallbacks(): string[] {
  return ck.getFallbacks().filter((f) => f.from === 'webgpu').map((f) => `${f.kernel} (${f.reason})`);
}

/**
 * Run kernel `name` on ts and on webgpu with the same inputs and compare every output
 * (shape, dtype and values; NaN and infinities by class).
 */
export async function compareKernel(name: string, inputs: Input[], attrs: Record<string, unknown> = {}, tol: Tol = {}): Promise<void> {
  const tsIn = inputs.map((x) => make('ts', x));
  const gpuIn = inputs.map((x) => make('webgpu', x));
  for (const t of gpuIn) expect(t.backend.name, `input of ${name} should live on webgpu`).toBe('webgpu');
  let expected: Tensor[] = [];
  let actual: Tensor[] = [];
  try {
    expected = ck.withBackend('ts', () => ck.runKernel(name, tsIn, attrs));
    ck.clearFallbacks();
    actual = ck.withBackend('webgpu', () => ck.runKernel(name, gpuIn, attrs));
    expect(webgpuFallbacks(), `${name} fell back to ts`).toEqual([]);
    expect(actual.length).toBe(expected.length);
    for (let j = 0; j < actual.length; j++) {
      expect(actual[j].backend.name).toBe('webgpu');
      expect(actual[j].shape, `${name} output ${j} shape`).toEqual(expected[j].shape);
      expect(actual[j].dtype, `${name} output ${j} dtype`).toBe(expected[j].dtype);
      const got = await actual[j].data();
      const m = mismatch(got, expected[j].dataSync(), tol);
      if (m) expect.fail(`${name} output ${j} ${JSON.stringify(attrs)} inputs ${inputs.map((x) => `[${x.shape}]`).join(' ')}: ${m}`);
    }
  } finally {
    for (const t of [...tsIn, ...gpuIn, ...expected, ...actual]) t.dispose();
  }
}

/** Values of a tensor on any backend. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
