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
import { encodeWasmPatch, sourceHash } from '../../scripts/embed-wasm.mjs';
import { wasmBytes } from '../../src/backends/wasm/loader.js';
import { applyWasmPatch, fnv1a32 } from '../../src/backends/wasm/wasm_patch.js';
import { wasmFilesEnv } from '../util/wasm_files.js';
import { rand } from '../util/rand.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('committed wasm modules', () => {
  it('were built from the assembly/ sources in this tree (run `npm run build:wasm` if not)', () => {
    const h = sourceHash(root);
    expect(SIMD_HASH, 'module_simd.ts is stale: npm run build:wasm').toBe(h);
    expect(RELAXED_HASH, 'module_relaxed.ts is stale: npm run build:wasm').toBe(h);
  });

  it('the relaxed build is a small patch against the plain one, rebuilt to a module that validates where relaxed SIMD runs', () => {
    const simd = wasmBytes('simd'), relaxed = wasmBytes('relaxed');
    expect(relaxed.length).toBeGreaterThan(90_000);
    expect(Buffer.from(relaxed).equals(Buffer.from(simd))).toBe(false);
    // same module header and version
    expect([...relaxed.subarray(0, 8)]).toEqual([...simd.subarray(0, 8)]);
    if (wasmVariantSupported('relaxed')) expect(WebAssembly.validate(relaxed)).toBe(true);
  });

  it('wasm patch: encode (build script) then apply (loader) gives the target back, for edits, shifts and unrelated data', () => {
    const bytes = (n: number, seed: number) => Uint8Array.from(rand(n, seed, 0, 256), Math.floor);
    const base = bytes(5000, 7);
    const cases: Uint8Array[] = [
      base.slice(),
      Uint8Array.from([...base.subarray(0, 1000), 1, 2, 3, ...base.subarray(1000, 4000), ...base.subarray(4100)]), // insert, delete
      Uint8Array.from(base.map((v, i) => (i % 777 === 5 ? v ^ 0xff : v))), // scattered edits
      bytes(300, 9), // nothing in common
      new Uint8Array(0),
    ];
    for (const target of cases) {
      const patch = encodeWasmPatch(base, target) as Uint8Array;
      expect([...applyWasmPatch(base, patch)]).toEqual([...target]);
    }
    // the edited targets cost far less than themselves
    expect((encodeWasmPatch(base, cases[2]) as Uint8Array).length).toBeLessThan(500);
  });

  it('wasm patch: the wrong base, a corrupt or truncated patch are errors, never a module', () => {
    const base = Uint8Array.from(rand(2000, 8, 0, 256), Math.floor);
    const target = Uint8Array.from([...base.subarray(0, 900), 9, 9, 9, ...base.subarray(900)]);
    const patch = encodeWasmPatch(base, target) as Uint8Array;
    const other = base.map((v, i) => (i === 100 ? v ^ 1 : v));
    expect(() => applyWasmPatch(other, patch)).toThrow(/hash mismatch/);
    expect(() => applyWasmPatch(base, patch.subarray(0, patch.length - 1))).toThrow(/does not apply/);
    expect(() => applyWasmPatch(base, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(/CKWP/);
    expect(fnv1a32(new Uint8Array(0))).toBe(0x811c9dc5);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe(0xe40c292c); // the published FNV-1a 32 test vector
  });

  it('the plain SIMD build loads and the backend reports its variant', () => {
    expect(wasmVariantSupported('simd')).toBe(true);
    const be = ck.withBackend('wasm', () => ck.backend()) as unknown as WasmBackend;
    expect(be.variant).toBe(wasmVariantSupported('relaxed') ? 'relaxed' : 'simd');
  });

  it('the relaxed-SIMD build: GEMM vs its reference, convolutions vs the plain build (child process)', () => {
    // engines that run relaxed SIMD by default (Node >= 22) need no flag (and may not know it)
    const flags = wasmVariantSupported('relaxed') ? [] : ['--experimental-wasm-relaxed-simd'];
    const r = spawnSync(process.execPath, [...flags, 'test/wasm/relaxed-check.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000, env: wasmFilesEnv() });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res.failures).toEqual([]);
    expect([res.mr, res.nr]).toEqual([6, 8]);
    expect(res.checks).toBeGreaterThan(100);
  });
});
