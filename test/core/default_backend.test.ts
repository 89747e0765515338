/**
 * The default backend (TF.js's tf.ready() / tf.getBackend() semantics): with no
 * setBackend, ops run on the fastest CPU backend that starts, wasm where its SIMD build
 * validates, ts otherwise; webgpu is opt-in. Each case imports a fresh copy of the
 * library (vi.resetModules), so the suite's setup file (which selects ts) does not apply.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

async function freshConvkit(): Promise<typeof import('../../src/index.js')> {
  vi.resetModules();
  return import('../../src/index.js');
}

afterEach(() => vi.restoreAllMocks());

describe('the default backend', () => {
  it('is wasm in Node, chosen synchronously on first use, and getBackend() returns its name', async () => {
    const ck = await freshConvkit();
    const t = ck.tensor([1, 2, 3]);
    expect(ck.getBackend()).toBe('wasm');
    expect(typeof ck.getBackend()).toBe('string');
    expect(ck.backend().name).toBe('wasm');
    expect(t.backend.name).toBe('wasm');
    expect(ck.add(t, t).toArray()).toEqual([2, 4, 6]);
    expect(await ck.ready()).toBe('wasm');
  });

  it("ready() keeps an explicit choice, and setBackend('ts') still selects the oracle", async () => {
    const ck = await freshConvkit();
    await ck.setBackend('ts');
    expect(await ck.ready()).toBe('ts');
    expect(ck.getBackend()).toBe('ts');
    expect(ck.tensor([1]).backend.name).toBe('ts');
  });

  it('is ts where WebAssembly SIMD does not validate', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const ck = await freshConvkit();
    expect(ck.getBackend()).toBe('ts');
    expect(await ck.ready()).toBe('ts');
    expect(ck.mul(ck.tensor([2]), 3).item()).toBe(6);
  });

  it('never picks webgpu implicitly', async () => {
    const ck = await freshConvkit();
    expect(ck.listBackends()).toContain('webgpu');
    await ck.ready();
    expect(ck.getBackend()).not.toBe('webgpu');
  });
});
