/**
 * The shared op suite runs over every backend: ts (the oracle), wasm and webgpu (on
 * SwiftShader where no GPU is present). Backends start asynchronously (webgpu has no
 * synchronous start), so tests read results with `await read(t)` / `await readNested(t)`,
 * which works on every backend. A backend that cannot start (no WebGPU adapter) is
 * reported as skipped with its reason, never silently dropped; CONVKIT_REQUIRE_WEBGPU=1
 * makes a missing adapter fail. Kernel-level conformance (every kernel, random draws,
 * float64 reference) is test/kernels.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import * as ck from '../../src/index.js';
import type { NestedArray, Tensor } from '../../src/index.js';
import { openWebGPU } from './webgpu.js';

/** Backends the shared op suite runs on: CONVKIT_TEST_BACKENDS (comma-separated) or ts, wasm, webgpu. */
export const OP_BACKENDS: string[] = (process.env.CONVKIT_TEST_BACKENDS ?? 'ts,wasm,webgpu').split(',');

/** Start `name`; null when it runs, else why not. */
async function start(name: string): Promise<string | null> {
  if (name === 'webgpu') {
    const s = await openWebGPU(); // throws when CONVKIT_REQUIRE_WEBGPU=1 and no adapter opens
    return s.ok ? null : s.reason;
  }
  try {
    await ck.setBackend(name);
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await ck.setBackend('ts');
  }
}

/**
 * describe() once per backend, started asynchronously before its tests, with that
 * backend current inside every test of it; a backend that cannot start skips its tests.
 */
export function describeOnBackends(title: string, body: (backend: string) => void): void {
  for (const b of OP_BACKENDS) {
    describe(`${title} [${b}]`, () => {
      let skipped: string | null = null;
      let prev = 'ts';
      beforeAll(async () => {
        skipped = await start(b);
        if (skipped) console.warn(`${title} [${b}] skipped: ${skipped}`);
      });
      beforeEach((ctx) => {
        if (skipped) ctx.skip(`${b}: ${skipped}`);
        prev = ck.getBackend();
        ck.setBackendSync(b);
      });
      afterEach(() => ck.setBackendSync(prev));
      body(b);
    });
  }
}

/**
 * `describe(title [backend])` for each CPU backend (ts, wasm), the backend current for the
 * whole block: for tests that read synchronously (dataSync) or hold state across tests.
 */
export function describeOnCpuBackends(title: string, body: (backend: string) => void): void {
  for (const b of ['ts', 'wasm']) {
    describe(`${title} [${b}]`, () => {
      let prev = 'ts';
      beforeAll(async () => {
        prev = ck.getBackend();
        await ck.setBackend(b);
      });
      afterAll(async () => {
        await ck.setBackend(prev);
      });
      body(b);
    });
  }
}

/** Run fn with `backend` current. */
export function on<T>(backend: string, fn: () => T): T {
  return ck.withBackend(backend, fn);
}

/** A tensor's values, flat, on any backend. */
export async function read(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** A tensor's values as nested arrays of its shape, on any backend. */
export async function readNested(t: Tensor): Promise<NestedArray> {
  const flat = await read(t);
  const build = (d: number, off: number): NestedArray => {
    if (d === t.shape.length) return flat[off];
    const stride = t.shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[d] }, (_, i) => build(d + 1, off + i * stride));
  };
  return build(0, 0);
}
