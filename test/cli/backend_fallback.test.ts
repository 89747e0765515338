/**
 * `--backend webgpu` on a machine without a GPU adapter: the run falls back to the best
 * CPU backend (wasm, which starts in Node; ts only where wasm cannot start), with a note
 * that names what runs instead and why. The missing adapter is simulated by registering
 * a webgpu backend whose start fails the way the real one does without an adapter.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/backends/webgpu/index.js'; // loaded first, so the stand-in below replaces it
import { registerBackend, setBackend } from '../../src/registry/backends.js';
import { cli } from '../util/cli.js';
import { chooseBackend } from '../../src/cli/backend_choice.js';

registerBackend('webgpu', () => Promise.reject(new Error('webgpu: no GPU adapter is available (requestAdapter returned null). In Node, install the optional peer package.')), 0);
afterAll(() => setBackend('ts'));


describe('--backend webgpu without an adapter', () => {
  it('chooseBackend falls back to wasm, not ts, and says so', async () => {
    const r = await chooseBackend('webgpu');
    expect(r.backend).toBe('wasm');
    expect(r.note).toBe("backend 'webgpu' is not available, so 'wasm' runs instead: no GPU adapter is available (requestAdapter returned null). In Node, install the optional peer package.");
  });

  it('train runs on wasm and reports it', async () => {
    const r = await cli('train', '--backend', 'webgpu', '--limit', '64', '--test-limit', '20', '--epochs', '1', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toContain("note: backend 'webgpu' is not available, so 'wasm' runs instead: no GPU adapter is available");
    expect(JSON.parse(r.out).backend).toBe('wasm');
  });

  it('verify does not fall back: checking webgpu means webgpu (exit 2)', async () => {
    const example = new URL('../vectors/example.json', import.meta.url).pathname;
    const r = await cli('verify', example, '--backend', 'webgpu');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/backend 'webgpu' is not available: webgpu: no GPU adapter/);
  });
});
