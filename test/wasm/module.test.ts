/**
 * The committed WASM modules: built from the AssemblyScript sources in the tree (a
 * hash check, no rebuild), loadable here, and the relaxed-SIMD build correct. Node 20
 * runs relaxed SIMD only behind --experimental-wasm-relaxed-simd, which vitest's
 * workers lack, so that check runs in a child process (test/wasm/relaxed-check.mjs).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ck from '../../src/index.js';
import { SOURCE_SHA256 as SIMD_HASH } from '../../src/backends/wasm/generated/module_simd.js';
import { SOURCE_SHA256 as RELAXED_HASH } from '../../src/backends/wasm/generated/module_relaxed.js';
import { wasmVariantSupported, type WasmBackend } from '../../src/backends/wasm/index.js';
// @ts-expect-error: plain .mjs build script without type declarations
import { sourceHash } from '../../scripts/embed-wasm.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('committed wasm modules', () => {
  it('were built from the assembly/ sources in this tree (run `npm run build:wasm` if not)', () => {
    const h = sourceHash(root);
    expect(SIMD_HASH, 'module_simd.ts is stale: npm run build:wasm').toBe(h);
    expect(RELAXED_HASH, 'module_relaxed.ts is stale: npm run build:wasm').toBe(h);
  });

  it('the plain SIMD build loads and the backend reports its variant', () => {
    expect(wasmVariantSupported('simd')).toBe(true);
    const be = ck.withBackend('wasm', () => ck.backend()) as unknown as WasmBackend;
    expect(be.variant).toBe(wasmVariantSupported('relaxed') ? 'relaxed' : 'simd');
  });

  it('the relaxed-SIMD build: GEMM vs its reference, convolutions vs the plain build (child process)', () => {
    // engines that run relaxed SIMD by default (Node >= 22) need no flag (and may not know it)
    const flags = wasmVariantSupported('relaxed') ? [] : ['--experimental-wasm-relaxed-simd'];
    const r = spawnSync(process.execPath, [...flags, 'test/wasm/relaxed-check.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res.failures).toEqual([]);
    expect([res.mr, res.nr]).toEqual([6, 8]);
    expect(res.checks).toBeGreaterThan(100);
  });
});
